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

test('honeytokens_max bounds the tokens kept in Redis: a node started later catches the newest, not the ones pushed out', async () => {
  const clusterId = procs.clusterId();
  const backend = await procs.backend('shop-backend');
  const apis = { ...HONEYTOKEN_APIS, shop: { api_metadata: { ...HONEYTOKEN_APIS.shop.api_metadata, servers: servers(backend.port) } } };
  const conf = clusterConf(clusterId, `${CONF}honeytokens_max=4\n`);
  const a = await procs.start(procs.dir(conf, apis));
  const plant = async (ip: string) => {
    const r = await request(a.dataPort, { path: '/ops/.env', headers: from(ip) });
    return planted(r.body, r.headers['set-cookie']);
  };
  // Three tokens each: the second client's push out two of the first's. One answer's tokens share
  // their planting time, and Redis orders equals by value: which two is not said, only how many.
  const first = await plant('10.9.1.1');
  const second = await plant('10.9.1.2');

  // The late node's own bound is the default: what it does not catch, Redis no longer holds.
  const late = await procs.start(procs.dir(clusterConf(clusterId, CONF)));
  const replay = async (n: number, headers: Record<string, string>) => (await request(late.dataPort, { path: '/shop/items', headers: from(`198.51.100.${n}`, headers) })).status;
  // Recording is in the background: the late node reads what Redis keeps once both plantings landed.
  await eventually(async () => expect(await replay(41, { 'x-shop-key': second.apiKey })).toBe(403), 2000);
  expect(await replay(42, { authorization: `Bearer ${second.bearer}` })).toBe(403);
  expect(await replay(43, { cookie: `session=${second.cookie}` })).toBe(403);
  const firstCaught = [await replay(44, { 'x-shop-key': first.apiKey }), await replay(45, { authorization: `Bearer ${first.bearer}` }), await replay(46, { cookie: `session=${first.cookie}` })];
  expect(firstCaught.filter((s) => s === 403)).toHaveLength(1);
  expect(firstCaught.filter((s) => s === 200)).toHaveLength(2);
}, 60_000);
