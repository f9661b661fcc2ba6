import { compileApi } from '../../src/api/compiled-api';
import { validateApiJson } from '../../src/config/api-schema';
import { hasRepeatedHost } from '../../src/request/host';
import { connectionDrops, DEFAULT_KEPT, policyHeaders, wsForwarding } from '../../src/upstream/header-hygiene';

const apiWith = (over: Record<string, unknown>) => compileApi('t', validateApiJson({ api_metadata: { url: '/t', hostname: '*', ...over } }, 't').api);

describe('policyHeaders', () => {
  it('keeps framing, routing and credentials for every API', () => {
    expect([...policyHeaders(apiWith({}))].sort()).toEqual(['authorization', 'content-length', 'content-type', 'cookie', 'host']);
  });

  it('adds the API key header, the user name header and the JWT header the API reads, in lower case', () => {
    const kept = policyHeaders(apiWith({ apikey_header: 'X-API-Key', username_header: 'X-User', jwt: { location: 'h:X-JWT', username: 'sub' } }));
    for (const n of ['x-api-key', 'x-user', 'x-jwt']) expect(kept.has(n)).toBe(true);
  });

  it('adds nothing new for a JWT in Authorization or a cookie', () => {
    expect(policyHeaders(apiWith({ jwt: { location: 'h:authorization:bearer', username: 'sub' } })).size).toBe(DEFAULT_KEPT.size);
    expect(policyHeaders(apiWith({ jwt: { location: 'h:cookie:tok', username: 'sub' } })).size).toBe(DEFAULT_KEPT.size);
  });
});

describe('connectionDrops', () => {
  it('names nothing for the usual values', () => {
    for (const v of [undefined, 'close', 'keep-alive', 'Keep-Alive', 'Upgrade']) expect(connectionDrops(v, DEFAULT_KEPT)).toBeUndefined();
  });

  it('names the fields listed, in lower case, except those kept', () => {
    expect(connectionDrops('keep-alive, X-Custom, Host, AUTHORIZATION, x-api-key', new Set([...DEFAULT_KEPT, 'x-api-key']))).toEqual(new Set(['keep-alive', 'x-custom']));
    expect(connectionDrops(['close', 'X-A'], DEFAULT_KEPT)).toEqual(new Set(['close', 'x-a']));
  });
});

describe('wsForwarding', () => {
  const ours = { 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-host': 'gw.example' };

  it('omits forwarding fields from an untrusted peer and sets ASE’s own', () => {
    const r = wsForwarding({ forwarded: 'for=1.2.3.4', 'x-real-ip': '1.2.3.4', connection: 'Upgrade, X-Custom' }, DEFAULT_KEPT, false, ours);
    // `upgrade` is set by the WebSocket proxy itself whatever the client sent.
    expect(r.omit).toEqual(new Set(['upgrade', 'x-custom', 'forwarded', 'x-real-ip']));
    expect(r.own).toEqual(ours);
  });

  it("keeps a trusted proxy's forwarding fields and fills in only the ones it did not send", () => {
    const r = wsForwarding({ forwarded: 'for=1.2.3.4', 'x-forwarded-proto': 'https', connection: 'Upgrade' }, DEFAULT_KEPT, true, ours);
    expect(r.omit).toBeUndefined();
    expect(r.own).toEqual({ 'x-forwarded-for': '127.0.0.1', 'x-forwarded-host': 'gw.example' });
  });
});

describe('hasRepeatedHost', () => {
  it('is true for two Host lines in any case, false for one or none', () => {
    expect(hasRepeatedHost(['Host', 'a', 'Accept', '*/*', 'HOST', 'b'])).toBe(true);
    expect(hasRepeatedHost(['host', 'a', 'host', 'a'])).toBe(true);
    expect(hasRepeatedHost(['Host', 'a', 'X-Host', 'b', 'Hosts', 'c'])).toBe(false);
    expect(hasRepeatedHost([])).toBe(false);
  });
});
