import * as fs from 'node:fs';
import * as path from 'node:path';
import { api, servers } from '../helpers/config';
import { MOUNTS, type Mount, type Served, call, serveAdmin } from './harness';
import { COOKIE_ENTRY, IP_ENTRY, REST_API, REST_SERVER, SUCCESS, TOKEN_ENTRY, WS_API, WS_SERVER, asReferenceClient } from './seed-samples';

/*
 * Every endpoint of the reference's REST API page (seed 002), request for request and body for body,
 * run on each mount: the standalone listener, the Express router, the Koa middleware and the
 * Fastify plugin.
 */

const fail = (message: string): { status: string; status_message: string } => ({ status: 'fail', status_message: message });
const notFound = (id: string): { status: string; status_message: string } => ({ status: 'api_not_found', status_message: `api ${id} does not exist` });

async function on(mount: Mount, opts: Parameters<typeof serveAdmin>[1], fn: (s: Served) => Promise<void>): Promise<void> {
  const s = await serveAdmin(mount, opts);
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

const sampleDir = { apis: { sample_api: api('/sample', { servers: [{ host: '192.168.1.100', port: 8080, server_spike_threshold: '10/second', server_connection_quota: 1000 }, { host: '192.168.1.100', port: 8081, server_spike_threshold: '10/second', server_connection_quota: 1000 }] }) } };

describe.each(MOUNTS)('management API on the $name', (mount) => {
  // ------------------------------------------------------------------ APIs

  test('Create API: REST and WebSocket samples → 200 success, persisted in api/<id>.json and live at once', async () => {
    await on(mount, {}, async (s) => {
      const r = await call(s.port, 'POST', '/v4/ase/api?api_id=sample_api', { body: REST_API });
      expect([r.status, r.json]).toEqual([200, SUCCESS]);
      expect(r.headers['content-type']).toMatch(/^application\/json/);
      const w = await call(s.port, 'POST', '/v4/ase/api?api_id=sample_ws', { body: WS_API });
      expect([w.status, w.json]).toEqual([200, SUCCESS]);
      const file = JSON.parse(fs.readFileSync(path.join(s.dir, 'api', 'sample_api.json'), 'utf8')) as { api_metadata: { url: string } };
      expect(file.api_metadata.url).toBe('/your_rest_api');
      expect(s.enforcer.getApi('sample_api')?.url).toBe('/your_rest_api');
    });
  });

  test('Create API: 403 api_already_exists, 403 validation_error (file, JSON path, accepted form), route clash, bad api_id', async () => {
    await on(mount, {}, async (s) => {
      await call(s.port, 'POST', '/v4/ase/api?api_id=sample_api', { body: REST_API });
      const dup = await call(s.port, 'POST', '/v4/ase/api?api_id=sample_api', { body: REST_API });
      expect([dup.status, dup.json]).toEqual([403, { status: 'api_already_exists', status_message: 'api sample_api already exists' }]);

      const bad = await call(s.port, 'POST', '/v4/ase/api?api_id=other', { body: { api_metadata: { url: '/other', hostname: '*', enable_blocking: 'yes' } } });
      expect(bad.status).toBe(403);
      expect(bad.json).toEqual({ status: 'validation_error', status_message: expect.stringMatching(/api other: \/api_metadata\/enable_blocking: must be true or false/) });
      const typo = await call(s.port, 'POST', '/v4/ase/api?api_id=other', { body: { api_metadata: { url: '/other', hostname: '*', enable_bloking: true } } });
      expect(typo.json).toEqual({ status: 'validation_error', status_message: expect.stringMatching(/unknown key `enable_bloking`; did you mean `enable_blocking`/) });

      const clash = await call(s.port, 'POST', '/v4/ase/api?api_id=clash', { body: api('/your_rest_api/') });
      expect(clash.json).toEqual({ status: 'validation_error', status_message: expect.stringMatching(/api `sample_api` already has the same hostname and url/) });

      for (const id of ['../evil', 'all', '', 'a/b']) {
        const r = await call(s.port, 'POST', `/v4/ase/api?api_id=${encodeURIComponent(id)}`, { body: api('/x') });
        expect([id, r.status, (r.json as { status: string }).status]).toEqual([id, 403, 'validation_error']);
      }
      expect(fs.readdirSync(path.join(s.dir, 'api')).sort()).toEqual(['sample_api.json']);
      expect(fs.existsSync(path.join(s.dir, 'evil.json'))).toBe(false);
    });
  });

  test('Read API: the REST and WebSocket definitions as the reference shows them, default-valued fields included; 404 api_not_found', async () => {
    const withDefaults = (a: { api_metadata: object }): unknown => ({
      api_metadata: { ...a.api_metadata, is_token_mandatory: false, health_check_headers: {}, username_header: '', jwt: { location: '', username: '', clientid: '' } },
    });
    await on(mount, {}, async (s) => {
      await call(s.port, 'POST', '/v4/ase/api?api_id=sample_api', { body: REST_API });
      await call(s.port, 'POST', '/v4/ase/api?api_id=sample_ws', { body: WS_API });
      const r = await call(s.port, 'GET', '/v4/ase/api?api_id=sample_api');
      expect([r.status, r.json]).toEqual([200, withDefaults(REST_API)]);
      const w = await call(s.port, 'GET', '/v4/ase/api?api_id=sample_ws');
      expect([w.status, w.json]).toEqual([200, withDefaults(WS_API)]);
      const missing = await call(s.port, 'GET', '/v4/ase/api?api_id=sample');
      expect([missing.status, missing.json]).toEqual([404, notFound('sample')]);
    });
  });

  test('List API: api_count (a string) and each api_id with status loaded', async () => {
    await on(mount, {}, async (s) => {
      const empty = await call(s.port, 'GET', '/v4/ase/api');
      expect([empty.status, empty.json]).toEqual([200, { api_count: '0', api: [] }]);
      await call(s.port, 'POST', '/v4/ase/api?api_id=sample_api', { body: REST_API });
      const r = await call(s.port, 'GET', '/v4/ase/api');
      expect([r.status, r.json]).toEqual([200, { api_count: '1', api: [{ api_id: 'sample_api', status: 'loaded' }] }]);
    });
  });

  test('Update API: 200 success, takes effect and is persisted; 404 api_not_found', async () => {
    await on(mount, {}, async (s) => {
      await call(s.port, 'POST', '/v4/ase/api?api_id=sample_api', { body: REST_API });
      const changed = { api_metadata: { ...REST_API.api_metadata, url: '/changed' } };
      const r = await call(s.port, 'PUT', '/v4/ase/api?api_id=sample_api', { body: changed });
      expect([r.status, r.json]).toEqual([200, SUCCESS]);
      expect(s.enforcer.getApi('sample_api')?.url).toBe('/changed');
      expect(fs.readFileSync(path.join(s.dir, 'api', 'sample_api.json'), 'utf8')).toMatch(/"\/changed"/);
      const missing = await call(s.port, 'PUT', '/v4/ase/api?api_id=sample', { body: REST_API });
      expect([missing.status, missing.json]).toEqual([404, notFound('sample')]);
      const invalid = await call(s.port, 'PUT', '/v4/ase/api?api_id=sample_api', { body: { api_metadata: { url: 'no-slash', hostname: '*' } } });
      expect((invalid.json as { status: string }).status).toBe('validation_error');
      expect(s.enforcer.getApi('sample_api')?.url).toBe('/changed');
    });
  });

  test('Delete API: 200 success, api/<id>.json removed; 404 api_not_found', async () => {
    await on(mount, {}, async (s) => {
      await call(s.port, 'POST', '/v4/ase/api?api_id=sample_api', { body: REST_API });
      const r = await call(s.port, 'DELETE', '/v4/ase/api?api_id=sample_api');
      expect([r.status, r.json]).toEqual([200, SUCCESS]);
      expect(fs.existsSync(path.join(s.dir, 'api', 'sample_api.json'))).toBe(false);
      expect(s.enforcer.getApi('sample_api')).toBeUndefined();
      const again = await call(s.port, 'DELETE', '/v4/ase/api?api_id=sample_api');
      expect([again.status, again.json]).toEqual([404, notFound('sample_api')]);
    });
  });

  test('api_id is required where the reference puts it', async () => {
    await on(mount, {}, async (s) => {
      for (const [method, p] of [['POST', '/v4/ase/api'], ['PUT', '/v4/ase/api'], ['DELETE', '/v4/ase/api'], ['GET', '/v4/ase/server'], ['GET', '/v4/ase/firewall/flowcontrol'], ['GET', '/v4/ase/persistentconnection']] as const) {
        const r = await call(s.port, method, p, { body: method === 'GET' || method === 'DELETE' ? undefined : REST_API });
        expect([method, p, r.status, r.json]).toEqual([method, p, 403, { status: 'validation_error', status_message: 'query parameter api_id is required' }]);
      }
    });
  });

  // ------------------------------------------------------------------ servers

  test('Create server: REST and WebSocket bodies → 200 success; server_exists; validation_error; api_not_found', async () => {
    await on(mount, {}, async (s) => {
      await call(s.port, 'POST', '/v4/ase/api?api_id=sample_api', { body: api('/sample') });
      await call(s.port, 'POST', '/v4/ase/api?api_id=sample_ws', { body: api('/ws', { protocol: 'ws' }) });
      const r = await call(s.port, 'POST', '/v4/ase/server?api_id=sample_api', { body: REST_SERVER });
      expect([r.status, r.json]).toEqual([200, SUCCESS]);
      const w = await call(s.port, 'POST', '/v4/ase/server?api_id=sample_ws', { body: WS_SERVER });
      expect([w.status, w.json]).toEqual([200, SUCCESS]);
      expect(s.enforcer.serverPool('sample_api')?.servers.map((u) => u.id)).toEqual(['192.168.1.100:8080']);
      const onDisk = JSON.parse(fs.readFileSync(path.join(s.dir, 'api', 'sample_api.json'), 'utf8')) as { api_metadata: { servers: unknown[] } };
      expect(onDisk.api_metadata.servers).toEqual([REST_SERVER.server]);

      const dup = await call(s.port, 'POST', '/v4/ase/server?api_id=sample_api', { body: REST_SERVER });
      expect([dup.status, dup.json]).toEqual([403, { status: 'server_exists', status_message: 'server already exists' }]);
      const bad = await call(s.port, 'POST', '/v4/ase/server?api_id=sample_api', { body: { server: { host: '192.168.1.101', port: 70000 } } });
      expect([bad.status, bad.json]).toEqual([403, { status: 'validation_error', status_message: expect.stringMatching(/\/server\/port: must be a port number from 1 to 65535/) }]);
      const badRate = await call(s.port, 'POST', '/v4/ase/server?api_id=sample_api', { body: { server: { host: '192.168.1.101', port: 80, server_spike_threshold: 'fast' } } });
      expect(badRate.json).toEqual({ status: 'validation_error', status_message: expect.stringMatching(/\/server\/server_spike_threshold: must be a rate like/) });
      const shape = await call(s.port, 'POST', '/v4/ase/server?api_id=sample_api', { body: { host: '192.168.1.101', port: 80 } });
      expect((shape.json as { status: string }).status).toBe('validation_error');
      const missing = await call(s.port, 'POST', '/v4/ase/server?api_id=sample_api2', { body: REST_SERVER });
      expect([missing.status, missing.json]).toEqual([404, notFound('sample_api2')]);
    });
  });

  test('Read server: server_count and each server with its health_status Up or Down', async () => {
    await on(mount, sampleDir, async (s) => {
      const pool = s.enforcer.serverPool('sample_api')!;
      pool.markDown(pool.servers[1]!);
      const r = await call(s.port, 'GET', '/v4/ase/server?api_id=sample_api');
      expect(r.status).toBe(200);
      expect(r.json).toEqual({
        api_id: 'sample_api',
        server_count: 2,
        server: [
          { host: '192.168.1.100', port: 8080, server_connection_quota: 1000, server_spike_threshold: '10/second', health_status: 'Up' },
          { host: '192.168.1.100', port: 8081, server_connection_quota: 1000, server_spike_threshold: '10/second', health_status: 'Down' },
        ],
      });
      // Key order as the reference prints it.
      expect(Object.keys((r.json as { server: object[] }).server[0]!)).toEqual(['host', 'port', 'server_connection_quota', 'server_spike_threshold', 'health_status']);
      const missing = await call(s.port, 'GET', '/v4/ase/server?api_id=sample');
      expect([missing.status, missing.json]).toEqual([404, notFound('sample')]);
    });
  });

  test('Read server of a WebSocket API: no server_spike_threshold', async () => {
    await on(mount, { apis: { sample_api: api('/ws', { protocol: 'ws', servers: [{ host: '192.168.1.100', port: 8080, server_connection_quota: 1000 }] }) } }, async (s) => {
      const r = await call(s.port, 'GET', '/v4/ase/server?api_id=sample_api');
      expect(r.json).toEqual({ api_id: 'sample_api', server_count: 1, server: [{ host: '192.168.1.100', port: 8080, server_connection_quota: 1000, health_status: 'Up' }] });
    });
  });

  test('Delete server: 200 success; server_not_found; api_not_found; validation_error', async () => {
    await on(mount, sampleDir, async (s) => {
      const r = await call(s.port, 'DELETE', '/v4/ase/server?api_id=sample_api', { body: { server: { host: '192.168.1.100', port: 8080 } } });
      expect([r.status, r.json]).toEqual([200, SUCCESS]);
      expect(s.enforcer.serverPool('sample_api')?.servers.map((u) => u.id)).toEqual(['192.168.1.100:8081']);
      const again = await call(s.port, 'DELETE', '/v4/ase/server?api_id=sample_api', { body: { server: { host: '192.168.1.100', port: 8080 } } });
      expect([again.status, again.json]).toEqual([404, { status: 'server_not_found', status_message: 'server does not exist' }]);
      const noApi = await call(s.port, 'DELETE', '/v4/ase/server?api_id=sample', { body: { server: { host: '192.168.1.100', port: 8080 } } });
      expect([noApi.status, noApi.json]).toEqual([404, notFound('sample')]);
      const bad = await call(s.port, 'DELETE', '/v4/ase/server?api_id=sample_api', { body: { server: { host: '192.168.1.100' } } });
      expect([bad.status, (bad.json as { status: string }).status]).toEqual([403, 'validation_error']);
    });
  });

  // ------------------------------------------------------------------ cluster, persistent connections

  test('Read cluster: 404 no_cluster_mode outside a cluster', async () => {
    await on(mount, {}, async (s) => {
      const r = await call(s.port, 'GET', '/v4/ase/cluster');
      expect([r.status, r.json]).toEqual([404, { status: 'no_cluster_mode', status_message: 'ase is not in cluster mode' }]);
    });
  });

  test('Read cluster: 200 with the nodes when a cluster provider is given', async () => {
    const node = [
      { host: '192.168.2.100', port: 8080, uuid: '1c359368-22b6-4713-a5be-15e5cbbddf7a', status: 'active' as const },
      { host: '192.168.2.101', port: 8080, uuid: '2d359368-20b6-4713-a5be-15e5cbbde8d', status: 'inactive' as const },
    ];
    await on(mount, { admin: { cluster: () => ({ cluster_id: 'test_cluster', node }) } }, async (s) => {
      const r = await call(s.port, 'GET', '/v4/ase/cluster');
      expect([r.status, r.json]).toEqual([200, { cluster_id: 'test_cluster', node_count: 2, node }]);
    });
  });

  test('Read cluster: an asynchronous provider, and the store status beside the reference fields', async () => {
    const node = [{ host: '10.0.0.7', port: 8000, uuid: '3e359368-22b6-4713-a5be-15e5cbbddf7a', status: 'active' as const }];
    const cluster = async (): Promise<{ cluster_id: string; node: typeof node; redis: 'unreachable' }> => ({ cluster_id: 'shop', node, redis: 'unreachable' });
    await on(mount, { admin: { cluster } }, async (s) => {
      const r = await call(s.port, 'GET', '/v4/ase/cluster');
      expect([r.status, r.json]).toEqual([200, { cluster_id: 'shop', node_count: 1, node, redis: 'unreachable' }]);
    });
  });

  test('Read persistent connections: ws and wss counts of the API; 404 api_not_found', async () => {
    await on(mount, { apis: { sample: api('/sample', { protocol: 'ws' }) } }, async (s) => {
      const r = await call(s.port, 'GET', '/v4/ase/persistentconnection?api_id=sample');
      expect([r.status, r.json]).toEqual([200, { api_id: 'sample', persistent_connection_count: { ws: 0, wss: 0 } }]);
      const missing = await call(s.port, 'GET', '/v4/ase/persistentconnection?api_id=nope');
      expect([missing.status, missing.json]).toEqual([404, notFound('nope')]);
    });
  });

  // ------------------------------------------------------------------ firewall

  test('Read and update firewall status: now / already enabled and disabled; invalid_value', async () => {
    await on(mount, {}, async (s) => {
      expect((await call(s.port, 'GET', '/v4/ase/firewall')).json).toEqual({ status: 'enabled', status_message: 'Ok' });
      const off = await call(s.port, 'POST', '/v4/ase/firewall?status=disable');
      expect([off.status, off.json]).toEqual([200, { status: 'disabled', status_message: 'Firewall is now disabled' }]);
      expect(s.enforcer.firewallEnabled).toBe(false);
      expect((await call(s.port, 'POST', '/v4/ase/firewall?status=disable')).json).toEqual({ status: 'disabled', status_message: 'Firewall is already disabled' });
      expect((await call(s.port, 'GET', '/v4/ase/firewall')).json).toEqual({ status: 'disabled', status_message: 'Ok' });
      expect((await call(s.port, 'POST', '/v4/ase/firewall?status=enable')).json).toEqual({ status: 'enabled', status_message: 'Firewall is now enabled' });
      expect((await call(s.port, 'POST', '/v4/ase/firewall?status=enable')).json).toEqual({ status: 'enabled', status_message: 'Firewall is already enabled' });
      for (const q of ['?status=on', '', '?status=enable&status=disable']) {
        const bad = await call(s.port, 'POST', `/v4/ase/firewall${q}`);
        expect([q, bad.status, bad.json]).toEqual([q, 403, { status: 'invalid_value', status_message: 'query parameter status contains invalid value' }]);
      }
    });
  });

  // ------------------------------------------------------------------ deny list

  test('Add to the deny list: ip, token, cookie, api_key, username → "... added to blacklist"; duplicates → "... already exist"', async () => {
    await on(mount, {}, async (s) => {
      const cookie = await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: COOKIE_ENTRY });
      expect([cookie.status, cookie.json]).toEqual([200, { status: 'success', status_message: 'Cookie JSESSIONID ljkhasioutfdqbjsfdmakhflia added to blacklist' }]);
      expect((await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: IP_ENTRY })).json).toEqual({ status: 'success', status_message: 'IP 1.1.1.1 added to blacklist' });
      expect((await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: TOKEN_ENTRY })).json).toEqual({ status: 'success', status_message: 'Token sadjhasiufgkjdsbfkgfa added to blacklist' });
      expect((await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: { type: 'api_key', name: 'X-API-KEY', value: 'k1' } })).json).toEqual({ status: 'success', status_message: 'API key x-api-key k1 added to blacklist' });
      expect((await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: { type: 'username', value: 'bob smith' } })).json).toEqual({ status: 'success', status_message: 'Username bob smith added to blacklist' });
      const dup = await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: COOKIE_ENTRY });
      expect([dup.status, dup.json]).toEqual([403, fail('Cookie JSESSIONID ljkhasioutfdqbjsfdmakhflia already exist')]);
      expect(s.enforcer.denyList.size).toBe(5);
      // On disk: the snapshot plus one journal line per later change.
      const lists = JSON.parse(fs.readFileSync(path.join(s.dir, 'data', 'lists.json'), 'utf8')) as { blacklist: unknown[] };
      const journal = fs.readFileSync(path.join(s.dir, 'data', 'lists.journal'), 'utf8').split('\n').filter((l) => l.includes('"op":"add"'));
      expect(lists.blacklist.length + journal.length).toBe(5);
    });
  });

  test('Add to the deny list: invalid entries are validation errors and change nothing', async () => {
    await on(mount, {}, async (s) => {
      for (const body of [{ type: 'ip', value: 'not-an-ip' }, { type: 'mac', value: 'x' }, { type: 'cookie', value: 'no-name' }, { type: 'ip', name: 'x', value: '1.1.1.1' }, { type: 'ip', value: '1.1.1.1', extra: 1 }, ['ip'], 'ip']) {
        const r = await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: typeof body === 'string' ? JSON.stringify(body) : body });
        expect([body, r.status, (r.json as { status: string }).status]).toEqual([body, 403, 'validation_error']);
      }
      expect(s.enforcer.denyList.size).toBe(0);
    });
  });

  test('Delete from the deny list: "... deleted from blacklist"; absent → 404', async () => {
    await on(mount, {}, async (s) => {
      await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: COOKIE_ENTRY });
      const r = await call(s.port, 'DELETE', '/v4/ase/firewall/blacklist', { body: COOKIE_ENTRY });
      expect([r.status, r.json]).toEqual([200, { status: 'success', status_message: 'Cookie JSESSIONID ljkhasioutfdqbjsfdmakhflia deleted from blacklist' }]);
      expect(s.enforcer.denyList.size).toBe(0);
      const again = await call(s.port, 'DELETE', '/v4/ase/firewall/blacklist', { body: COOKIE_ENTRY });
      expect([again.status, again.json]).toEqual([404, fail('Cookie JSESSIONID ljkhasioutfdqbjsfdmakhflia does not exist')]);
    });
  });

  test('Clear the deny list: DELETE ?tag=all → "Blacklist cleared"; ?tag=<tag> clears one tag', async () => {
    await on(mount, {}, async (s) => {
      await s.enforcer.addDeny({ type: 'ip', value: '1.1.1.1' });
      await s.enforcer.addDeny({ type: 'ip', value: '2.2.2.2' }, 'decoy');
      const one = await call(s.port, 'DELETE', '/v4/ase/firewall/blacklist?tag=decoy');
      expect([one.status, one.json]).toEqual([200, { status: 'success', status_message: 'Blacklist cleared of decoy entries' }]);
      expect(s.enforcer.denyList.list().map((e) => e.value)).toEqual(['1.1.1.1']);
      const r = await call(s.port, 'DELETE', '/v4/ase/firewall/blacklist?tag=all');
      expect([r.status, r.json]).toEqual([200, { status: 'success', status_message: 'Blacklist cleared' }]);
      expect(s.enforcer.denyList.size).toBe(0);
      const bad = await call(s.port, 'DELETE', '/v4/ase/firewall/blacklist?tag=everything');
      expect([bad.status, bad.json]).toEqual([403, { status: 'invalid_value', status_message: 'query parameter tag contains invalid value' }]);
    });
  });

  test('View the deny list: by every tag, manual and abs_generated as the reference shows them', async () => {
    await on(mount, {}, async (s) => {
      await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: { type: 'cookie', name: 'JSESSIONID', value: 'ljkhasiosalia' } });
      await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: IP_ENTRY });
      await s.enforcer.addDeny({ type: 'cookie', name: 'JSESSIONID', value: 'ljkhasisadosalia' }, 'abs_generated');
      await s.enforcer.addDeny({ type: 'ip', value: '1.1.1.2' }, 'abs_generated');
      await s.enforcer.addDeny({ type: 'ip', value: '3.3.3.3' }, 'decoy');
      const seedView = {
        manual_blacklist: [
          { type: 'cookie', name: 'JSESSIONID', value: 'ljkhasiosalia' },
          { type: 'ip', value: '1.1.1.1' },
        ],
        abs_generated_blacklist: [
          { type: 'cookie', name: 'JSESSIONID', value: 'ljkhasisadosalia' },
          { type: 'ip', value: '1.1.1.2' },
        ],
      };
      for (const q of ['', '?tag=all']) {
        const r = await call(s.port, 'GET', `/v4/ase/firewall/blacklist${q}`);
        expect(r.status).toBe(200);
        expect(asReferenceClient(r.json)).toEqual({
          ...seedView,
          decoy_blacklist: [{ type: 'ip', value: '3.3.3.3' }],
          invalid_method_blacklist: [],
          invalid_content_type_blacklist: [],
          invalid_protocol_blacklist: [],
          missing_token_blacklist: [],
          honeytoken_blacklist: [],
        });
      }
      expect(asReferenceClient((await call(s.port, 'GET', '/v4/ase/firewall/blacklist?tag=manual')).json)).toEqual({ manual_blacklist: seedView.manual_blacklist });
      expect(asReferenceClient((await call(s.port, 'GET', '/v4/ase/firewall/blacklist?tag=abs_generated')).json)).toEqual({ abs_generated_blacklist: seedView.abs_generated_blacklist });
      for (const tag of ['decoy', 'invalid_content_type', 'invalid_method', 'invalid_protocol', 'missing_token', 'honeytoken']) {
        const r = await call(s.port, 'GET', `/v4/ase/firewall/blacklist?tag=${tag}`);
        expect([tag, r.status, Object.keys(r.json as object)]).toEqual([tag, 200, [`${tag}_blacklist`]]);
      }
      const bad = await call(s.port, 'GET', '/v4/ase/firewall/blacklist?tag=nope');
      expect([bad.status, bad.json]).toEqual([403, { status: 'invalid_value', status_message: 'query parameter tag contains invalid value' }]);
    });
  });

  // ------------------------------------------------------------------ allow list

  test('Allow list: add, duplicate, view, delete, clear — as the reference shows them', async () => {
    await on(mount, {}, async (s) => {
      const add = await call(s.port, 'POST', '/v4/ase/firewall/whitelist', { body: COOKIE_ENTRY });
      expect([add.status, add.json]).toEqual([200, { status: 'success', status_message: 'Cookie JSESSIONID ljkhasioutfdqbjsfdmakhflia added to whitelist' }]);
      const dup = await call(s.port, 'POST', '/v4/ase/firewall/whitelist', { body: COOKIE_ENTRY });
      expect([dup.status, dup.json]).toEqual([403, fail('Cookie JSESSIONID ljkhasioutfdqbjsfdmakhflia already exist')]);
      await call(s.port, 'POST', '/v4/ase/firewall/whitelist', { body: IP_ENTRY });
      const view = await call(s.port, 'GET', '/v4/ase/firewall/whitelist');
      expect([view.status, asReferenceClient(view.json)]).toEqual([200, { whitelist: [COOKIE_ENTRY, IP_ENTRY] }]);
      const del = await call(s.port, 'DELETE', '/v4/ase/firewall/whitelist', { body: COOKIE_ENTRY });
      expect([del.status, del.json]).toEqual([200, { status: 'success', status_message: 'Cookie JSESSIONID ljkhasioutfdqbjsfdmakhflia deleted from whitelist' }]);
      const gone = await call(s.port, 'DELETE', '/v4/ase/firewall/whitelist', { body: COOKIE_ENTRY });
      expect(gone.status).toBe(404);
      const clear = await call(s.port, 'DELETE', '/v4/ase/firewall/whitelist?tag=all');
      expect([clear.status, clear.json]).toEqual([200, { status: 'success', status_message: 'Whitelist cleared' }]);
      expect((await call(s.port, 'GET', '/v4/ase/firewall/whitelist')).json).toEqual({ whitelist: [] });
      expect(s.enforcer.allowList.size).toBe(0);
    });
  });

  // ------------------------------------------------------------------ flow control

  test('Read flow control of a REST and a WebSocket API; validation_error; api_not_found', async () => {
    await on(mount, { apis: { api_name: api('/rest'), ws_api: api('/ws', { protocol: 'ws', flow_control: { client_spike_threshold: '100/second', bytes_in_threshold: '10/second', bytes_out_threshold: '10/second' } }) } }, async (s) => {
      const r = await call(s.port, 'GET', '/v4/ase/firewall/flowcontrol?api_id=api_name');
      expect([r.status, r.json]).toEqual([200, { api_id: 'api_name', flow_control: { client_spike_threshold: '0/second', server_connection_queueing: false } }]);
      const w = await call(s.port, 'GET', '/v4/ase/firewall/flowcontrol?api_id=ws_api');
      expect(w.json).toEqual({ api_id: 'ws_api', flow_control: { client_spike_threshold: '100/second', bytes_in_threshold: '10/second', bytes_out_threshold: '10/second', server_connection_queueing: false } });
      const noId = await call(s.port, 'GET', '/v4/ase/firewall/flowcontrol');
      expect([noId.status, (noId.json as { status: string }).status]).toEqual([403, 'validation_error']);
      const missing = await call(s.port, 'GET', '/v4/ase/firewall/flowcontrol?api_id=sample');
      expect([missing.status, missing.json]).toEqual([404, notFound('sample')]);
    });
  });

  test('Update flow control of an API: answers the new flow_control; persisted; validation_error; api_not_found', async () => {
    await on(mount, { apis: { api_name: api('/rest'), ws_api: api('/ws', { protocol: 'ws' }) } }, async (s) => {
      const r = await call(s.port, 'POST', '/v4/ase/firewall/flowcontrol?api_id=api_name', { body: { flow_control: { client_spike_threshold: '0/second' } } });
      expect([r.status, r.json]).toEqual([200, { api_id: 'api_name', flow_control: { client_spike_threshold: '0/second', server_connection_queueing: false } }]);
      const up = await call(s.port, 'POST', '/v4/ase/firewall/flowcontrol?api_id=api_name', { body: { flow_control: { client_spike_threshold: '700/second', server_connection_queueing: true } } });
      expect(up.json).toEqual({ api_id: 'api_name', flow_control: { client_spike_threshold: '700/second', server_connection_queueing: true } });
      expect(s.enforcer.getFlowControl('api_name').client_spike_threshold).toBe('700/second');
      expect(fs.readFileSync(path.join(s.dir, 'api', 'api_name.json'), 'utf8')).toMatch(/"700\/second"/);
      const w = await call(s.port, 'POST', '/v4/ase/firewall/flowcontrol?api_id=ws_api', {
        body: { flow_control: { client_spike_threshold: '10/second', bytes_in_threshold: '10/second', bytes_out_threshold: '10/second' } },
      });
      expect(w.json).toEqual({ api_id: 'ws_api', flow_control: { client_spike_threshold: '10/second', bytes_in_threshold: '10/second', bytes_out_threshold: '10/second', server_connection_queueing: false } });
      const bad = await call(s.port, 'POST', '/v4/ase/firewall/flowcontrol?api_id=api_name', { body: { flow_control: { client_spike_threshold: 'lots' } } });
      expect([bad.status, bad.json]).toEqual([403, { status: 'validation_error', status_message: expect.stringMatching(/\/flow_control\/client_spike_threshold: must be a rate like "10\/second"/) }]);
      const typo = await call(s.port, 'POST', '/v4/ase/firewall/flowcontrol?api_id=api_name', { body: { flow_control: { client_spike: '1/second' } } });
      expect((typo.json as { status_message: string }).status_message).toMatch(/unknown key `client_spike`/);
      expect(s.enforcer.getFlowControl('api_name').client_spike_threshold).toBe('700/second');
      const missing = await call(s.port, 'POST', '/v4/ase/firewall/flowcontrol?api_id=sample', { body: { flow_control: { client_spike_threshold: '1/second' } } });
      expect([missing.status, missing.json]).toEqual([404, notFound('sample')]);
    });
  });

  test('Update flow control of a server: "server updated successfully"; validation_error; api_not_found; server_not_found', async () => {
    await on(mount, { apis: { api_name: api('/rest', { servers: [{ host: '127.0.0.2', port: 8080 }] }), ws_api: api('/ws', { protocol: 'ws', servers: [{ host: '127.0.0.2', port: 8080 }] }) } }, async (s) => {
      const r = await call(s.port, 'POST', '/v4/ase/firewall/flowcontrol/server?api_id=api_name', {
        body: { server: { host: '127.0.0.2', port: 8080, server_connection_quota: 1000, server_spike_threshold: '10/second' } },
      });
      expect([r.status, r.json]).toEqual([200, { status: 'success', status_message: 'server updated successfully' }]);
      expect(s.enforcer.getApi('api_name')?.json.api_metadata.servers[0]).toEqual({ host: '127.0.0.2', port: 8080, server_connection_quota: 1000, server_spike_threshold: '10/second' });
      const w = await call(s.port, 'POST', '/v4/ase/firewall/flowcontrol/server?api_id=ws_api', { body: { server: { host: '127.0.0.2', port: 8080, server_connection_quota: 100000 } } });
      expect([w.status, w.json]).toEqual([200, { status: 'success', status_message: 'server updated successfully' }]);
      const bad = await call(s.port, 'POST', '/v4/ase/firewall/flowcontrol/server?api_id=api_name', { body: { server: { host: '127.0.0.2', port: 8080, server_connection_quota: -1 } } });
      expect([bad.status, bad.json]).toEqual([403, { status: 'validation_error', status_message: expect.stringMatching(/\/server\/server_connection_quota/) }]);
      const missing = await call(s.port, 'POST', '/v4/ase/firewall/flowcontrol/server?api_id=sample', { body: { server: { host: '127.0.0.2', port: 8080 } } });
      expect([missing.status, missing.json]).toEqual([404, notFound('sample')]);
      const noServer = await call(s.port, 'POST', '/v4/ase/firewall/flowcontrol/server?api_id=api_name', { body: { server: { host: '127.0.0.3', port: 8080, server_connection_quota: 1 } } });
      expect([noServer.status, noServer.json]).toEqual([404, { status: 'server_not_found', status_message: 'server does not exist' }]);
    });
  });

  // ------------------------------------------------------------------ errors common to every endpoint

  test('missing x-ase-access-key / x-ase-secret-key, wrong keys: 403 with the documented messages, nothing changed', async () => {
    await on(mount, {}, async (s) => {
      const noAccess = await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { auth: false, headers: { 'x-ase-secret-key': 'admin' }, body: IP_ENTRY });
      expect([noAccess.status, noAccess.json]).toEqual([403, fail('x-ase-access-key header missing')]);
      const noSecret = await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { auth: false, headers: { 'x-ase-access-key': 'admin' }, body: IP_ENTRY });
      expect([noSecret.status, noSecret.json]).toEqual([403, fail('x-ase-secret-key header missing')]);
      const wrongSecret = await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { secret: 'guess', body: IP_ENTRY });
      expect([wrongSecret.status, wrongSecret.json]).toEqual([403, fail('authorization failure')]);
      const wrongAccess = await call(s.port, 'DELETE', '/v4/ase/api?api_id=x', { auth: false, headers: { 'x-ase-access-key': 'root', 'x-ase-secret-key': 'admin' } });
      expect([wrongAccess.status, wrongAccess.json]).toEqual([403, fail('authorization failure')]);
      const off = await call(s.port, 'POST', '/v4/ase/firewall?status=disable', { secret: 'nope' });
      expect(off.status).toBe(403);
      expect(s.enforcer.denyList.size).toBe(0);
      expect(s.enforcer.firewallEnabled).toBe(true);
      expect(fs.existsSync(path.join(s.dir, 'data', 'lists.json'))).toBe(false);
    });
  });

  test('bodies: content-type header missing, not JSON, json parsing error, __proto__, too large', async () => {
    await on(mount, { admin: { bodyLimit: 2048 } }, async (s) => {
      const noType = await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: IP_ENTRY, noContentType: true });
      expect([noType.status, noType.json]).toEqual([403, fail('content-type header missing')]);
      const text = await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: JSON.stringify(IP_ENTRY), noContentType: true, headers: { 'content-type': 'text/plain' } });
      expect([text.status, text.json]).toEqual([415, fail('content-type must be application/json')]);
      const utf = await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: { type: 'ip', value: '9.9.9.9' }, headers: { 'content-type': 'Application/JSON; charset=utf-8' } });
      expect(utf.status).toBe(200);
      for (const broken of ['{"type": "ip", "value": ', '', 'null x', '{type: ip}']) {
        const r = await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: broken, headers: { 'content-type': 'application/json' } });
        expect([broken, r.status, r.json]).toEqual([broken, 403, fail('json parsing error')]);
      }
      const proto = await call(s.port, 'POST', '/v4/ase/api?api_id=p', { body: '{"api_metadata": {"url": "/p", "hostname": "*", "__proto__": {"enable_blocking": true}}}' });
      expect([proto.status, proto.json]).toEqual([403, { status: 'validation_error', status_message: 'key `__proto__` is not allowed' }]);
      const ctor = await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: '{"type": "ip", "value": "1.1.1.1", "constructor": {}}' });
      expect((ctor.json as { status: string }).status).toBe('validation_error');
      expect(({} as Record<string, unknown>)['enable_blocking']).toBeUndefined();
      const big = await call(s.port, 'POST', '/v4/ase/api?api_id=big', { body: { api_metadata: { url: '/big', hostname: '*', login_url: 'x'.repeat(4000) } } });
      expect([big.status, big.json]).toEqual([413, fail('request body too large (limit 2048 bytes)')]);
      expect(s.enforcer.getApi('big')).toBeUndefined();
      expect(s.enforcer.denyList.list().map((e) => e.value)).toEqual(['9.9.9.9']);
    });
  });

  test('unknown endpoints get 404, unsupported methods 405 with Allow', async () => {
    await on(mount, {}, async (s) => {
      const unknown = await call(s.port, 'GET', '/v4/ase/nothing');
      expect([unknown.status, unknown.json]).toEqual([404, fail('unknown endpoint')]);
      const method = await call(s.port, 'PATCH', '/v4/ase/api?api_id=x');
      expect([method.status, method.headers['allow'], method.json]).toEqual([405, 'GET, POST, PUT, DELETE', fail('method PATCH is not allowed here')]);
      // A trailing slash is the same endpoint.
      expect((await call(s.port, 'GET', '/v4/ase/firewall/')).json).toEqual({ status: 'enabled', status_message: 'Ok' });
      // Unauthenticated callers learn nothing about which endpoints exist.
      expect((await call(s.port, 'GET', '/v4/ase/nothing', { auth: false })).json).toEqual(fail('x-ase-access-key header missing'));
    });
  });

  test('ASE-detected attacks switch and status (what the CLI uses)', async () => {
    await on(mount, { apis: { shop: api('/shop') } }, async (s) => {
      await s.enforcer.addDeny({ type: 'ip', value: '5.5.5.5' }, 'decoy');
      expect((await call(s.port, 'GET', '/v4/ase/asedetectedattack')).json).toEqual({ status: 'disabled', status_message: 'Ok' });
      expect((await call(s.port, 'POST', '/v4/ase/asedetectedattack?status=enable')).json).toEqual({ status: 'enabled', status_message: 'ASE detected attack is now enabled' });
      expect((await call(s.port, 'POST', '/v4/ase/asedetectedattack?status=disable')).json).toEqual({ status: 'disabled', status_message: 'ASE detected attack is now disabled' });
      expect(s.enforcer.denyList.size).toBe(0);
      const st = await call(s.port, 'GET', '/v4/ase/status');
      expect(st.json).toMatchObject({ status: 'started', firewall: 'enabled', audit: 'enabled', ase_detected_attack: 'disabled', api_count: 1, attack_list_memory: { configured: 128 * 1024 * 1024, used: 0 } });
    });
  });
});
