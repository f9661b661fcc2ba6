import * as fs from 'node:fs';
import * as path from 'node:path';
import { api } from '../helpers/config';
import { MOUNTS, type Mount, type Served, call, serveAdmin } from './harness';
import { IP_ENTRY, asReferenceClient } from './seed-samples';

/*
 * Requests sent exactly as the reference's REST API page (seed 002) writes them, on every mount, and
 * the reference's sample API files (packages/core/test/config/fixtures) read back through GET /v4/ase/api.
 */

const SAMPLES = Object.fromEntries(
  ['sample-rest-001', 'sample-rest-002', 'sample-ws-002'].map((n) => [n, JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'packages', 'core', 'test', 'config', 'fixtures', `${n}.json`), 'utf8')) as { api_metadata: Record<string, unknown> }]),
);

/** The reference's fields every API has, whatever their value (its extensions are not among them). */
const DEFAULT_VALUED = { is_token_mandatory: false, health_check_headers: {}, username_header: '', jwt: { location: '', username: '', clientid: '' } };

async function on(mount: Mount, opts: Parameters<typeof serveAdmin>[1], fn: (s: Served) => Promise<void>): Promise<void> {
  const s = await serveAdmin(mount, opts);
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

/** Only the reference's own headers: the access keys and `Accept` (no Content-Type). */
const REFERENCE_HEADERS = { 'x-ase-access-key': 'admin', 'x-ase-secret-key': 'admin', accept: 'application/json' };

describe.each(MOUNTS)('reference REST API requests on the $name', (mount) => {
  test('GET /v4/ase/firewall/blacklist?tag= (empty, as the reference writes it) lists every tag, like tag=all', async () => {
    await on(mount, {}, async (s) => {
      await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: IP_ENTRY });
      const all = await call(s.port, 'GET', '/v4/ase/firewall/blacklist?tag=all');
      const empty = await call(s.port, 'GET', '/v4/ase/firewall/blacklist?tag=');
      expect([empty.status, empty.json]).toEqual([200, all.json]);
      expect(asReferenceClient(empty.json).manual_blacklist).toEqual([IP_ENTRY]);
      const allow = await call(s.port, 'GET', '/v4/ase/firewall/whitelist?tag=');
      expect(allow.status).toBe(200);
    });
  });

  test('DELETE with an empty tag clears nothing: clearing a list takes an explicit tag', async () => {
    await on(mount, {}, async (s) => {
      await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: IP_ENTRY });
      const r = await call(s.port, 'DELETE', '/v4/ase/firewall/blacklist?tag=');
      expect([r.status, r.json]).toEqual([403, { status: 'invalid_value', status_message: 'query parameter tag contains invalid value' }]);
      expect(s.enforcer.denyList.size).toBe(1);
    });
  });

  test('flow-control updates sent with the reference headers only (no Content-Type) are applied', async () => {
    const apis = { api_name: api('/rest', { servers: [{ host: '127.0.0.2', port: 8080 }] }), ws_api: api('/ws', { protocol: 'ws', servers: [{ host: '127.0.0.2', port: 8080 }] }) };
    await on(mount, { apis }, async (s) => {
      const fc = await call(s.port, 'POST', '/v4/ase/firewall/flowcontrol?api_id=ws_api', {
        auth: false,
        headers: REFERENCE_HEADERS,
        noContentType: true,
        body: { flow_control: { client_spike_threshold: '10/second', bytes_in_threshold: '10/second', bytes_out_threshold: '10/second' } },
      });
      expect([fc.status, fc.json]).toEqual([
        200,
        { api_id: 'ws_api', flow_control: { client_spike_threshold: '10/second', bytes_in_threshold: '10/second', bytes_out_threshold: '10/second', server_connection_queueing: false } },
      ]);
      const server = await call(s.port, 'POST', '/v4/ase/firewall/flowcontrol/server?api_id=api_name', {
        auth: false,
        headers: REFERENCE_HEADERS,
        noContentType: true,
        body: { server: { host: '127.0.0.2', port: 8080, server_connection_quota: 1000, server_spike_threshold: '10/second' } },
      });
      expect([server.status, server.json]).toEqual([200, { status: 'success', status_message: 'server updated successfully' }]);
      expect(s.enforcer.getApi('api_name')?.json.api_metadata.servers[0]).toMatchObject({ server_connection_quota: 1000, server_spike_threshold: '10/second' });
    });
  });

  test('flow-control updates still refuse a body that is not JSON, and other writes still need Content-Type', async () => {
    await on(mount, { apis: { api_name: api('/rest') } }, async (s) => {
      const text = await call(s.port, 'POST', '/v4/ase/firewall/flowcontrol?api_id=api_name', { body: '{"flow_control": {}}', headers: { 'content-type': 'text/plain' } });
      expect([text.status, text.json]).toEqual([415, { status: 'fail', status_message: 'content-type must be application/json' }]);
      const broken = await call(s.port, 'POST', '/v4/ase/firewall/flowcontrol?api_id=api_name', { body: 'client_spike_threshold=5/second', noContentType: true });
      expect([broken.status, broken.json]).toEqual([403, { status: 'fail', status_message: 'json parsing error' }]);
      const deny = await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: IP_ENTRY, noContentType: true });
      expect([deny.status, deny.json]).toEqual([403, { status: 'fail', status_message: 'content-type header missing' }]);
      expect(s.enforcer.getFlowControl('api_name').client_spike_threshold).toBe('0/second');
    });
  });

  test.each(Object.keys(SAMPLES))('GET /v4/ase/api reads %s back field for field, default-valued fields included', async (name) => {
    const sample = SAMPLES[name]!;
    const check = async (s: Served, id: string): Promise<void> => {
      const r = await call(s.port, 'GET', `/v4/ase/api?api_id=${id}`);
      expect(r.status).toBe(200);
      const got = (r.json as { api_metadata: Record<string, unknown> }).api_metadata;
      for (const [k, v] of Object.entries(sample.api_metadata)) expect([id, k, got[k]]).toEqual([id, k, v]);
      for (const [k, v] of Object.entries(DEFAULT_VALUED)) expect([id, k, got[k]]).toEqual([id, k, sample.api_metadata[k] ?? v]);
      expect(got).not.toHaveProperty('jwt_verification');
      expect(got).not.toHaveProperty('username_header_trusted');
    };
    await on(mount, { apis: { from_file: sample } }, (s) => check(s, 'from_file'));
    await on(mount, {}, async (s) => {
      const created = await call(s.port, 'POST', '/v4/ase/api?api_id=from_body', { body: sample });
      expect(created.status).toBe(200);
      await check(s, 'from_body');
    });
  });

  test('our extensions appear in GET /v4/ase/api only when set', async () => {
    await on(mount, { apis: { trusted: api('/t', { username_header: 'x-user', username_header_trusted: true }) } }, async (s) => {
      const r = await call(s.port, 'GET', '/v4/ase/api?api_id=trusted');
      expect((r.json as { api_metadata: Record<string, unknown> }).api_metadata).toMatchObject({ username_header: 'x-user', username_header_trusted: true });
    });
  });
});
