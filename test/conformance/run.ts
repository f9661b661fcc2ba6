import { type Enforcer, createEnforcer, silentLogger } from '@ase/core';
import { type Reply, rawReply, request } from '../helpers/http';
import { type ScenarioBackend, startScenarioBackend } from './backends';
import type { Harness, HostAppRequest, RunningApp } from './harness';
import type { Action, Expected, Received, Scenario, ScenarioRequest, Step } from './types';

/**
 * Plays one scenario on one framework: starts its backends and an app of that framework with the
 * enforcer mounted, then for each step applies the actions, sends the request over a real socket,
 * and compares what came back and what reached whom with the step's expectation (one assertion
 * per step, whose diff names the step and every field that differs).
 */
export async function runScenario(harness: Harness, scenario: Scenario): Promise<void> {
  const backends = await Promise.all(Object.entries(scenario.backends ?? {}).map(([name, kind]) => startScenarioBackend(name, kind)));
  let enforcer: Enforcer | undefined;
  let app: RunningApp | undefined;
  try {
    enforcer = createEnforcer({
      logger: silentLogger,
      mode: scenario.mode ?? 'middleware',
      ...(scenario.conf ? { conf: scenario.conf } : {}),
      apis: resolveBackends(scenario.apis, backends) as never,
    });
    const events = recordEvents(enforcer, backends);
    app = await harness.start(enforcer);
    for (const [i, step] of scenario.steps.entries()) {
      for (const action of step.act ?? []) await apply(enforcer, action);
      const before = { app: app.appSeen.length, backends: backends.map((b) => b.seen.length) };
      events.length = 0;
      const reply = await withTimeout(send(app.port, step.request), ANSWER_TIMEOUT_MS, `step ${i + 1}: no answer within ${ANSWER_TIMEOUT_MS} ms`);
      const expected = expectationFor(step, harness.framework);
      const reached = whoWasReached(app, backends, before);
      const actual = observe(expected, reply, reached, enforcer, events);
      expect({ step: i + 1, ...actual }).toEqual({ step: i + 1, ...matcherOf(expected) });
    }
  } finally {
    await app?.close();
    await enforcer?.close();
    await Promise.all(backends.map((b) => b.close()));
  }
}

/** A request nobody answers fails its step instead of hanging the run (close() then cuts it). */
const ANSWER_TIMEOUT_MS = 5000;

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** The step's expectation, with the framework's documented difference applied. */
export function expectationFor(step: Step, framework: Harness['framework']): Expected {
  const d = step.differs?.[framework];
  return d ? { ...step.expect, ...d.expect } : step.expect;
}

/** Replaces `{ backend: name }` server entries with the backend's address. */
function resolveBackends(apis: Scenario['apis'], backends: ScenarioBackend[]): Scenario['apis'] {
  const out: Scenario['apis'] = {};
  for (const [id, json] of Object.entries(apis)) {
    const servers = json.api_metadata['servers'];
    if (!Array.isArray(servers)) {
      out[id] = json;
      continue;
    }
    const resolved = servers.map((s: unknown) => {
      if (!s || typeof s !== 'object' || !('backend' in s)) return s;
      const { backend: name, ...rest } = s as { backend: string };
      const b = backends.find((x) => x.name === name);
      if (!b) throw new Error(`scenario API ${id} names backend "${name}", which the scenario does not start`);
      return { ...rest, host: '127.0.0.1', port: b.port };
    });
    out[id] = { api_metadata: { ...json.api_metadata, servers: resolved } };
  }
  return out;
}

function recordEvents(enforcer: Enforcer, backends: ScenarioBackend[]): string[] {
  const events: string[] = [];
  const nameOf = (server: string): string => backends.find((b) => server.endsWith(`:${b.port}`))?.name ?? server;
  enforcer.on('attack', (e) => events.push(`attack:${e.kind}:${e.blocked}`));
  enforcer.on('blocked', (e) => events.push(`blocked:${e.reason}`));
  enforcer.on('backend_down', (e) => events.push(`backend_down:${nameOf(e.server)}`));
  return events;
}

async function apply(enforcer: Enforcer, action: Action): Promise<void> {
  if ('deny' in action) await enforcer.addDeny(action.deny, action.tag);
  else if ('allow' in action) await enforcer.addAllow(action.allow);
  else if ('firewall' in action) enforcer.setFirewall(action.firewall);
  else if ('aseDetected' in action) await enforcer.setAseDetectedAttacks(action.aseDetected);
  else if ('breakDecide' in action) {
    enforcer.decide = () => {
      throw new Error('decide exploded');
    };
  }
}

function send(port: number, req: ScenarioRequest): Promise<Reply> {
  const method = req.method ?? 'GET';
  if (!req.raw) return request(port, { method, path: req.path, ...(req.headers ? { headers: req.headers } : {}), ...(req.body !== undefined ? { body: req.body } : {}) });
  const headers: Record<string, string> = { host: 'x', ...req.headers, connection: 'close' };
  if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
  const head = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return rawReply(port, `${method} ${req.path} HTTP/1.1\r\n${head}\r\n${req.body ?? ''}`);
}

type Reached = { to: Expected['reached']; record: HostAppRequest | undefined };

function whoWasReached(app: RunningApp, backends: ScenarioBackend[], before: { app: number; backends: number[] }): Reached {
  const hits: { name: string; record: HostAppRequest }[] = [];
  backends.forEach((b, i) => {
    if (b.seen.length > before.backends[i]!) hits.push({ name: b.name, record: b.seen.at(-1)! });
  });
  if (app.appSeen.length > before.app) hits.push({ name: '<host app>', record: app.appSeen.at(-1)! });
  if (hits.length === 0) return { to: 'nobody', record: undefined };
  if (hits.length > 1) return { to: { backend: `several: ${hits.map((h) => h.name).join(', ')}` }, record: undefined };
  const hit = hits[0]!;
  return { to: hit.name === '<host app>' ? 'app' : { backend: hit.name }, record: hit.record };
}

/** What happened, restricted to the fields the expectation names. */
function observe(expected: Expected, reply: Reply, reached: Reached, enforcer: Enforcer, events: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { status: reply.status, reached: reached.to };
  if (expected.reason !== undefined) out['reason'] = reply.statusMessage;
  if (expected.headers) out['headers'] = pickHeaders(reply.headers, Object.keys(expected.headers));
  if (expected.body !== undefined) out['body'] = reply.body;
  if (expected.received) out['received'] = reached.record ? pickReceived(reached.record, expected.received) : '(nothing was reached)';
  if (expected.denyList) out['denyList'] = sortEntries(enforcer.denyList.list('all').map(({ type, value, name, tag }) => ({ type, value, ...(name !== undefined ? { name } : {}), tag })));
  if (expected.events) out['events'] = [...events];
  return out;
}

/** The expectation as jest matchers (RegExp → stringMatching). */
function matcherOf(expected: Expected): Record<string, unknown> {
  const out: Record<string, unknown> = { status: expected.status, reached: expected.reached };
  if (expected.reason !== undefined) out['reason'] = expected.reason;
  if (expected.headers) out['headers'] = Object.fromEntries(Object.entries(expected.headers).map(([k, v]) => [k, match(v)]));
  if (expected.body !== undefined) out['body'] = match(expected.body);
  if (expected.received) out['received'] = expected.received;
  if (expected.denyList) out['denyList'] = sortEntries(expected.denyList);
  if (expected.events) out['events'] = expected.events;
  return out;
}

function match(v: string | RegExp | null): unknown {
  return v instanceof RegExp ? expect.stringMatching(v) : v;
}

function pickHeaders(headers: Reply['headers'], names: string[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const n of names) {
    const v = headers[n];
    out[n] = v === undefined ? null : Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

function pickReceived(record: HostAppRequest, want: Received): Received {
  const out: Received = {};
  if (want.method !== undefined) out.method = record.method;
  if (want.url !== undefined) out.url = record.url;
  if (want.body !== undefined) out.body = record.body;
  if (want.headers) out.headers = pickHeaders(record.headers, Object.keys(want.headers));
  return out;
}

function sortEntries<T>(entries: T[]): T[] {
  return [...entries].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}
