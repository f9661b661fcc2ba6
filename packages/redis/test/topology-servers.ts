import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Redis } from 'ioredis';
import { tempDir } from '../../../test/helpers/config';
import { freePorts } from '../../../test/helpers/demo';

/**
 * Redis servers a test starts for itself (Cluster, Sentinel) on free ports in a temp dir: the shared
 * Redis on 6379 is a single server and is never touched here. `stop()` kills every process it
 * started, waits for them to exit and removes the directory.
 */
export interface Topology {
  dir: string;
  stop(): Promise<void>;
}

/** How long a started server may take to answer on a loaded machine. */
const READY_MS = 10_000;

class Processes {
  readonly children: ChildProcess[] = [];
  readonly dir = tempDir('ase-redis-topology-');

  /** Starts `redis-server` with these arguments; output goes to `<name>.log` in the temp dir. */
  start(name: string, args: string[]): ChildProcess {
    const log = fs.openSync(path.join(this.dir, `${name}.log`), 'w');
    const child = spawn('redis-server', args, { cwd: this.dir, stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.children.push(child);
    child.on('error', () => {
      // Reported by waitReady, which names the missing binary.
    });
    return child;
  }

  log(name: string): string {
    try {
      return fs.readFileSync(path.join(this.dir, `${name}.log`), 'utf8').split('\n').slice(-8).join('\n');
    } catch {
      return '';
    }
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A connection for the test's own checks and set-up commands, failing fast. */
export function plainConnection(port: number, password?: string): Redis {
  const c = new Redis({ host: '127.0.0.1', port, password, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: 2000, disconnectTimeout: 100 });
  c.on('error', () => {});
  return c;
}

/** Resolves once the server on `port` answers PING; fails naming the server and its last log lines. */
async function waitReady(procs: Processes, name: string, child: ChildProcess, port: number, password?: string): Promise<void> {
  const deadline = Date.now() + READY_MS;
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  for (;;) {
    const c = plainConnection(port, password);
    try {
      await c.connect();
      await c.ping();
      return;
    } catch (err) {
      if (spawnError) throw new Error(`these tests start their own redis-server and could not (${spawnError.message}); install Redis 7 (redis-server on the PATH)`);
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`redis-server ${name} on port ${port} did not start (${(err as Error).message}):\n${procs.log(name)}`);
      }
    } finally {
      c.disconnect();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const COMMON = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'];

async function until(what: string, check: () => Promise<boolean>, timeoutMs = READY_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs redis-cli with these arguments; rejects with its output when it fails. */
function redisCli(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (err) => reject(new Error(`redis-cli could not run (${err.message}); install Redis 7 (redis-cli on the PATH)`)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`redis-cli ${args.join(' ')} failed (${code}):\n${out}`))));
  });
}

export interface RedisClusterTopology extends Topology {
  /** The masters' client ports. */
  ports: number[];
  password: string;
}

/**
 * A Redis Cluster of `masters` masters without replicas (`redis-cli --cluster create`), every node
 * with a password; resolves once every node reports the cluster `ok` and knows all masters.
 */
export async function startRedisCluster(masters = 3): Promise<RedisClusterTopology> {
  const procs = new Processes();
  const password = 'cluster-secret';
  const ports: number[] = [];
  try {
    const started: Promise<void>[] = [];
    // The bus ports are set explicitly (Redis 7): port + 10000 may be taken or above 65535.
    const free = await freePorts(masters * 2);
    for (let i = 0; i < masters; i++) {
      const [port, bus] = [free[2 * i]!, free[2 * i + 1]!];
      ports.push(port);
      const name = `node-${i}`;
      const child = procs.start(name, [
        ...COMMON,
        '--port', String(port),
        '--cluster-enabled', 'yes',
        '--cluster-port', String(bus),
        '--cluster-config-file', path.join(procs.dir, `${name}.conf`),
        '--cluster-node-timeout', '5000',
        '--requirepass', password,
        '--masterauth', password,
      ]);
      started.push(waitReady(procs, name, child, port, password));
    }
    await Promise.all(started);
    await redisCli(['-a', password, '--no-auth-warning', '--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], procs.dir);
    await until('the Redis Cluster to form', async () => {
      for (const port of ports) {
        const c = plainConnection(port, password);
        try {
          await c.connect();
          const info = (await c.cluster('INFO')) as string;
          const nodes = (await c.cluster('NODES')) as string;
          if (!info.includes('cluster_state:ok') || nodes.trim().split('\n').filter((l) => l.includes('master') && !l.includes('fail')).length !== masters) return false;
        } finally {
          c.disconnect();
        }
      }
      return true;
    });
    return { dir: procs.dir, ports, password, stop: () => procs.stop() };
  } catch (err) {
    await procs.stop();
    throw err;
  }
}

export interface SentinelTopology extends Topology {
  /** The master's name as the sentinel knows it. */
  name: string;
  masterPort: number;
  replicaPort: number;
  sentinelPort: number;
  password: string;
  /** Asks the sentinel to fail over to the replica; resolves once it names the replica as master. */
  failover(): Promise<void>;
}

/**
 * A master and its replica, both with a password, and one sentinel monitoring them (`redis-server
 * <conf> --sentinel`; the sentinel rewrites its config file, so it lives in the temp dir). Resolves
 * once the sentinel names the master and sees the replica in sync.
 */
export async function startSentinel(): Promise<SentinelTopology> {
  const procs = new Processes();
  const name = 'ase-master';
  const password = 'sentinel-secret';
  try {
    const [masterPort, replicaPort, sentinelPort] = (await freePorts(3)) as [number, number, number];
    const auth = ['--requirepass', password, '--masterauth', password];
    const master = procs.start('master', [...COMMON, '--port', String(masterPort), ...auth]);
    const replica = procs.start('replica', [...COMMON, '--port', String(replicaPort), ...auth, '--replicaof', '127.0.0.1', String(masterPort)]);
    await Promise.all([waitReady(procs, 'master', master, masterPort, password), waitReady(procs, 'replica', replica, replicaPort, password)]);
    const conf = path.join(procs.dir, 'sentinel.conf');
    fs.writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        'protected-mode no',
        `dir ${procs.dir}`,
        `sentinel monitor ${name} 127.0.0.1 ${masterPort} 1`,
        `sentinel auth-pass ${name} ${password}`,
        `sentinel down-after-milliseconds ${name} 60000`,
        // Known from the start: otherwise the sentinel finds it in the master's INFO, up to 10 s later.
        `sentinel known-replica ${name} 127.0.0.1 ${replicaPort}`,
        '',
      ].join('\n'),
    );
    const sentinel = procs.start('sentinel', [conf, '--sentinel']);
    await waitReady(procs, 'sentinel', sentinel, sentinelPort);
    const ask = async <T>(...args: string[]): Promise<T> => {
      const c = plainConnection(sentinelPort);
      try {
        await c.connect();
        return (await c.call('SENTINEL', ...args)) as T;
      } finally {
        c.disconnect();
      }
    };
    const masterIs = async (port: number): Promise<boolean> => (await ask<string[] | null>('get-master-addr-by-name', name))?.[1] === String(port);
    await until('the sentinel to name its master', () => masterIs(masterPort));
    await until('the sentinel to see the replica in sync', async () => {
      const replicas = await ask<string[][]>('replicas', name);
      const fields = replicas[0] ?? [];
      const get = (f: string): string | undefined => fields[fields.indexOf(f) + 1];
      return get('flags') === 'slave' && get('master-link-status') === 'ok';
    });
    const failover = async (): Promise<void> => {
      await ask('failover', name);
      await until('the sentinel to promote the replica', () => masterIs(replicaPort), 15_000);
    };
    return { dir: procs.dir, name, masterPort, replicaPort, sentinelPort, password, failover, stop: () => procs.stop() };
  } catch (err) {
    await procs.stop();
    throw err;
  }
}
