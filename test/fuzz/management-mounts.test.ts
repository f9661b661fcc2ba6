import * as fs from 'node:fs';
import * as http from 'node:http';
import { configDir } from '../helpers/config';
import { MOUNTS, serveAdmin } from '../admin/harness';
import { prototypeSnapshot, prototypeUntouched } from './hostile';
import { type Hostile, START_APIS, filesOf, send, stateOf } from './management-requests';

/*
 * The hostile requests of the generated tests, as a table run on every mount (standalone listener,
 * Express router, Koa middleware, Fastify plugin): each mount gives the same status and body, and
 * none of them changes anything.
 */

/** `contentType` null: no Content-Type header. */
const req = (method: string, path: string, body?: string | Buffer, contentType: string | null = 'application/json', query: [string, string][] = []): Hostile => ({
  method,
  path,
  query,
  contentType: contentType ?? undefined,
  body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body),
});

const unknownKeys = JSON.stringify({ api_metadata: { url: '/x', hostname: '*', ...Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [`k${i}`, i])) } });

const TABLE: readonly [string, Hostile, number, string][] = [
  ['a body that is not UTF-8', req('POST', '/v4/ase/firewall/blacklist', Buffer.from([...Buffer.from('{"type":"ip","value":"1.2.3.4'), 0xff, ...Buffer.from('"}')])), 403, 'fail'],
  ['a key twice in one object', req('POST', '/v4/ase/firewall/blacklist', '{"type":"ip","value":"1.1.1.1","value":"2.2.2.2"}'), 403, 'validation_error'],
  ['__proto__', req('POST', '/v4/ase/firewall/blacklist', '{"__proto__":{"polluted":"yes"},"type":"ip","value":"1.1.1.1"}'), 403, 'validation_error'],
  ['constructor deep in an API', req('POST', '/v4/ase/api', '{"api_metadata":{"url":"/p","hostname":"*","jwt":{"constructor":{"prototype":{}}}}}', 'application/json', [['api_id', 'p']]), 403, 'validation_error'],
  ['text/plain', req('POST', '/v4/ase/firewall/blacklist', '{"type":"ip","value":"1.1.1.1"}', 'text/plain'), 415, 'fail'],
  ['a content type that is no media type', req('POST', '/v4/ase/firewall/blacklist', '{"type":"ip","value":"1.1.1.1"}', ';;;'), 415, 'fail'],
  ['"json" as the content type', req('POST', '/v4/ase/firewall/blacklist', '{"type":"ip","value":"1.1.1.1"}', 'json'), 415, 'fail'],
  ['two media types', req('POST', '/v4/ase/firewall/blacklist', '{"type":"ip","value":"1.1.1.1"}', 'application/json, text/plain'), 415, 'fail'],
  ['an empty content type', req('POST', '/v4/ase/firewall/blacklist', '{"type":"ip","value":"1.1.1.1"}', ''), 403, 'fail'],
  ['no content type', req('POST', '/v4/ase/firewall/blacklist', '{"type":"ip","value":"1.1.1.1"}', null), 403, 'fail'],
  ['an empty body', req('POST', '/v4/ase/firewall/blacklist', ''), 403, 'fail'],
  ['not JSON', req('POST', '/v4/ase/firewall/whitelist', '{"type":"ip",'), 403, 'fail'],
  ['100 000 levels of nesting', req('POST', '/v4/ase/firewall/whitelist', `${'['.repeat(100_000)}${']'.repeat(100_000)}`), 403, 'fail'],
  ['1 MiB and one byte', req('POST', '/v4/ase/api', Buffer.alloc(1024 * 1024 + 1, 0x20), 'application/json', [['api_id', 'big']]), 413, 'fail'],
  ['1 000 unknown keys', req('POST', '/v4/ase/api', unknownKeys, 'application/json', [['api_id', 'x']]), 403, 'validation_error'],
  ['a list for an API', req('POST', '/v4/ase/api', '[]', 'application/json', [['api_id', 'x']]), 403, 'validation_error'],
  ['a port out of range', req('POST', '/v4/ase/server', '{"server":{"host":"127.0.0.1","port":1e308}}', 'application/json', [['api_id', 'rest']]), 403, 'validation_error'],
  ['a rate with a control character', req('POST', '/v4/ase/firewall/flowcontrol', '{"flow_control":{"client_spike_threshold":"5/second\\u0000"}}', null, [['api_id', 'rest']]), 403, 'validation_error'],
  ['an unknown API', req('PUT', '/v4/ase/api', JSON.stringify(START_APIS.rest), 'application/json', [['api_id', 'nope']]), 404, 'api_not_found'],
  ['api_id twice', req('GET', '/v4/ase/api', undefined, null, [['api_id', 'rest'], ['api_id', 'ws']]), 403, 'validation_error'],
  ['a hostile status', req('POST', '/v4/ase/firewall', undefined, null, [['status', 'enable\u0000']]), 403, 'invalid_value'],
  ['a hostile tag', req('DELETE', '/v4/ase/firewall/blacklist', undefined, null, [['tag', '__proto__']]), 403, 'invalid_value'],
  ['a password that is a number', req('POST', '/v4/ase/password', '{"new_password":123456789012}'), 403, 'validation_error'],
  ['PATCH', req('PATCH', '/v4/ase/api', '{}'), 405, 'fail'],
  ['an unknown endpoint', req('GET', '/v4/ase/api/..'), 404, 'fail'],
];

describe('hostile management requests: the same answer on every mount, and nothing changes', () => {
  const answers = new Map<string, unknown[]>();

  test.each(MOUNTS)('$name', async (mount) => {
    const s = await serveAdmin(mount, { dir: configDir({ apis: START_APIS }) });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const before = prototypeSnapshot();
    try {
      const state = await stateOf(s.port, 'admin', s.dir, agent);
      const got: unknown[] = [];
      for (const [label, r, status, word] of TABLE) {
        const reply = await send(s.port, 'admin', r);
        got.push([label, reply.status, reply.json]);
        expect([label, reply.status, (reply.json as { status?: unknown } | undefined)?.status]).toEqual([label, status, word]);
      }
      expect(await stateOf(s.port, 'admin', s.dir, agent)).toEqual(state);
      expect(filesOf(s.dir)).toEqual(state.files);
      expect(prototypeUntouched(before)).toBe(true);
      answers.set(mount.name, got);
      // Every mount answers exactly as the standalone listener does.
      expect(got).toEqual(answers.get(MOUNTS[0]!.name));
    } finally {
      agent.destroy();
      await s.close();
      fs.rmSync(s.dir, { recursive: true, force: true });
    }
  }, 60_000);
});
