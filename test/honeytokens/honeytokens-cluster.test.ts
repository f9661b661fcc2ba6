/**
 * Honeytokens in cluster mode: `ase start` nodes sharing the test Redis. A token a decoy planted
 * through node A is caught on node B (and on a node started afterwards, which reads it from
 * Redis), on an API and on a path no API matches (the gateway answers Unknown API, the sender is
 * listed all the same); the listing reaches every node.
 */
import type { Redis } from 'ioredis';
import { clusterConf, clusterProcessesForFile, manage } from '../helpers/cluster-nodes';
import { servers } from '../helpers/config';
import { request } from '../helpers/http';
import { asReferenceClient } from '../admin/seed-samples';
import { eventually } from '../../packages/redis/test/redis-server';
import { ATTACKER, CONF, HONEYTOKEN_APIS, from, planted } from './honeytoken-fixtures';

const { procs } = clusterProcessesForFile();

/** The honeytoken entries as a reference client reads them (the documented fields; history is checked elsewhere). */
const honeytokenEntries = async (adminPort: number): Promise<unknown> =>
  asReferenceClient((await manage(adminPort, 'GET', '/v4/ase/firewall/blacklist?tag=honeytoken')).json)['honeytoken_blacklist'];

test('a token planted through node A is caught on node B and on a node started later; the listing reaches every node', async () => {
  const clusterId = procs.clusterId();
  const backend = await procs.backend('shop-backend');
  const apis = { ...HONEYTOKEN_APIS, shop: { api_metadata: { ...HONEYTOKEN_APIS.shop.api_metadata, servers: servers(backend.port) } } };
  const a = await procs.start(procs.dir(clusterConf(clusterId, CONF), apis));
  const b = await procs.start(procs.dir(clusterConf(clusterId, CONF)));

  const decoy = await request(a.dataPort, { path: '/ops/.env', headers: from(ATTACKER) });
  expect(decoy.status).toBe(200);
  const tokens = planted(decoy.body, decoy.headers['set-cookie']);

  // The key replayed on B from another address: refused there, as soon as B has heard of the token.
  const ip = '198.51.100.9';
  expect((await request(b.dataPort, { path: '/shop/items', headers: from('198.51.100.1') })).status).toBe(200);
  await eventually(async () => expect((await request(b.dataPort, { path: '/shop/items', headers: from(ip, { 'x-shop-key': tokens.apiKey }) })).status).toBe(403), 2000);
  for (const n of [a, b]) await eventually(async () => expect(await honeytokenEntries(n.adminPort)).toEqual([{ type: 'ip', value: ip }]), 2000);

  // On a path no API matches, the gateway answers as ever and the sender is listed.
  const lost = '198.51.100.11';
  const unknown = await request(b.dataPort, { path: '/nowhere', headers: from(lost, { cookie: `session=${tokens.cookie}` }) });
  expect([unknown.status, unknown.body]).toEqual([503, 'Error: Unknown API']);
  await eventually(async () => expect((await request(a.dataPort, { path: '/shop/items', headers: from(lost) })).status).toBe(403), 2000);

  // A node started after the planting reads the token from Redis.
  const c = await procs.start(procs.dir(clusterConf(clusterId, CONF)));
  const late = '198.51.100.20';
  expect((await request(c.dataPort, { path: '/shop/items', headers: from(late, { authorization: `Bearer ${tokens.bearer}` }) })).status).toBe(403);
  expect(await honeytokenEntries(c.adminPort)).toEqual(expect.arrayContaining([{ type: 'ip', value: late }]));
  // Nothing of the test's own traffic was listed by mistake.
  expect((await request(c.dataPort, { path: '/shop/items', headers: from('198.51.100.1') })).status).toBe(200);
}, 60_000);
