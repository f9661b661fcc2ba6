import { compileApi } from '../../src/api/compiled-api';
import { validateApiJson } from '../../src/config/api-schema';
import { mapToInternal } from '../../src/upstream/path-mapping';
import { ServerPool } from '../../src/upstream/server-pool';

const api = (url: string, internal: string) =>
  compileApi('m', validateApiJson({ api_metadata: { url, hostname: '*', api_mapping: { internal_url: internal } } }, 'm').api);

describe('mapToInternal', () => {
  test.each([
    ['/index', '/a123', '/index/x/Y', '/a123/x/Y'],
    ['/index', '/a123', '/INDEX', '/a123'],
    ['/index', '/a123', '/index/', '/a123/'],
    ['/a/b', '/c', '/A/B/d;p=1', '/c/d;p=1'],
    ['/', '/v2', '/x', '/v2/x'],
    ['/pub', '/', '/pub/x', '/x'],
    ['/pub', '/', '/pub', '/'],
  ])('url %s → internal %s maps %s to %s', (url, internal, path, expected) => {
    expect(mapToInternal(api(url, internal), path)).toBe(expected);
  });

  test('without internal_url the path is forwarded as it is', () => {
    expect(mapToInternal(api('/index', ''), '/Index/x')).toBe('/Index/x');
  });
});

describe('ServerPool', () => {
  const servers = [
    { host: '127.0.0.1', port: 1, server_spike_threshold: '0/second', server_connection_quota: 0 },
    { host: '127.0.0.1', port: 2, server_spike_threshold: '0/second', server_connection_quota: 0 },
    { host: '::1', port: 3, server_spike_threshold: '0/second', server_connection_quota: 0 },
  ];

  test('round-robin over usable servers, skipping passively-down ones until their down time ends', () => {
    const pool = new ServerPool(servers, false, 60_000);
    expect([pool.pick(), pool.pick(), pool.pick(), pool.pick()].map((u) => u?.port)).toEqual([1, 2, 3, 1]);
    pool.markDown(pool.servers[1]!);
    expect([pool.pick(), pool.pick(), pool.pick()].map((u) => u?.port)).toEqual([3, 1, 3]);
    pool.servers[1]!.passiveDownUntil = Date.now() - 1;
    expect(pool.servers.filter((s) => pool.isUsable(s))).toHaveLength(3);
  });

  test('no usable server: undefined; exclusion skips the failed one', () => {
    const pool = new ServerPool(servers.slice(0, 2), false, 60_000);
    expect(pool.pick(pool.servers[0])?.port).toBe(2);
    pool.servers.forEach((s) => (s.healthy = false));
    expect(pool.pick()).toBeUndefined();
  });

  test('IPv6 hosts are bracketed in ids and origins; TLS pools use https', () => {
    const pool = new ServerPool(servers.slice(2), true, 1);
    expect(pool.servers[0]!.id).toBe('[::1]:3');
    expect(pool.servers[0]!.origin).toBe('https://[::1]:3');
  });
});
