/**
 * What decides whether a presented honeytoken lists its sender, through a real Express app:
 * `enable_ase_detected_attack` off lists nobody but still reports; an allow-listed sender or a
 * trusted proxy is never listed; `explain` plants nothing and lists nobody.
 */
import { type Enforcer, type SecurityEvent, createEnforcer, silentLogger } from '@ase/core';
import { HARNESSES, type RunningApp } from '../conformance/harness';
import { request } from '../helpers/http';
import { ATTACKER, HONEYTOKEN_APIS, from, planted } from './honeytoken-fixtures';

const express = HARNESSES.find((h) => h.framework === 'express')!;

describe('express: honeytokens and the switches', () => {
  let enforcer: Enforcer;
  let app: RunningApp;
  const events: SecurityEvent[] = [];
  const onEvent = (e: SecurityEvent): void => void events.push(e);

  const start = async (conf: Record<string, unknown>): Promise<void> => {
    enforcer = createEnforcer({ logger: silentLogger, conf: { enable_xff: true, xff_trusted_proxies: '127.0.0.1', ...conf }, apis: HONEYTOKEN_APIS as never });
    await enforcer.ready;
    enforcer.on('honeytoken', onEvent);
    app = await express.start(enforcer);
  };
  const plant = async (ip = ATTACKER) => {
    const r = await request(app.port, { path: '/ops/.env', headers: from(ip) });
    return planted(r.body, r.headers['set-cookie']);
  };

  afterEach(async () => {
    enforcer.off('honeytoken', onEvent);
    events.length = 0;
    await app.close();
    await enforcer.close();
  });

  test('enable_ase_detected_attack off: the decoy still plants, the replay is served and lists nobody, the event is emitted', async () => {
    await start({ enable_ase_detected_attack: false });
    const tokens = await plant();
    const r = await request(app.port, { path: '/shop/items', headers: from('198.51.100.9', { 'x-shop-key': tokens.apiKey }) });
    expect(r.status).toBe(200);
    expect(enforcer.denyList.size).toBe(0);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'honeytoken', api: 'shop', blocked: false, client: { ip: '198.51.100.9' } });
  });

  test('an allow-listed sender and the trusted proxy itself are never listed; the event still names them', async () => {
    await start({ enable_ase_detected_attack: true });
    const tokens = await plant();
    await enforcer.addAllow({ type: 'ip', value: '198.51.100.50' });
    expect((await request(app.port, { path: '/shop/items', headers: from('198.51.100.50', { 'x-shop-key': tokens.apiKey }) })).status).toBe(200);
    // No X-Forwarded-For: the request comes from the trusted proxy's own address.
    expect((await request(app.port, { path: '/shop/items', headers: { 'x-shop-key': tokens.apiKey } })).status).toBe(200);
    expect(enforcer.denyList.get('ip', '198.51.100.50')).toBeUndefined();
    expect(enforcer.denyList.get('ip', '127.0.0.1')).toBeUndefined();
    expect(events.map((e) => [e.client.ip, e.blocked])).toEqual([
      ['198.51.100.50', false],
      ['127.0.0.1', false],
    ]);
  });

  test('explain plants nothing on a decoy and lists nobody for a replay, and says what the replay would list', async () => {
    await start({ enable_ase_detected_attack: true });
    const tokens = await plant();
    const decoy = await enforcer.explain({ method: 'GET', url: '/ops/.env', headers: { 'x-forwarded-for': '203.0.113.99' }, ip: '127.0.0.1' });
    expect(decoy.outcome).toBe('decoy');
    expect(enforcer.stats().honeytokens.size).toBe(3);
    const replay = await enforcer.explain({ method: 'GET', url: '/shop/items', headers: { 'x-forwarded-for': '198.51.100.9', 'x-shop-key': tokens.apiKey }, ip: '127.0.0.1' });
    expect(replay.would_list).toEqual([{ kind: 'honeytoken', identifier: { type: 'ip', value: '198.51.100.9' }, listed: true }]);
    expect(enforcer.denyList.get('ip', '198.51.100.9')).toBeUndefined();
    expect(events).toEqual([]);
  });
});
