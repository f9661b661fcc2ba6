/**
 * Lists with reach in cluster mode: two `ase start` nodes on the test Redis. A network entry added
 * on one node blocks on the other, an expiry stops both nodes at the same deadline and leaves
 * nothing in Redis, and hits counted on both nodes add up (in batches, about once a second).
 */
import type { Redis } from 'ioredis';
import { clusterConf, clusterProcessesForFile, manage } from '../helpers/cluster-nodes';
import { api, servers } from '../helpers/config';
import { request } from '../helpers/http';
import { clusterKeys, eventually } from '../../packages/redis/test/redis-server';

const { procs, redis } = clusterProcessesForFile();

type Listed = { value: string; hits: number; expires_at: string | null; last_hit: string | null };
const manual = async (port: number): Promise<Listed[]> => (await manage(port, 'GET', '/v4/ase/firewall/blacklist?tag=manual')).json['manual_blacklist'] as Listed[];

test('a network with a ttl added on one node blocks on both until its expiry, then on neither, and Redis drops it', async () => {
  const clusterId = procs.clusterId();
  const backend = await procs.backend('b');
  const a = await procs.start(procs.dir(clusterConf(clusterId), { shop: api('/shop', { enable_blocking: true, servers: servers(backend.port) }) }));
  const b = await procs.start(procs.dir(clusterConf(clusterId)));
  expect((await request(b.dataPort, { path: '/shop/x' })).status).toBe(200);

  const added = await manage(a.adminPort, 'POST', '/v4/ase/firewall/blacklist', { type: 'ip', value: '127.0.0.0/8', ttl: 3 });
  expect(added.status).toBe(200);
  await eventually(async () => expect((await request(b.dataPort, { path: '/shop/x' })).status).toBe(403), 1000);
  expect((await request(a.dataPort, { path: '/shop/x' })).status).toBe(403);
  const [onA] = await manual(a.adminPort);
  const [onB] = await manual(b.adminPort);
  expect(onB!.expires_at).toBe(onA!.expires_at);

  const deadline = Date.parse(onA!.expires_at!);
  await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now() + 20)));
  expect([(await request(a.dataPort, { path: '/shop/x' })).status, (await request(b.dataPort, { path: '/shop/x' })).status]).toEqual([200, 200]);
  const hashes = (await clusterKeys(redis(), clusterId)).filter((k) => k.endsWith('blacklist'));
  await eventually(async () => {
    for (const k of hashes) expect(await redis().hlen(k)).toBe(0);
    expect(await manual(a.adminPort)).toEqual([]);
    expect(await manual(b.adminPort)).toEqual([]);
  }, 3000);
}, 40_000);

test('hits counted on two nodes add up in the list page of either (batched: approximate until the next batch)', async () => {
  const clusterId = procs.clusterId();
  const backend = await procs.backend('b');
  const a = await procs.start(procs.dir(clusterConf(clusterId), { shop: api('/shop', { enable_blocking: true, oauth2_access_token: true, servers: servers(backend.port) }) }));
  const b = await procs.start(procs.dir(clusterConf(clusterId)));
  expect((await manage(a.adminPort, 'POST', '/v4/ase/firewall/blacklist', { type: 'token', value: 'stolen' })).status).toBe(200);
  const stolen = { path: '/shop/x', headers: { authorization: 'Bearer stolen' } };
  await eventually(async () => expect((await request(b.dataPort, stolen)).status).toBe(403), 1000);
  for (let i = 0; i < 2; i++) expect((await request(a.dataPort, stolen)).status).toBe(403);
  for (let i = 0; i < 2; i++) expect((await request(b.dataPort, stolen)).status).toBe(403);
  // B's first blocked request above (the one that waited for the entry) makes 5 in all.
  await eventually(async () => {
    const [onA] = await manual(a.adminPort);
    const [onB] = await manual(b.adminPort);
    expect([onA!.hits, onB!.hits]).toEqual([5, 5]);
    expect(onA!.last_hit).not.toBeNull();
  }, 4000);
}, 40_000);
