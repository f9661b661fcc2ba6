/**
 * `ase start` processes in cluster mode for tests: each started with its own config directory,
 * data port and management port, all of them (and their backends, directories and Redis keys)
 * gone after `cleanup`.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { Redis } from 'ioredis';
import { configDir } from './config';
import { type RunningCli, runCli } from './cli';
import { type Backend, freePort, startBackend } from './http';
import { REDIS_URL, adminConnection, dropClusterKeys, uniqueClusterId } from '../../packages/redis/test/redis-server';

export interface ClusterProcess {
  cli: RunningCli;
  dir: string;
  dataPort: number;
  adminPort: number;
  uuid: string;
}

export interface Answer {
  status: number;
  json: Record<string, unknown>;
}

/** A management API call with the default admin credentials. */
export function manage(port: number, method: string, urlPath: string, body?: unknown): Promise<Answer> {
  const headers: Record<string, string> = { 'x-ase-access-key': 'admin', 'x-ase-secret-key': 'admin' };
  const text = body === undefined ? undefined : JSON.stringify(body);
  if (text !== undefined) {
    headers['content-type'] = 'application/json';
    // Node sends a DELETE's body without framing (no chunked encoding by default for DELETE): its length says where it ends.
    headers['content-length'] = String(Buffer.byteLength(text));
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(text);
  });
}

/** The cluster keys of ase.conf; `extra` is appended as is. */
export function clusterConf(clusterId: string, extra = '', redisUrl = REDIS_URL): string {
  return `enable_cluster=true\nredis_url=${redisUrl}\ncluster_id=${clusterId}\n${extra}`;
}

/** What one test started, stopped and removed by `cleanup` (call it from afterEach). */
export class ClusterProcesses {
  private readonly running: ClusterProcess[] = [];
  private readonly dirs: string[] = [];
  private readonly backends: Backend[] = [];
  private readonly clusters: string[] = [];

  /** A cluster id of this test's own; its keys on the shared test Redis are deleted by `cleanup`. */
  clusterId(): string {
    const id = uniqueClusterId();
    this.clusters.push(id);
    return id;
  }

  async backend(name: string, handler?: Parameters<typeof startBackend>[1]): Promise<Backend> {
    const b = await startBackend(name, handler);
    this.backends.push(b);
    return b;
  }

  dir(conf: string, apis: Record<string, unknown> = {}, rawApis: Record<string, string> = {}): string {
    const dir = configDir({ conf, apis, rawApis });
    this.dirs.push(dir);
    return dir;
  }

  /**
   * Runs `ase start` on 127.0.0.1 and resolves once it has joined the cluster and listens (once it
   * listens only, with `joined: false`: a node that started without Redis has no uuid to show yet).
   * `args` go after the others (`--mode decide --proxy nginx`).
   */
  async start(dir: string, opts: { joined?: boolean; args?: string[] } = {}): Promise<ClusterProcess> {
    const adminPort = await freePort();
    const cli = runCli(['start', '--config-dir', dir, '--port', '0', '--bind', '127.0.0.1', '--admin-port', String(adminPort), ...(opts.args ?? [])]);
    const node: ClusterProcess = { cli, dir, dataPort: 0, adminPort, uuid: '' };
    this.running.push(node);
    if (opts.joined !== false) node.uuid = (await cli.waitFor(/joined as node ([0-9a-f-]{36})/, 15_000))[1]!;
    node.dataPort = Number((await cli.waitFor(/listening on 127\.0\.0\.1:(\d+)/, 15_000))[1]);
    return node;
  }

  /** Kills what is still running and waits for it, closes the backends, removes the directories and the clusters' keys. */
  async cleanup(admin: Redis): Promise<void> {
    for (const n of this.running.splice(0)) {
      if (n.cli.child.exitCode === null && n.cli.child.signalCode === null) n.cli.child.kill('SIGKILL');
      await n.cli.exited;
    }
    for (const b of this.backends.splice(0)) await b.close();
    for (const d of this.dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
    for (const c of this.clusters.splice(0)) await dropClusterKeys(admin, c);
  }
}

/**
 * The cluster processes of a test file, stopped (and their Redis keys dropped) after each test,
 * with the Redis connection that does it: `redis()` is open from beforeAll to afterAll.
 */
export function clusterProcessesForFile(): { procs: ClusterProcesses; redis: () => Redis } {
  const procs = new ClusterProcesses();
  let admin: Redis | undefined;
  beforeAll(async () => {
    admin = await adminConnection();
  });
  afterEach(() => procs.cleanup(admin!));
  afterAll(() => admin?.disconnect());
  return { procs, redis: () => admin! };
}
