import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import fc from 'fast-check';
import { validateApiJson } from '@ase/core';
import { configDir } from '../helpers/config';
import { MOUNTS, type Served, serveAdmin } from '../admin/harness';
import { SEED, pathsOf, pointer, prototypeSnapshot, prototypeUntouched, valueAt } from './hostile';
import { type Hostile, REFUSAL_LABELS, REFUSAL_STATUSES, START_APIS, type State, hostileRequest, send, stateOf } from './management-requests';

/*
 * Generated hostile requests to every endpoint of the management API, through a real standalone
 * listener: random and mutated JSON, wrong types, huge, deep, `__proto__`, bytes that are not JSON
 * or not UTF-8, wrong or missing content types, random query parameters and paths. A refused
 * request gets a documented 4xx with the `{"status", "status_message"}` envelope (never a 500,
 * never slowly), leaves the APIs, lists, switches and config files byte for byte as they were, and
 * the server answers the next call. An API body that is accepted reads back as sent.
 */

const MAX_MS = 5_000;

/** Rates off by default that the read form leaves out on the protocol they do not apply to. */
const HIDDEN_WHEN_OFF = /^\/api_metadata\/(?:flow_control\/bytes_(?:in|out)_threshold|servers\/\d+\/server_spike_threshold)$/;

/** Every field sent reads back with the value sent (methods in upper case, each once). */
function readsBackAsSent(sent: unknown, read: unknown): void {
  for (const at of pathsOf(sent)) {
    const v = valueAt(sent, at);
    if (v !== null && typeof v === 'object') continue;
    const where = pointer(at);
    if (where.includes('/methods_allowed/')) continue;
    const got = valueAt(read, at.slice(0, -1)) as Record<string | number, unknown> | undefined;
    const last = at[at.length - 1]!;
    if (got && !Object.prototype.hasOwnProperty.call(got, last) && HIDDEN_WHEN_OFF.test(where) && /^0\//.test(String(v))) continue;
    expect([where, got?.[last]]).toEqual([where, v]);
  }
  const methods = (sent as { api_metadata: { api_pattern_enforcement?: { methods_allowed?: string[] } } }).api_metadata.api_pattern_enforcement?.methods_allowed;
  if (methods) {
    expect((read as { api_metadata: { api_pattern_enforcement: { methods_allowed: string[] } } }).api_metadata.api_pattern_enforcement.methods_allowed).toEqual([
      ...new Set(methods.map((m) => m.toUpperCase())),
    ]);
  }
}

function describeRequest(r: Hostile): string {
  const body = r.body === undefined ? 'no body' : `${r.body.length} bytes: ${r.body.subarray(0, 200).toString('utf8')}`;
  return `${r.method} ${r.path} ${JSON.stringify(r.query).slice(0, 200)} content-type ${String(r.contentType)}, ${body}`;
}

describe.each(MOUNTS.filter((m) => m.name === 'standalone listener'))('generated hostile management requests on the $name', (mount) => {
  let s: Served;
  let secret = 'admin';
  /** The state reads share connections; every hostile request has its own. */
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  beforeAll(async () => {
    s = await serveAdmin(mount, { dir: configDir({ apis: START_APIS }) });
  });
  afterAll(async () => {
    agent.destroy();
    await s.close();
    fs.rmSync(s.dir, { recursive: true, force: true });
  });

  test('a refusal is a documented 4xx that changes nothing; an accepted API reads back as sent', async () => {
    const before = prototypeSnapshot();
    let state: State = await stateOf(s.port, secret, s.dir, agent);
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(hostileRequest, async (r) => {
        const started = performance.now();
        const reply = await send(s.port, secret, r);
        const ms = performance.now() - started;
        const label = describeRequest(r);
        expect([label, ms < MAX_MS]).toEqual([label, true]);
        expect(prototypeUntouched(before)).toBe(true);
        if (!(r.path === '/metrics' && reply.status === 200)) expect(reply.headers['content-type']).toMatch(/^application\/json/);
        if (reply.status >= 300) {
          expect([label, REFUSAL_STATUSES.has(reply.status), reply.text]).toEqual([label, true, reply.text]);
          expect(reply.json).toEqual({ status: expect.any(String), status_message: expect.any(String) });
          const { status, status_message } = reply.json as { status: string; status_message: string };
          expect([label, REFUSAL_LABELS.has(status)]).toEqual([label, true]);
          expect(status_message.length).toBeLessThan(64 * 1024);
          // Nothing changed, and the server still answers.
          const after = await stateOf(s.port, secret, s.dir, agent);
          expect([label, after]).toEqual([label, state]);
          return;
        }
        expect(reply.status).toBe(200);
        if (r.method === 'POST' && r.path === '/v4/ase/password') secret = (JSON.parse(r.body!.toString('utf8')) as { new_password: string }).new_password;
        const after = await stateOf(s.port, secret, s.dir, agent);
        if (r.method === 'GET') expect([label, after]).toEqual([label, state]);
        if (r.sent && r.path === '/v4/ase/api' && (r.method === 'POST' || r.method === 'PUT')) {
          accepted++;
          const id = r.query.find(([k]) => k === 'api_id')![1];
          const file = JSON.parse(fs.readFileSync(path.join(s.dir, 'api', `${id}.json`), 'utf8')) as unknown;
          expect(file).toEqual(validateApiJson(r.sent.doc, 'sent').api);
          readsBackAsSent(r.sent.doc, (after.apis as Record<string, { api: unknown }>)[id]!.api);
        }
        state = after;
      }),
      { seed: SEED, numRuns: 150, endOnFailure: true },
    );
    // The generated bodies reach the accepting path too, not only the refusals.
    expect(accepted).toBeGreaterThan(0);
  }, 90_000);
});
