/**
 * The state gauges of `/metrics`, read when scraped: list sizes and memory, backend health, open
 * WebSocket connections and the bounded tables; and the upstream histogram and flow control's
 * refusals, through real listeners and a real backend.
 */
import * as http from 'node:http';
import WebSocket from 'ws';
import { type Enforcer, createEnforcer, silentLogger } from '@ase/core';
import { type AdminServer, startAdminServer } from '@ase/admin';
import { call } from '../admin/harness';
import { HARNESSES, type RunningApp } from '../conformance/harness';
import { api, pattern, servers } from '../helpers/config';
import { type Backend, freePort, listen, request, startBackend } from '../helpers/http';
import { type WsBackend, startWsBackend } from '../helpers/ws-backend';

let enforcer: Enforcer;
let admin: AdminServer;
let app: RunningApp;
let upgrades: { port: number; close(): Promise<void> };
let backend: Backend;
let wsBackend: WsBackend;
let deadPort: number;

beforeAll(async () => {
  backend = await startBackend('b');
  wsBackend = await startWsBackend();
  deadPort = await freePort();
  enforcer = createEnforcer({
    logger: silentLogger,
    conf: { enable_ase_detected_attack: true },
    apis: {
      web: api('/web', { servers: servers(backend.port, deadPort) }),
      chat: api('/chat', { protocol: 'ws', servers: servers(wsBackend.port) }),
      limited: api('/limited', { flow_control: { client_spike_threshold: '1/minute' } }),
      strict: api('/strict', { enable_blocking: true, oauth2_access_token: true, api_pattern_enforcement: pattern({ methods_allowed: ['GET'] }) }),
    } as never,
  });
  await enforcer.ready;
  app = await HARNESSES[0]!.start(enforcer);
  const server = http.createServer((_req, res) => res.end());
  server.on('upgrade', (req, socket, head) => void enforcer.handleUpgrade(req, socket, head));
  upgrades = await listen(server);
  admin = await startAdminServer(enforcer, { port: 0, host: '127.0.0.1' });
});

afterAll(async () => {
  await admin.close();
  await upgrades.close();
  await app.close();
  await enforcer.close();
  await wsBackend.close();
  await backend.close();
});

async function scrape(): Promise<Map<string, number>> {
  const r = await call(admin.port, 'GET', '/metrics');
  expect(r.status).toBe(200);
  const out = new Map<string, number>();
  for (const m of r.text.matchAll(/^(ase_\w+(?:\{[^}]*\})?) (\S+)$/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

test('ase_list_entries counts each list by type and tag; ase_list_memory_bytes shows the share they use, beside its limit', async () => {
  const empty = await scrape();
  expect(empty.get('ase_list_entries{list="deny",type="ip",tag="manual"}')).toBe(0);
  expect(empty.get('ase_list_entries{list="deny",type="ip",tag="decoy"}')).toBe(0);
  expect(empty.get('ase_list_memory_bytes{share="manual"}')).toBe(0);
  await enforcer.addDeny({ type: 'ip', value: '10.0.0.9' });
  await enforcer.addDeny({ type: 'token', value: 'stolen' });
  await enforcer.addDeny({ type: 'token', value: 'leaked' });
  await enforcer.addAllow({ type: 'ip', value: '10.0.0.1' });
  // A detection's entry carries its own tag.
  expect((await request(app.port, { path: '/strict/x', method: 'DELETE', headers: { authorization: 'Bearer caught-1' } })).status).toBe(401);
  const m = await scrape();
  expect(m.get('ase_list_entries{list="deny",type="ip",tag="manual"}')).toBe(1);
  expect(m.get('ase_list_entries{list="deny",type="token",tag="manual"}')).toBe(2);
  expect(m.get('ase_list_entries{list="deny",type="token",tag="invalid_method"}')).toBe(1);
  expect(m.get('ase_list_entries{list="deny",type="token",tag="decoy"}')).toBe(0);
  expect(m.get('ase_list_entries{list="allow",type="ip",tag="manual"}')).toBe(1);
  // Bounded: a series per list, type and tag, whatever the entries.
  expect([...m.keys()].filter((k) => k.startsWith('ase_list_entries{')).length).toBeLessThanOrEqual(5 * 7 + 5);
  expect(m.get('ase_list_memory_bytes{share="manual"}')).toBe(enforcer.stats().lists.bytes - m.get('ase_list_memory_bytes{share="automatic"}')!);
  expect(m.get('ase_list_memory_bytes{share="decoy"}')).toBe(0);
  expect(m.get('ase_list_memory_limit_bytes{share="manual"}')).toBe(Math.floor(enforcer.conf.attack_list_memory / 2));
  await enforcer.clearDeny();
  await enforcer.clearAllow();
  const cleared = await scrape();
  expect(cleared.get('ase_list_entries{list="deny",type="token",tag="manual"}')).toBe(0);
  expect(cleared.get('ase_list_entries{list="deny",type="token",tag="invalid_method"}')).toBe(0);
});

test('ase_backend_up turns 0 for a configured server that refused a connection, and stays 1 for the live one', async () => {
  const live = `ase_backend_up{api="web",server="127.0.0.1:${backend.port}"}`;
  const dead = `ase_backend_up{api="web",server="127.0.0.1:${deadPort}"}`;
  const before = await scrape();
  expect([before.get(live), before.get(dead)]).toEqual([1, 1]);
  // Round robin: one of two requests goes to the dead server, which is then skipped.
  for (let i = 0; i < 2; i++) await request(app.port, { path: '/web/x' });
  const after = await scrape();
  expect([after.get(live), after.get(dead)]).toEqual([1, 0]);
});

test('ase_websocket_connections counts the open tunnels of an API', async () => {
  const key = 'ase_websocket_connections{api="chat"}';
  expect((await scrape()).get(key)).toBe(0);
  const ws = new WebSocket(`ws://127.0.0.1:${upgrades.port}/chat/room`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  expect((await scrape()).get(key)).toBe(1);
  ws.close();
  await new Promise((r) => ws.once('close', r));
  let n = 1;
  for (let i = 0; i < 40 && (n = (await scrape()).get(key) ?? -1) !== 0; i++) await new Promise((r) => setTimeout(r, 25));
  expect(n).toBe(0);
});

test('ase_table_entries and ase_table_max_entries show the bounded tables of enforcer.stats()', async () => {
  const m = await scrape();
  const stats = enforcer.stats();
  expect(m.get('ase_table_entries{table="rotation"}')).toBe(stats.rotation.size);
  expect(m.get('ase_table_max_entries{table="rotation"}')).toBe(stats.rotation.max);
  expect(m.get('ase_table_max_entries{table="rate_limit_counters"}')).toBe(stats.counters!.max);
  expect(m.get('ase_queued_requests{api="web"}')).toBe(0);
});

test('ase_upstream_duration_seconds observes each proxied request once, in the API\'s buckets', async () => {
  const count = 'ase_upstream_duration_seconds_count{api="web"}';
  const before = (await scrape()).get(count) ?? 0;
  const r = await request(app.port, { path: '/web/timed' });
  expect(r.status).toBe(200);
  const m = await scrape();
  expect(m.get(count)).toBe(before + 1);
  expect(m.get('ase_upstream_duration_seconds_bucket{api="web",le="+Inf"}')).toBe(before + 1);
  expect(m.get('ase_upstream_duration_seconds_bucket{api="web",le="10"}')).toBe(before + 1);
  expect(m.get('ase_upstream_duration_seconds_sum{api="web"}')).toBeGreaterThan(0);
  // Requests the app answers (no servers) are not proxied: no series.
  expect([...m.keys()].some((k) => k.includes('ase_upstream_duration_seconds') && k.includes('limited'))).toBe(false);
});

test('ase_rate_limited_total counts the requests flow control refused, by API and kind', async () => {
  const key = 'ase_rate_limited_total{api="limited",kind="client_spike"}';
  expect((await scrape()).has(key)).toBe(false);
  expect((await request(app.port, { path: '/limited/a' })).status).toBe(200);
  expect((await request(app.port, { path: '/limited/a' })).status).toBe(429);
  expect((await scrape()).get(key)).toBe(1);
});

test("a deleted API's series go with it (decisions, upstream times, rate limiting, gauges); the others stay", async () => {
  const before = [...(await scrape()).keys()];
  for (const id of ['web', 'limited']) expect(before.some((k) => k.includes(`api="${id}"`) && k.startsWith('ase_decisions_total'))).toBe(true);
  expect(before.some((k) => k.startsWith('ase_upstream_duration_seconds') && k.includes('api="web"'))).toBe(true);
  await enforcer.deleteApi('web');
  await enforcer.deleteApi('limited');
  const after = [...(await scrape()).keys()];
  expect(after.filter((k) => k.includes('api="web"') || k.includes('api="limited"'))).toEqual([]);
  expect(after).toContain('ase_websocket_connections{api="chat"}');
});
