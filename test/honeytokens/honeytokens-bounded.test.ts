/**
 * The honeytoken table is bounded (docs/security.md, "Every table a client can grow has a bound"):
 * a client hitting the decoy in a loop plants nothing new, and a flood of distinct clients through
 * a real Koa app keeps the table at HONEYTOKENS_MAX — the oldest tokens are forgotten, the newest
 * still caught. The file behind it is rewritten from the table before it passes twice the bound.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { type Enforcer, FileHoneytokenStore, HONEYTOKENS_MAX, HoneytokenTable, createEnforcer, silentLogger } from '@ase/core';
import { HARNESSES, type RunningApp } from '../conformance/harness';
import { configDir, tempDir } from '../helpers/config';
import { request } from '../helpers/http';
import { CONF, HONEYTOKEN_APIS, from, planted } from './honeytoken-fixtures';

const koa = HARNESSES.find((h) => h.framework === 'koa')!;

describe('koa: a flood of decoy hits', () => {
  let dir: string;
  let enforcer: Enforcer;
  let app: RunningApp;
  let agent: http.Agent;

  beforeEach(async () => {
    dir = configDir({ conf: CONF, apis: HONEYTOKEN_APIS });
    enforcer = createEnforcer({ configDir: dir, logger: silentLogger });
    app = await koa.start(enforcer);
    agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  });

  afterEach(async () => {
    agent.destroy();
    await app.close();
    await enforcer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const hitDecoy = (ip: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: app.port, path: '/ops/.env', headers: from(ip), agent }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`answered ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end();
    });

  const planting = async (ip: string) => {
    const r = await request(app.port, { path: '/ops/.env', headers: from(ip) });
    return planted(r.body, r.headers['set-cookie']);
  };

  test('one client in a loop plants three tokens once; distinct clients past the bound push out the oldest, the newest stay caught', async () => {
    const first = await planting('10.0.0.1');
    for (let i = 0; i < 50; i++) await hitDecoy('10.0.0.1');
    expect(enforcer.stats().honeytokens).toEqual({ size: 3, max: HONEYTOKENS_MAX });

    // Three tokens per client: this many clients plant past the bound.
    const clients = Math.ceil(HONEYTOKENS_MAX / 3) + 100;
    let next = 0;
    let peak = 0;
    const worker = async (): Promise<void> => {
      while (next < clients) {
        const n = next++;
        await hitDecoy(`10.${1 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`);
        peak = Math.max(peak, enforcer.stats().honeytokens.size);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    expect(peak).toBe(HONEYTOKENS_MAX);
    expect(enforcer.stats().honeytokens.size).toBe(HONEYTOKENS_MAX);

    const last = await planting('10.200.0.1');
    expect((await request(app.port, { path: '/shop/items', headers: from('198.51.100.1', { 'x-shop-key': first.apiKey }) })).status).toBe(200);
    expect((await request(app.port, { path: '/shop/items', headers: from('198.51.100.2', { 'x-shop-key': last.apiKey }) })).status).toBe(403);
  }, 60_000);
});

describe('koa: honeytokens_max in ase.conf', () => {
  test('a small bound forgets the oldest tokens: their replay is no longer caught, the newer ones are; a restart keeps the bound', async () => {
    const dir = configDir({ conf: `${CONF}honeytokens_max=4\n`, apis: HONEYTOKEN_APIS });
    let enforcer = createEnforcer({ configDir: dir, logger: silentLogger });
    let app = await koa.start(enforcer);
    try {
      const plant = async (ip: string) => {
        const r = await request(app.port, { path: '/ops/.env', headers: from(ip) });
        return planted(r.body, r.headers['set-cookie']);
      };
      // Planted in this order: API key, bearer token, cookie. The second client's three push out the first's key and token.
      const first = await plant('10.9.0.1');
      const second = await plant('10.9.0.2');
      expect(enforcer.stats().honeytokens).toEqual({ size: 4, max: 4 });
      const replay = async (n: number, headers: Record<string, string>) => (await request(app.port, { path: '/shop/items', headers: from(`198.51.100.${n}`, headers) })).status;
      expect(await replay(31, { 'x-shop-key': first.apiKey })).toBe(200);
      expect(await replay(32, { authorization: `Bearer ${first.bearer}` })).toBe(200);
      expect(await replay(33, { cookie: `session=${first.cookie}` })).toBe(403);
      expect(await replay(34, { 'x-shop-key': second.apiKey })).toBe(403);

      // The file holds what the table holds: read back after a restart, under the same bound.
      await app.close();
      await enforcer.close();
      enforcer = createEnforcer({ configDir: dir, logger: silentLogger });
      app = await koa.start(enforcer);
      await enforcer.ready;
      expect(enforcer.stats().honeytokens).toEqual({ size: 4, max: 4 });
      expect(await replay(35, { 'x-shop-key': first.apiKey })).toBe(200);
      expect(await replay(36, { authorization: `Bearer ${second.bearer}` })).toBe(403);
    } finally {
      await app.close();
      await enforcer.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('data/honeytokens.jsonl', () => {
  test('stays under twice the bound: rewritten from the table (the newest tokens) when it would pass it, and read back the same', async () => {
    const dataDir = tempDir();
    try {
      const table = new HoneytokenTable(5);
      const store = new FileHoneytokenStore(dataDir);
      expect(store.loadSync(table)).toEqual([]);
      const token = (i: number) => ({ value: `sk_live_${String(i).padStart(32, '0')}`, kind: 'api_key' as const, api: 'ops', plantedTo: `10.0.0.${i}`, plantedAt: 1_700_000_000_000 + i });
      for (let i = 0; i < 23; i++) {
        table.add(token(i));
        store.record(token(i));
        if (i % 4 === 3) await store.close(); // let the writes land in several batches
      }
      await store.close();
      const lines = fs.readFileSync(store.file, 'utf8').split('\n').filter(Boolean);
      expect(lines.length).toBeLessThanOrEqual(10);
      expect(table.size).toBe(5);

      const again = new HoneytokenTable(5);
      fs.appendFileSync(store.file, '{"torn":\n');
      const warnings = new FileHoneytokenStore(dataDir).loadSync(again);
      expect(warnings).toEqual([expect.stringMatching(/1 line\(s\) that are not honeytokens were skipped/)]);
      expect([...again.values()].map((t) => t.plantedTo)).toEqual(['10.0.0.18', '10.0.0.19', '10.0.0.20', '10.0.0.21', '10.0.0.22']);
      expect(again.plantedFor('ops', '10.0.0.22')).toEqual([token(22)]);
      expect(again.plantedFor('ops', '10.0.0.17')).toBeUndefined();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
