import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import fc from 'fast-check';
import { FORBIDDEN, type Mutation, SAMPLE_APIS, applyMutation, hostileString, hostileValue, mutationOf, ownKey, pathsOf, valueAt } from './hostile';

/*
 * Hostile management requests, and what the management API's state is (APIs as GET reads them, the
 * lists, the switches, the files of the config directory) so that a refused request can be shown to
 * have changed nothing.
 */

/** Every endpoint of the route table (packages/admin/src/admin.ts) with the methods it answers; `/metrics` answers Prometheus's text. */
export const ENDPOINTS: Readonly<Record<string, readonly string[]>> = {
  '/v4/ase/api': ['GET', 'POST', 'PUT', 'DELETE'],
  '/v4/ase/server': ['GET', 'POST', 'DELETE'],
  '/v4/ase/cluster': ['GET'],
  '/v4/ase/persistentconnection': ['GET'],
  '/v4/ase/firewall': ['GET', 'POST'],
  '/v4/ase/firewall/blacklist': ['GET', 'POST', 'DELETE'],
  '/v4/ase/firewall/whitelist': ['GET', 'POST', 'DELETE'],
  '/v4/ase/firewall/flowcontrol': ['GET', 'POST'],
  '/v4/ase/firewall/flowcontrol/server': ['POST'],
  '/v4/ase/status': ['GET'],
  '/v4/ase/asedetectedattack': ['GET', 'POST'],
  '/v4/ase/password': ['POST'],
  '/metrics': ['GET'],
};

/** The API ids the generated state starts with, and the samples they hold. */
export const REST_SAMPLE = SAMPLE_APIS.find((s) => s.name === 'sample-rest-001')!.json;
export const WS_SAMPLE = SAMPLE_APIS.find((s) => s.name === 'sample-ws-002')!.json;
export const START_APIS = { rest: REST_SAMPLE, ws: WS_SAMPLE };

/** The `status` words and HTTP statuses the admin README documents for refusals. */
export const REFUSAL_LABELS = new Set(['fail', 'validation_error', 'api_already_exists', 'server_exists', 'invalid_value', 'api_not_found', 'server_not_found', 'no_cluster_mode']);
export const REFUSAL_STATUSES = new Set([403, 404, 405, 413, 415, 431]);

export interface Hostile {
  method: string;
  path: string;
  /** Query string pairs, in order (repeats allowed). */
  query: [string, string][];
  contentType: string | undefined;
  body: Buffer | undefined;
  /** What the body is, for the read-back check of accepted API bodies. */
  sent?: { kind: 'api'; doc: unknown };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: unknown;
}

/** Every byte of `s` (UTF-8, a lone surrogate as U+FFFD) but letters and digits as %XX. */
function percent(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`)).join('');
}

/** One request (on a fresh connection unless `agent` is given); the body's bytes exactly as given. */
export function send(port: number, secret: string, r: Pick<Hostile, 'method' | 'path' | 'query' | 'contentType' | 'body'>, agent: http.Agent | false = false): Promise<Reply> {
  const qs = r.query.map(([k, v]) => `${percent(k)}=${percent(v)}`).join('&');
  const headers: Record<string, string> = { 'x-ase-access-key': 'admin', 'x-ase-secret-key': secret };
  if (r.contentType !== undefined) headers['content-type'] = r.contentType;
  if (r.body !== undefined) headers['content-length'] = String(r.body.length);
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request({ host: '127.0.0.1', port, method: r.method, path: qs ? `${r.path}?${qs}` : r.path, headers, agent }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    // A server that answers 413 early may close while a large body is still being written.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.end(r.body);
  });
}

/** Every file under `dir` (but the audit log, which records every call), with its bytes. */
export function filesOf(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (path.relative(dir, p) !== 'logs') walk(p);
      } else out.set(path.relative(dir, p), fs.readFileSync(p).toString('base64'));
    }
  };
  walk(dir);
  return out;
}

export interface State {
  apis: unknown;
  lists: unknown;
  switches: unknown;
  files: Map<string, string>;
}

/** The state as the management API reads it, and the config directory's files. */
export async function stateOf(port: number, secret: string, dir: string, agent: http.Agent): Promise<State> {
  const get = async (p: string, query: [string, string][] = []): Promise<unknown> => {
    const r = await send(port, secret, { method: 'GET', path: p, query, contentType: undefined, body: undefined }, agent);
    if (r.status !== 200) throw new Error(`GET ${p} answered ${r.status}: ${r.text}`);
    return r.json;
  };
  const list = (await get('/v4/ase/api')) as { api: { api_id: string }[] };
  const apis: Record<string, unknown> = { list };
  for (const { api_id } of list.api) apis[api_id] = { api: await get('/v4/ase/api', [['api_id', api_id]]) };
  return {
    apis,
    lists: { deny: await get('/v4/ase/firewall/blacklist'), allow: await get('/v4/ase/firewall/whitelist') },
    switches: { firewall: await get('/v4/ase/firewall'), detected: await get('/v4/ase/asedetectedattack') },
    files: filesOf(dir),
  };
}

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v) ?? 'null');

/** Bodies that are not JSON, or JSON that a careful parser must refuse. */
const rawBody: fc.Arbitrary<Buffer> = fc.oneof(
  fc.constant(Buffer.alloc(0)),
  fc.string({ maxLength: 64 }).map((s) => Buffer.from(s)),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
  fc.constantFrom('{', '{"a":', '[1,]', 'nul', '{"a":1}garbage', '\ufeff{}', '"\\ud800"', '1e999', '{"a":1,"a":2}').map((s) => Buffer.from(s)),
  fc.constantFrom(...FORBIDDEN).map((k) => Buffer.from(`{"${k}":{"polluted":"yes"}}`)),
  fc.constantFrom(...FORBIDDEN).map((k) => Buffer.from(`{"api_metadata":{"url":"/p","hostname":"*","${k}":{"polluted":"yes"}}}`)),
  fc.integer({ min: 1_000, max: 200_000 }).map((n) => Buffer.from(`${'['.repeat(n)}${']'.repeat(n)}`)),
  fc.integer({ min: 1_000, max: 100_000 }).map((n) => Buffer.from(`${'{"a":'.repeat(n)}1${'}'.repeat(n)}`)),
  fc.constant(Buffer.alloc(1024 * 1024 + 1, 0x20)),
  fc.tuple(fc.nat(40), fc.constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80])).map(([at, bad]) => {
    const b = Buffer.from('{"type":"ip","value":"1.2.3.4"}');
    return Buffer.concat([b.subarray(0, at % b.length), Buffer.from(bad), b.subarray(at % b.length)]);
  }),
);

const entryBody = fc.record(
  { type: fc.oneof(fc.constantFrom('ip', 'token', 'username', 'cookie', 'api_key'), hostileValue), name: fc.oneof(hostileString, hostileValue), value: fc.oneof(fc.constantFrom('1.2.3.4', '::1', 'tok', '2001:db8::/64'), hostileValue), extra: hostileValue },
  { requiredKeys: [] },
);
const serverBody = fc.record(
  { host: fc.oneof(fc.constantFrom('127.0.0.1', '10.0.0.9'), hostileValue), port: fc.oneof(fc.constantFrom(8080, 9000), hostileValue), server_spike_threshold: hostileValue, server_connection_quota: hostileValue, extra: hostileValue },
  { requiredKeys: [] },
);
const flowBody = fc.record(
  { client_spike_threshold: fc.oneof(fc.constant('5/second'), hostileValue), server_connection_queueing: hostileValue, bytes_in_threshold: hostileValue, nope: hostileValue },
  { requiredKeys: [] },
);

/** Changes that keep an API valid: an optional field dropped, a boolean flipped, a free-text field given any text. */
function benignMutationOf(doc: unknown): fc.Arbitrary<Mutation> {
  const leaves = pathsOf(doc).filter((p) => {
    const v = valueAt(doc, p);
    return p.length > 0 && (v === null || typeof v !== 'object');
  });
  const optional = leaves.filter((p) => !['url', 'hostname', 'host', 'port'].includes(String(p[p.length - 1])));
  const booleans = leaves.filter((p) => typeof valueAt(doc, p) === 'boolean');
  return fc.oneof(
    fc.constantFrom(...optional).map((at): Mutation => ({ op: 'delete', at })),
    fc.constantFrom(...booleans).map((at): Mutation => ({ op: 'replace', at, value: !(valueAt(doc, at) as boolean) })),
    fc.tuple(fc.constantFrom(['api_metadata', 'api_pattern_enforcement', 'error_message_body'], ['api_metadata', 'decoy_config', 'response_message']), fc.string({ unit: 'binary', maxLength: 200 })).map(
      ([at, value]): Mutation => ({ op: 'replace', at, value }),
    ),
  );
}

/** A sample API under a fresh url (so that a valid one does not clash with the others), mutated hostilely or benignly. */
const apiBody: fc.Arbitrary<{ doc: unknown }> = fc
  .tuple(fc.constantFrom(REST_SAMPLE, WS_SAMPLE), fc.integer({ min: 0, max: 1_000_000 }))
  .chain(([sample, n]) => {
    const fresh = JSON.parse(JSON.stringify(sample)) as { api_metadata: { url: string } };
    fresh.api_metadata.url = `/fuzz${n}`;
    const m = fc.oneof({ weight: 2, arbitrary: mutationOf(fresh) }, benignMutationOf(fresh), fc.constant(undefined));
    return m.map((x) => ({ doc: x ? applyMutation(fresh, x) : fresh }));
  });

type Body = { bytes: Buffer; api?: unknown };
const apiJsonBody: fc.Arbitrary<Body> = apiBody.map(({ doc }) => ({ bytes: json(doc), api: doc }));
const wrapped = (key: string, inner: fc.Arbitrary<unknown>): fc.Arbitrary<Body> =>
  fc.oneof({ weight: 4, arbitrary: inner.map((v) => ({ bytes: json({ [key]: v }) })) }, fc.tuple(inner, hostileValue).map(([v, x]) => ({ bytes: json({ [key]: v, extra: x }) })));

/** Bodies shaped for one endpoint, with hostile values inside. */
const SUITED: Readonly<Record<string, fc.Arbitrary<Body>>> = {
  '/v4/ase/api': apiJsonBody,
  '/v4/ase/server': wrapped('server', serverBody),
  '/v4/ase/firewall/blacklist': entryBody.map((v) => ({ bytes: json(v) })),
  '/v4/ase/firewall/whitelist': entryBody.map((v) => ({ bytes: json(v) })),
  '/v4/ase/firewall/flowcontrol': wrapped('flow_control', flowBody),
  '/v4/ase/firewall/flowcontrol/server': wrapped('server', serverBody),
  '/v4/ase/password': fc.record({ new_password: fc.oneof(hostileString, hostileValue) }).map((v) => ({ bytes: json(v) })),
};

const anyBody: fc.Arbitrary<Body> = fc.oneof(
  { weight: 3, arbitrary: rawBody.map((bytes) => ({ bytes })) },
  { weight: 2, arbitrary: hostileValue.map((v) => ({ bytes: json(v) })) },
  { weight: 2, arbitrary: fc.oneof(...Object.values(SUITED)) },
  fc.tuple(fc.constantFrom(...FORBIDDEN), hostileValue).map(([k, v]) => ({ bytes: json(ownKey(k, v)) })),
);

const bodyFor = (p: string): fc.Arbitrary<Body | undefined> =>
  fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: anyBody }, { weight: SUITED[p] ? 4 : 0, arbitrary: SUITED[p] ?? anyBody });

const apiId = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('rest', 'ws') },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 20 }).map((n) => `fuzz${n}`) },
  fc.constantFrom('nope', 'all', '', ' ', '../x', 'a/b', 'constructor', '__proto__', 'x'.repeat(200)),
  hostileString,
);
const queryPair: fc.Arbitrary<[string, string]> = fc.oneof(
  { weight: 4, arbitrary: apiId.map((v): [string, string] => ['api_id', v]) },
  fc.oneof(fc.constantFrom('enable', 'disable', 'ENABLE', ''), hostileString).map((v): [string, string] => ['status', v]),
  fc.oneof(fc.constantFrom('all', 'manual', 'decoy', 'abs_generated', 'missing_token', ''), hostileString).map((v): [string, string] => ['tag', v]),
  fc.tuple(fc.oneof(hostileString, fc.constantFrom(...FORBIDDEN)), hostileString),
);

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  fc.constantFrom(undefined, '', 'text/plain', 'application/json; charset=utf-8', 'application/merge-patch+json', 'APPLICATION/JSON', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', ';;;', 'application/json;;', 'json', '*/*'),
);

const PAIRS = Object.entries(ENDPOINTS).flatMap(([p, methods]) => methods.map((m) => [p, m] as const));
const target = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...PAIRS) },
  { weight: 3, arbitrary: fc.constantFrom(['/v4/ase/api', 'POST'] as const, ['/v4/ase/api', 'PUT'] as const) },
  fc.tuple(
    fc.constantFrom(...Object.keys(ENDPOINTS), '/v4/ase', '/v4/ase/', '/v4/ase/api/', '/v4/ase/API', '/v4/ase/api/x', '/v4/ase/firewall/blacklist/x', '/v4/ase/%2e%2e/status', '/v4/ase/api%3f'),
    fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
  ),
);

/** A request to any endpoint, with any method, query, content type and body; mostly a real endpoint and a body shaped for it. */
export const hostileRequest: fc.Arbitrary<Hostile> = target
  .chain(([p, method]) =>
    fc.record({
      path: fc.constant(p),
      method: fc.constant(method),
      query: fc.oneof({ weight: 3, arbitrary: apiId.map((v): [string, string][] => [['api_id', v]]) }, fc.array(queryPair, { maxLength: 3 })),
      contentType,
      body: bodyFor(p),
    }),
  )
  .map((r) => {
    const out: Hostile = { method: r.method, path: r.path, query: r.query, contentType: r.contentType, body: r.body?.bytes };
    if (r.body?.api !== undefined) out.sent = { kind: 'api', doc: r.body.api };
    return out;
  });
