import { type AttackEvent, type Enforcer, createEnforcer, silentLogger } from '@ase/core';
import { type Reply, rawReply, request } from '../helpers/http';
import { type ScenarioBackend, startScenarioBackend } from './backends';
import type { Harness, HostAppRequest, RunningApp } from './harness';
import type {
  Action,
  Answer,
  ConcurrentStep,
  Expected,
  Received,
  RepeatStep,
  RequestStep,
  Scenario,
  ScenarioRequest,
  Step,
  StepExpected,
  WaitStep,
} from './types';

/**
 * Plays one scenario on one framework: starts its backends and an app of that framework with the
 * enforcer mounted, then for each step applies the actions, sends the request(s) over real sockets
 * (or waits for an event), and compares what came back and what reached whom with the step's
 * expectation (one assertion per step, whose diff names the step and every field that differs).
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
    const recorder = recordEvents(enforcer, backends);
    app = await harness.start(enforcer);
    const ctx: StepContext = { app, enforcer, backends, recorder, framework: harness.framework };
    for (const [i, step] of scenario.steps.entries()) {
      for (const action of step.act ?? []) await apply(enforcer, backends, action);
      recorder.clear();
      for (const b of backends) b.control?.beginStep();
      const actual = await playStep(ctx, step, i + 1);
      expect({ step: i + 1, ...actual.observed }).toEqual({ step: i + 1, ...actual.wanted });
    }
  } finally {
    await app?.close();
    await enforcer?.close();
    await Promise.all(backends.map((b) => b.close()));
  }
}

interface StepContext {
  app: RunningApp;
  enforcer: Enforcer;
  backends: ScenarioBackend[];
  recorder: Recorder;
  framework: Harness['framework'];
}

/** What happened in one step and what was expected, both restricted to the fields expected. */
interface Outcome {
  observed: Record<string, unknown>;
  wanted: Record<string, unknown>;
}

function playStep(ctx: StepContext, step: Step, n: number): Promise<Outcome> {
  if ('concurrent' in step) return playConcurrent(ctx, step, n);
  if ('waitFor' in step) return playWait(ctx, step);
  if ('repeat' in step && step.repeat !== undefined) return playRepeat(ctx, step as RepeatStep, n);
  return playRequest(ctx, step as RequestStep, n);
}

async function playRequest(ctx: StepContext, step: RequestStep, n: number): Promise<Outcome> {
  const before = snapshot(ctx);
  const reply = await withTimeout(send(ctx.app.port, step.request), ANSWER_TIMEOUT_MS, `step ${n}: no answer within ${ANSWER_TIMEOUT_MS} ms`);
  const expected = expectationFor(step, ctx.framework);
  const reached = whoWasReached(ctx, before);
  return {
    observed: { ...observeAnswer(expected, reply, reached), ...observeStep(expected, ctx) },
    wanted: { ...answerMatcher(expected), ...stepMatcher(expected) },
  };
}

async function playConcurrent(ctx: StepContext, step: ConcurrentStep, n: number): Promise<Outcome> {
  if (step.expect.answers.length !== step.concurrent.length) throw new Error(`step ${n}: ${step.concurrent.length} requests but ${step.expect.answers.length} expected answers`);
  const before = snapshot(ctx);
  const ids = step.concurrent.map((_r, i) => `${n}.${i + 1}`);
  const replies = await withTimeout(
    Promise.all(step.concurrent.map((r, i) => send(ctx.app.port, { ...r, headers: { ...r.headers, [REQUEST_ID_HEADER]: ids[i]! } }))),
    ANSWER_TIMEOUT_MS,
    `step ${n}: not every answer came within ${ANSWER_TIMEOUT_MS} ms`,
  );
  const reached = ids.map((id) => whoWasReached(ctx, before, id));
  const expected = step.expect.answers;
  // observed[i][j]: answer i seen through the fields answer j expects.
  const observed = replies.map((reply, i) => expected.map((e) => observeAnswer(e, reply, reached[i]!)));
  const wanted = expected.map(answerMatcher);
  const order = pairAnswers(observed, wanted);
  return {
    observed: { answers: order.map((i, j) => (i === undefined ? '(no answer)' : observed[i]![j])), ...observeStep(step.expect, ctx) },
    wanted: { answers: wanted, ...stepMatcher(step.expect) },
  };
}

async function playRepeat(ctx: StepContext, step: RepeatStep, n: number): Promise<Outcome> {
  const spread: Record<string, number> = {};
  const statuses: number[] = [];
  for (let i = 0; i < step.repeat; i++) {
    const before = snapshot(ctx);
    const reply = await withTimeout(send(ctx.app.port, step.request), ANSWER_TIMEOUT_MS, `step ${n}, request ${i + 1}: no answer within ${ANSWER_TIMEOUT_MS} ms`);
    const { to } = whoWasReached(ctx, before);
    const key = typeof to === 'string' ? to : to.backend;
    spread[key] = (spread[key] ?? 0) + 1;
    statuses.push(reply.status);
  }
  const observed: Record<string, unknown> = { spread, ...observeStep(step.expect, ctx) };
  const wanted: Record<string, unknown> = { spread: step.expect.spread, ...stepMatcher(step.expect) };
  if (step.expect.status !== undefined) {
    observed['statuses'] = statuses;
    wanted['statuses'] = statuses.map(() => step.expect.status);
  }
  return { observed, wanted };
}

async function playWait(ctx: StepContext, step: WaitStep): Promise<Outcome> {
  const { event, withinMs } = step.waitFor;
  const came = await ctx.recorder.waitFor(event, withinMs);
  const expected = step.expect ?? {};
  return {
    observed: { [`${event} within ${withinMs} ms`]: came ? 'came' : `did not come (events: ${ctx.recorder.events.join(', ') || 'none'})`, ...observeStep(expected, ctx) },
    wanted: { [`${event} within ${withinMs} ms`]: 'came', ...stepMatcher(expected) },
  };
}

/** A request nobody answers fails its step instead of hanging the run (close() then cuts it). */
const ANSWER_TIMEOUT_MS = 5000;

/** Added to each request of a `concurrent` step, so its answer can be paired with what it reached. */
const REQUEST_ID_HEADER = 'x-conformance-request';

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** The step's expectation, with the framework's documented difference applied. */
export function expectationFor(step: RequestStep, framework: Harness['framework']): Expected {
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

interface Recorder {
  /** Since the step began, as `Expected.events` writes them. */
  readonly events: string[];
  readonly attacks: AttackEvent[];
  clear(): void;
  /** Resolves true when `event` is (or was already) among this step's events, false after `ms`. */
  waitFor(event: string, ms: number): Promise<boolean>;
}

function recordEvents(enforcer: Enforcer, backends: ScenarioBackend[]): Recorder {
  const events: string[] = [];
  const attacks: AttackEvent[] = [];
  const waiters = new Set<() => void>();
  const push = (e: string): void => {
    events.push(e);
    for (const w of [...waiters]) w();
  };
  const nameOf = (server: string): string => backends.find((b) => server.endsWith(`:${b.port}`))?.name ?? server;
  enforcer.on('attack', (e) => {
    attacks.push({ ...e });
    push(`attack:${e.kind}:${e.blocked}`);
  });
  enforcer.on('blocked', (e) => push(`blocked:${e.reason}`));
  enforcer.on('backend_down', (e) => push(`backend_down:${nameOf(e.server)}`));
  enforcer.on('backend_up', (e) => push(`backend_up:${nameOf(e.server)}`));
  enforcer.on('flow_control', (e) => push(`flow_control:${e.kind}`));
  return {
    events,
    attacks,
    clear() {
      events.length = 0;
      attacks.length = 0;
    },
    waitFor: (event, ms) =>
      new Promise<boolean>((resolve) => {
        const done = (ok: boolean): void => {
          waiters.delete(check);
          clearTimeout(timer);
          resolve(ok);
        };
        const check = (): void => {
          if (events.includes(event)) done(true);
        };
        const timer = setTimeout(() => done(false), ms);
        waiters.add(check);
        check();
      }),
  };
}

async function apply(enforcer: Enforcer, backends: ScenarioBackend[], action: Action): Promise<void> {
  if ('deny' in action) await enforcer.addDeny(action.deny, action.tag);
  else if ('allow' in action) await enforcer.addAllow(action.allow);
  else if ('firewall' in action) enforcer.setFirewall(action.firewall);
  else if ('aseDetected' in action) await enforcer.setAseDetectedAttacks(action.aseDetected);
  else if ('breakDecide' in action) {
    enforcer.decide = () => {
      throw new Error('decide exploded');
    };
  } else if ('backend' in action) {
    const b = backends.find((x) => x.name === action.backend);
    if (!b?.control) throw new Error(`action names backend "${action.backend}", which is not a plain HTTP backend of the scenario`);
    b.control.setHealthy(action.healthy);
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
type Snapshot = { app: number; backends: number[] };

function snapshot(ctx: StepContext): Snapshot {
  return { app: ctx.app.appSeen.length, backends: ctx.backends.map((b) => b.seen.length) };
}

/** Who received a request since `before`; with `id`, only the request carrying that REQUEST_ID_HEADER. */
function whoWasReached(ctx: StepContext, before: Snapshot, id?: string): Reached {
  const mine = (r: HostAppRequest): boolean => id === undefined || r.headers[REQUEST_ID_HEADER] === id;
  const hits: { name: string; record: HostAppRequest }[] = [];
  ctx.backends.forEach((b, i) => {
    for (const record of b.seen.slice(before.backends[i]!)) if (mine(record)) hits.push({ name: b.name, record });
  });
  for (const record of ctx.app.appSeen.slice(before.app)) if (mine(record)) hits.push({ name: '<host app>', record });
  if (hits.length === 0) return { to: 'nobody', record: undefined };
  if (hits.length > 1) return { to: { backend: `several: ${hits.map((h) => h.name).join(', ')}` }, record: undefined };
  const hit = hits[0]!;
  return { to: hit.name === '<host app>' ? 'app' : { backend: hit.name }, record: hit.record };
}

/** One answer, restricted to the fields the expectation names. */
function observeAnswer(expected: Answer, reply: Reply, reached: Reached): Record<string, unknown> {
  const out: Record<string, unknown> = { status: reply.status, reached: reached.to };
  if (expected.reason !== undefined) out['reason'] = reply.statusMessage;
  if (expected.headers) out['headers'] = pickHeaders(reply.headers, Object.keys(expected.headers));
  if (expected.body !== undefined) out['body'] = reply.body;
  if (expected.received) out['received'] = reached.record ? pickReceived(reached.record, expected.received) : '(nothing was reached)';
  return out;
}

/** The state after the step and what happened during it, restricted to the fields expected. */
function observeStep(expected: StepExpected, ctx: StepContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (expected.denyList) out['denyList'] = sortEntries(ctx.enforcer.denyList.list('all').map(({ type, value, name, tag }) => ({ type, value, ...(name !== undefined ? { name } : {}), tag })));
  if (expected.events) out['events'] = [...ctx.recorder.events];
  if (expected.attacks) out['attacks'] = [...ctx.recorder.attacks];
  if (expected.backends) {
    const seen: Record<string, unknown> = {};
    for (const [name, want] of Object.entries(expected.backends)) {
      const stats = ctx.backends.find((b) => b.name === name)?.control?.stats();
      seen[name] = stats ? Object.fromEntries(Object.keys(want).map((k) => [k, stats[k as keyof typeof stats]])) : '(not a plain HTTP backend of the scenario)';
    }
    out['backends'] = seen;
  }
  return out;
}

/** An answer's expectation as jest matchers (RegExp → stringMatching). */
function answerMatcher(expected: Answer): Record<string, unknown> {
  const out: Record<string, unknown> = { status: expected.status, reached: expected.reached };
  if (expected.reason !== undefined) out['reason'] = expected.reason;
  if (expected.headers) out['headers'] = Object.fromEntries(Object.entries(expected.headers).map(([k, v]) => [k, match(v)]));
  if (expected.body !== undefined) out['body'] = match(expected.body);
  if (expected.received) out['received'] = expected.received;
  return out;
}

function stepMatcher(expected: StepExpected): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (expected.denyList) out['denyList'] = sortEntries(expected.denyList);
  if (expected.events) out['events'] = expected.events;
  if (expected.attacks) out['attacks'] = expected.attacks;
  if (expected.backends) out['backends'] = expected.backends;
  return out;
}

/**
 * Pairs expected answers with actual ones (any order): `result[j]` is the answer given to
 * expectation j. A complete pairing where every answer matches is found if there is one; otherwise
 * the matching pairs are kept and the rest filled in order, so the diff shows what is off.
 */
function pairAnswers(observed: Record<string, unknown>[][], wanted: Record<string, unknown>[]): (number | undefined)[] {
  const fits = (i: number, j: number): boolean => {
    try {
      expect(observed[i]![j]).toEqual(wanted[j]);
      return true;
    } catch {
      return false;
    }
  };
  const used = new Set<number>();
  const result: (number | undefined)[] = [];
  const search = (j: number): boolean => {
    if (j === wanted.length) return true;
    for (let i = 0; i < observed.length; i++) {
      if (used.has(i) || !fits(i, j)) continue;
      used.add(i);
      result[j] = i;
      if (search(j + 1)) return true;
      used.delete(i);
    }
    return false;
  };
  if (observed.length === wanted.length && search(0)) return result;
  used.clear();
  result.length = 0;
  for (let j = 0; j < wanted.length; j++) {
    const i = observed.findIndex((_o, k) => !used.has(k) && fits(k, j));
    if (i >= 0) {
      used.add(i);
      result[j] = i;
    }
  }
  for (let j = 0; j < wanted.length; j++) {
    if (result[j] !== undefined) continue;
    const i = observed.findIndex((_o, k) => !used.has(k));
    if (i >= 0) used.add(i);
    result[j] = i >= 0 ? i : undefined;
  }
  return result;
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
