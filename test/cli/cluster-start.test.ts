/**
 * `ase start` with `cluster_start_on_failure=open` against a redis-server of the test's own that is
 * not running yet: the node starts from its config directory, then joins when Redis starts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Redis } from 'ioredis';
import { redisStores } from '@ase/redis';
import { ClusterProcesses, clusterConf, manage } from '../helpers/cluster-nodes';
import { api, servers } from '../helpers/config';
import { request } from '../helpers/http';
import { OwnRedis } from '../../packages/redis/test/own-redis';
import { adminConnection, eventually } from '../../packages/redis/test/redis-server';

let admin: Redis;
const procs = new ClusterProcesses();
/** What a test opened besides the processes (its redis-server, a store handle), closed after it. */
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  admin = await adminConnection();
});

afterEach(async () => {
  await procs.cleanup(admin);
  for (const c of closers.splice(0).reverse()) await c();
});

afterAll(() => admin.disconnect());

test('cluster_start_on_failure=open: a node whose Redis is down serves its api/*.json and data/ lists and refuses changes; once Redis runs, it seeds the cluster, joins, and enforces what others add', async () => {
  const redis = await OwnRedis.notStarted();
  closers.push(() => redis.stop());
  const clusterId = procs.clusterId();
  const backend = await procs.backend('shop-backend');
  const dir = procs.dir(clusterConf(clusterId, 'cluster_start_on_failure=open\ncluster_heartbeat=200\n', redis.url), {
    shop: api('/shop', { apikey_qs: 'api_key', enable_blocking: true, servers: servers(backend.port) }),
  });
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(dir, 'data', 'lists.json'), JSON.stringify({ version: 1, blacklist: [{ type: 'api_key', name: 'api_key', value: 'from-files', tag: 'manual' }], whitelist: [] }));
  const node = await procs.start(dir, { joined: false });
  expect(node.cli.stderr()).toMatch(/redis unreachable at start \(.*ECONNREFUSED.*\): started without it/);
  expect(node.cli.stdout()).toContain(`1 API loaded from ${dir};`);
  expect(node.cli.stdout()).not.toContain('joined as node');

  expect((await request(node.dataPort, { path: '/shop/items?api_key=good' })).status).toBe(200);
  expect((await request(node.dataPort, { path: '/shop/items?api_key=from-files' })).status).toBe(403);
  const refused = await manage(node.adminPort, 'POST', '/v4/ase/firewall/blacklist', { type: 'api_key', name: 'api_key', value: 'worse' });
  expect(refused.status).toBe(503);
  expect((await manage(node.adminPort, 'GET', '/v4/ase/cluster')).json).toEqual({ cluster_id: clusterId, node_count: 0, node: [], redis: 'unreachable' });

  await redis.start();
  await node.cli.waitFor(/redis answered: joined the cluster/, 10_000);
  await eventually(async () => {
    const r = await manage(node.adminPort, 'GET', '/v4/ase/cluster');
    expect(r.json).toMatchObject({ cluster_id: clusterId, node_count: 1, node: [{ host: '127.0.0.1', port: node.dataPort, status: 'active' }], redis: 'connected' });
  }, 3000);
  // The cluster had no APIs: this node's files seeded it. Redis wins for the lists: the files' entry is gone.
  const other = redisStores({ url: redis.url, clusterId, logger: { warn: () => undefined } });
  closers.push(() => other.close());
  expect([...(await other.apis.load()).apis.keys()]).toEqual(['shop']);
  expect((await request(node.dataPort, { path: '/shop/items?api_key=from-files' })).status).toBe(200);
  await other.lists.apply({ list: 'blacklist', op: 'add', entry: { type: 'api_key', name: 'api_key', value: 'bad', tag: 'manual' } });
  await eventually(async () => expect((await request(node.dataPort, { path: '/shop/items?api_key=bad' })).status).toBe(403), 3000);
  const accepted = await manage(node.adminPort, 'POST', '/v4/ase/firewall/blacklist', { type: 'api_key', name: 'api_key', value: 'worse' });
  expect(accepted.status).toBe(200);
}, 40_000);
