/**
 * `ase start` with `enable_cluster=true`: real processes sharing the test Redis (127.0.0.1:6379,
 * `ASE_TEST_REDIS_URL` for another). Each test has its own cluster_id and deletes its keys.
 */
import * as http from 'node:http';
import * as os from 'node:os';
import type { Redis } from 'ioredis';
import { clusterConf, clusterProcessesForFile, manage } from '../helpers/cluster-nodes';
import { api, servers } from '../helpers/config';
import { runCli } from '../helpers/cli';
import { freePort, request } from '../helpers/http';
import { advertisedHost, safeRedisUrl } from '../../packages/cli/src/cluster-node';
import { eventually } from '../../packages/redis/test/redis-server';

const { procs } = clusterProcessesForFile();

test('two ase start nodes share APIs and lists through Redis and list each other in /v4/ase/cluster', async () => {
  const clusterId = procs.clusterId();
  const backend = await procs.backend('shop-backend');
  // A is the first node: Redis holds no APIs, so its api/*.json seed the cluster. B's own file is
  // not even read (it is not JSON): Redis already holds the cluster's APIs.
  const a = await procs.start(procs.dir(clusterConf(clusterId), { shop: api('/shop', { enable_blocking: true, servers: servers(backend.port) }) }));
  const b = await procs.start(procs.dir(clusterConf(clusterId), {}, { broken: '{ not json' }));
  expect(a.cli.stdout()).toContain('the cluster had no APIs yet: 1 API copied from');
  expect(b.cli.stdout()).not.toContain('copied from');

  expect((await request(b.dataPort, { path: '/shop/items' })).status).toBe(200);
  const listed = await manage(b.adminPort, 'GET', '/v4/ase/api');
  expect(listed.json['api']).toEqual([{ api_id: 'shop', status: 'loaded' }]);

  for (const n of [a, b]) {
    const r = await manage(n.adminPort, 'GET', '/v4/ase/cluster');
    expect(r.status).toBe(200);
    const nodes = (r.json['node'] as { uuid: string }[]).slice().sort((x, y) => (x.uuid < y.uuid ? -1 : 1));
    const expected = [a, b]
      .map((x) => ({ host: '127.0.0.1', port: x.dataPort, uuid: x.uuid, status: 'active' }))
      .sort((x, y) => (x.uuid < y.uuid ? -1 : 1));
    expect({ ...r.json, node: nodes }).toEqual({ cluster_id: clusterId, node_count: 2, node: expected, redis: 'connected' });
  }

  // An API created through A's REST API routes on B.
  const created = await manage(a.adminPort, 'POST', '/v4/ase/api?api_id=cart', api('/cart', { servers: servers(backend.port) }));
  expect(created.status).toBe(200);
  await eventually(async () => expect((await request(b.dataPort, { path: '/cart/1' })).status).toBe(200), 1000);

  // A deny entry added through A blocks on B within one second (the test's requests come from 127.0.0.1).
  expect((await request(b.dataPort, { path: '/shop/items' })).status).toBe(200);
  const denied = await manage(a.adminPort, 'POST', '/v4/ase/firewall/blacklist', { type: 'ip', value: '127.0.0.1' });
  expect(denied.status).toBe(200);
  const since = Date.now();
  await eventually(async () => expect((await request(b.dataPort, { path: '/shop/items' })).status).toBe(403), 1000);
  expect(Date.now() - since).toBeLessThan(1000);
  const seenOnB = await manage(b.adminPort, 'GET', '/v4/ase/firewall/blacklist?tag=manual');
  expect(seenOnB.json).toEqual({ manual_blacklist: [expect.objectContaining({ type: 'ip', value: '127.0.0.1', added_by: { via: 'management', tag: 'manual' } })] });
}, 40_000);

test('a node killed without leaving turns inactive, and is forgotten after cluster_forget_after; a node stopped with SIGTERM leaves the list', async () => {
  const clusterId = procs.clusterId();
  const conf = clusterConf(clusterId, 'cluster_heartbeat=200\ncluster_forget_after=3s\n');
  const a = await procs.start(procs.dir(conf));
  const b = await procs.start(procs.dir(conf));
  const c = await procs.start(procs.dir(conf));
  const statuses = async (): Promise<Record<string, string>> => {
    const r = await manage(a.adminPort, 'GET', '/v4/ase/cluster');
    return Object.fromEntries((r.json['node'] as { uuid: string; status: string }[]).map((n) => [n.uuid, n.status]));
  };
  expect(await statuses()).toEqual({ [a.uuid]: 'active', [b.uuid]: 'active', [c.uuid]: 'active' });

  b.cli.child.kill('SIGKILL');
  await b.cli.exited;
  // Three missed heartbeats of 200 ms.
  await eventually(async () => expect(await statuses()).toEqual({ [a.uuid]: 'active', [b.uuid]: 'inactive', [c.uuid]: 'active' }), 3000);

  c.cli.child.kill('SIGTERM');
  expect(await c.cli.exited).toBe(0);
  expect(await statuses()).toEqual({ [a.uuid]: 'active', [b.uuid]: 'inactive' });
  // Its heartbeat expired 3 s ago: A's next heartbeat removes it.
  await eventually(async () => expect(await statuses()).toEqual({ [a.uuid]: 'active' }), 6000);
}, 40_000);

test('ase start in a cluster shows the Redis status flag in /metrics of its admin port, beside the REST field; metrics_auth=false needs no keys', async () => {
  const clusterId = procs.clusterId();
  const node = await procs.start(procs.dir(clusterConf(clusterId, 'metrics_auth=false\n')));
  const scraped = await new Promise<{ status: number; type: string | undefined; text: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: node.adminPort, path: '/metrics', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
  expect([scraped.status, scraped.type]).toEqual([200, 'text/plain; version=0.0.4; charset=utf-8']);
  expect(scraped.text).toMatch(/^ase_store_up\{store="redis"\} 1$/m);
  expect(scraped.text).toMatch(/^ase_store_unreachable_total\{store="redis"\} 0$/m);
  expect((await manage(node.adminPort, 'GET', '/v4/ase/cluster')).json['redis']).toBe('connected');
});

test('an unreachable Redis stops ase start with one line naming it (the password masked), exit code 1', async () => {
  const port = await freePort();
  const dir = procs.dir(`enable_cluster=true\nredis_url=redis://ops:s3cret-pw@127.0.0.1:${port}\ncluster_id=unreachable\n`);
  const cli = runCli(['start', '--config-dir', dir, '--port', '0', '--admin-port', '0']);
  expect(await cli.exited).toBe(1);
  expect(cli.stderr()).toMatch(new RegExp(`^ase: cannot start: redis unreachable at redis://ops:\\*\\*\\*@127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\)\\n$`));
  expect(cli.stdout() + cli.stderr()).not.toContain('s3cret-pw');
});

test('enable_cluster=true without redis_url, or with a cluster_id Redis cannot name, is refused at start', async () => {
  const noUrl = runCli(['start', '--config-dir', procs.dir('enable_cluster=true\n'), '--port', '0', '--admin-port', '0']);
  expect(await noUrl.exited).toBe(1);
  expect(noUrl.stderr()).toContain('redis_url: enable_cluster=true needs redis_url');
  const slash = runCli(['start', '--config-dir', procs.dir(clusterConf('eu/prod')), '--port', '0', '--admin-port', '0']);
  expect(await slash.exited).toBe(1);
  expect(slash.stderr()).toContain('cluster_id must be 1 to 64 letters');
});

test('a node announces its bound address, or this machine\'s first external IPv4 when bound to every interface; URLs in messages hide the password', () => {
  const external = Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && !i.internal && i.family === 'IPv4')?.address;
  expect(advertisedHost('10.1.2.3')).toBe('10.1.2.3');
  for (const all of ['*', '0.0.0.0', '::']) expect(advertisedHost(all)).toBe(external ?? '127.0.0.1');
  expect(safeRedisUrl('rediss://ops:pw@redis.example:6380/2')).toBe('rediss://ops:***@redis.example:6380/2');
  expect(safeRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
});

test('a decision service (--mode decide) and a gateway in one cluster share APIs and lists: a decoy sprung through the decision service blocks the client on the gateway', async () => {
  const clusterId = procs.clusterId();
  const backend = await procs.backend('shop-backend');
  const shop = api('/shop', {
    enable_blocking: true,
    servers: servers(backend.port),
    decoy_config: { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: 'decoy', decoy_subpaths: ['/shop/admin'] },
  });
  // The client's address: the gateway trusts X-Forwarded-For from the test (loopback), the decision service always does.
  // Decoys list whom they catch only with enable_ase_detected_attack on.
  const gateway = await procs.start(procs.dir(clusterConf(clusterId, 'enable_xff=true\nenable_ase_detected_attack=true\n'), { shop }));
  const decide = await procs.start(procs.dir(clusterConf(clusterId, 'enable_ase_detected_attack=true\n'), {}), { args: ['--mode', 'decide', '--proxy', 'nginx'] });
  expect(decide.cli.stdout()).toMatch(/ASE ready: decision service for nginx on port \d+, 1 API loaded from cluster /);
  const client = { 'x-forwarded-for': '203.0.113.50' };
  const ask = (uri: string) =>
    request(decide.dataPort, { path: '/.ase/decide', headers: { host: 'shop.example', 'x-original-method': 'GET', 'x-original-uri': uri, ...client } });

  expect((await ask('/shop/items')).status).toBe(200);
  expect((await request(gateway.dataPort, { path: '/shop/items', headers: client })).status).toBe(200);
  // The decoy answers through the decision service (a ticket for nginx to fetch) and lists the client in Redis.
  const trap = await ask('/shop/admin');
  expect([trap.status, trap.headers['x-ase-decision']]).toEqual([403, 'decoy']);
  await eventually(async () => expect((await request(gateway.dataPort, { path: '/shop/items', headers: client })).status).toBe(403), 2000);
  const listed = await manage(gateway.adminPort, 'GET', '/v4/ase/firewall/blacklist?tag=decoy');
  expect(listed.json).toEqual({ decoy_blacklist: [expect.objectContaining({ type: 'ip', value: '203.0.113.50' })] });
  // And a management change on the gateway's node reaches the decision service.
  const removed = await manage(gateway.adminPort, 'DELETE', '/v4/ase/firewall/blacklist', { type: 'ip', value: '203.0.113.50' });
  expect([removed.status, removed.json]).toEqual([200, { status: 'success', status_message: 'IP 203.0.113.50 deleted from blacklist' }]);
  await eventually(async () => expect((await ask('/shop/items')).status).toBe(200), 2000);
}, 40_000);
