import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { api } from '../helpers/config';
import { request } from '../helpers/http';

export const ADMIN = { 'x-ase-access-key': 'admin', 'x-ase-secret-key': 'admin', 'content-type': 'application/json' };

/**
 * What a stream of management writes should have left: the state every acknowledged write made,
 * plus, per key, the write that was under way when the process died (its effect may or may not be
 * on disk: it was never acknowledged, so either is right).
 */
export interface Model {
  /** api id -> the backend port of its only server (updates change it). */
  apis: Map<string, number>;
  deny: Set<string>;
  allow: Set<string>;
  firewall: boolean;
  /** Keys (`api:<id>`, `deny:<ip>`, `allow:<token>`, `firewall`) whose last write got no answer, and what it would have changed. */
  unsure: Map<string, (m: Model) => void>;
}

export function newModel(apis: Record<string, number> = {}): Model {
  return { apis: new Map(Object.entries(apis)), deny: new Set(), allow: new Set(), firewall: true, unsure: new Map() };
}

/** One write: the request, and what it changes in the model once it is acknowledged. */
interface Write {
  key: string;
  method: string;
  path: string;
  body?: unknown;
  apply(m: Model): void;
}

/**
 * The next write lane `lane` makes: each lane owns its keys (API ids, IPs, tokens; lane 0 also the
 * firewall switch), so one lane's writes are answered in the order they were sent and the model
 * can follow them.
 */
export function nextWrite(m: Model, lane: number, n: number, backendPort: number): Write {
  const mine = <T extends string>(all: Iterable<T>, prefix: string): T[] => [...all].filter((k) => k.startsWith(prefix));
  const apiIds = mine(m.apis.keys(), `w${lane}-`);
  const ips = mine(m.deny, `10.${lane}.`);
  const tokens = mine(m.allow, `t${lane}-`);
  const pick = <T>(xs: T[]): T => xs[n % xs.length]!;
  const kind = n % 9;
  if (kind === 0 || (kind <= 2 && apiIds.length === 0)) {
    const id = `w${lane}-${n}`;
    const port = backendPort;
    return { key: `api:${id}`, method: 'POST', path: `/v4/ase/api?api_id=${id}`, body: apiBody(id, port), apply: (s) => void s.apis.set(id, port) };
  }
  if (kind === 1) {
    const id = pick(apiIds);
    const port = 20000 + (n % 40000);
    return { key: `api:${id}`, method: 'PUT', path: `/v4/ase/api?api_id=${id}`, body: apiBody(id, port), apply: (s) => void s.apis.set(id, port) };
  }
  if (kind === 2) {
    const id = pick(apiIds);
    return { key: `api:${id}`, method: 'DELETE', path: `/v4/ase/api?api_id=${id}`, apply: (s) => void s.apis.delete(id) };
  }
  if (kind === 3 || kind === 4 || (kind === 5 && ips.length === 0)) {
    const ip = `10.${lane}.${(n >> 8) & 255}.${n & 255}`;
    return { key: `deny:${ip}`, method: 'POST', path: '/v4/ase/firewall/blacklist', body: { type: 'ip', value: ip }, apply: (s) => void s.deny.add(ip) };
  }
  if (kind === 5) {
    const ip = pick(ips);
    return { key: `deny:${ip}`, method: 'DELETE', path: '/v4/ase/firewall/blacklist', body: { type: 'ip', value: ip }, apply: (s) => void s.deny.delete(ip) };
  }
  if (kind === 6 || tokens.length === 0) {
    const token = `t${lane}-${n}`;
    return { key: `allow:${token}`, method: 'POST', path: '/v4/ase/firewall/whitelist', body: { type: 'token', value: token }, apply: (s) => void s.allow.add(token) };
  }
  if (kind === 7 || lane !== 0) {
    const token = pick(tokens);
    return { key: `allow:${token}`, method: 'DELETE', path: '/v4/ase/firewall/whitelist', body: { type: 'token', value: token }, apply: (s) => void s.allow.delete(token) };
  }
  const on = !m.firewall;
  return { key: 'firewall', method: 'POST', path: `/v4/ase/firewall?status=${on ? 'enable' : 'disable'}`, apply: (s) => void (s.firewall = on) };
}

export function apiBody(id: string, port: number): unknown {
  return api(`/${id}`, { servers: [{ host: '127.0.0.1', port }] });
}

/** One management call over a kept-alive connection; resolves with the status, or rejects when the process is gone. */
export function call(agent: http.Agent, port: number, w: { method: string; path: string; body?: unknown }): Promise<{ status: number; body: string }> {
  const body = w.body === undefined ? undefined : JSON.stringify(w.body);
  // An explicit length: Node sends a DELETE's body without one, and a kept-alive server then reads it as the next request.
  const headers = { ...ADMIN, 'content-length': String(body === undefined ? 0 : Buffer.byteLength(body)) };
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: w.method, path: w.path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Runs `lanes` writers until `stop()` resolves or a call fails (the process died). An answered
 * write updates the model when it is 200; any other status must be one of `refused` (and changes
 * nothing). Returns every status seen.
 */
export async function writeUntil(
  m: Model,
  o: { adminPort: number; backendPort: number; lanes: number; start: number; refused?: number[]; stop: Promise<unknown> },
): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true });
  const statuses: number[] = [];
  let stopped = false;
  void o.stop.then(() => (stopped = true));
  const lane = async (l: number): Promise<void> => {
    for (let n = o.start; !stopped; n++) {
      const w = nextWrite(m, l, n, o.backendPort);
      m.unsure.set(w.key, w.apply);
      let answer: { status: number; body: string };
      try {
        answer = await call(agent, o.adminPort, w);
      } catch {
        return; // the process died with this write unanswered: it stays unsure
      }
      m.unsure.delete(w.key);
      statuses.push(answer.status);
      if (answer.status === 200) w.apply(m);
      else if (!(o.refused ?? []).includes(answer.status)) throw new Error(`${w.method} ${w.path} answered ${answer.status}: ${answer.body}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: o.lanes }, (_, l) => lane(l)));
  } finally {
    agent.destroy();
  }
  return statuses;
}

/** The state a running `ase start` serves, read over the management API. */
export async function served(adminPort: number): Promise<{ apis: Map<string, number>; deny: Set<string>; allow: Set<string>; firewall: boolean }> {
  const get = async (p: string): Promise<Record<string, unknown>> => {
    const r = await request(adminPort, { path: p, headers: ADMIN });
    if (r.status !== 200) throw new Error(`GET ${p} answered ${r.status}: ${r.body}`);
    return JSON.parse(r.body) as Record<string, unknown>;
  };
  const list = (await get('/v4/ase/api'))['api'] as { api_id: string }[];
  const apis = new Map<string, number>();
  for (const { api_id: id } of list) {
    const json = (await get(`/v4/ase/api?api_id=${id}`)) as { api_metadata: { servers: { port: number }[] } };
    apis.set(id, json.api_metadata.servers[0]!.port);
  }
  const deny = new Set(((await get('/v4/ase/firewall/blacklist?tag=manual'))['manual_blacklist'] as { value: string }[]).map((e) => e.value));
  const allow = new Set(((await get('/v4/ase/firewall/whitelist'))['whitelist'] as { value: string }[]).map((e) => e.value));
  const firewall = (await get('/v4/ase/firewall'))['status'] === 'enabled';
  return { apis, deny, allow, firewall };
}

type Served = Awaited<ReturnType<typeof served>>;

function copy(m: Model): Model {
  return { apis: new Map(m.apis), deny: new Set(m.deny), allow: new Set(m.allow), firewall: m.firewall, unsure: new Map() };
}

/**
 * Checks that `state` is what was acknowledged, where each unsure key may also hold what its
 * unanswered write would have made; throws naming the first key that differs. Afterwards the
 * model is `state` (the unsure writes resolved one way or the other).
 */
export function expectMatches(m: Model, state: Served): void {
  const alt = copy(m);
  for (const apply of m.unsure.values()) apply(alt);
  const check = (key: string, now: unknown, acked: unknown, unanswered: unknown): void => {
    if (now === acked || (m.unsure.has(key) && now === unanswered)) return;
    throw new Error(`${key}: served ${String(now)}, acknowledged ${String(acked)}${m.unsure.has(key) ? ` (or ${String(unanswered)})` : ''}`);
  };
  for (const id of new Set([...m.apis.keys(), ...alt.apis.keys(), ...state.apis.keys()])) check(`api:${id}`, state.apis.get(id), m.apis.get(id), alt.apis.get(id));
  for (const v of new Set([...m.deny, ...alt.deny, ...state.deny])) check(`deny:${v}`, state.deny.has(v), m.deny.has(v), alt.deny.has(v));
  for (const v of new Set([...m.allow, ...alt.allow, ...state.allow])) check(`allow:${v}`, state.allow.has(v), m.allow.has(v), alt.allow.has(v));
  check('firewall', state.firewall, m.firewall, alt.firewall);
  Object.assign(m, { apis: new Map(state.apis), deny: new Set(state.deny), allow: new Set(state.allow), firewall: state.firewall, unsure: new Map() });
}

/** Every file under `dir`, as paths relative to it. */
export function filesUnder(dir: string, rel = ''): string[] {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((d) => {
    const p = path.join(rel, d.name);
    return d.isDirectory() ? filesUnder(dir, p) : [p];
  });
}
