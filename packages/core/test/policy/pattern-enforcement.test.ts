import { compileApi } from '../../src/api/compiled-api';
import { validateApiJson } from '../../src/config/api-schema';
import { checkPattern, hasBody, mediaType } from '../../src/policy/pattern-enforcement';
import type { EnforcerRequest } from '../../src/types';

const api = (pe: Record<string, unknown>) =>
  compileApi('t', validateApiJson({ api_metadata: { url: '/t', hostname: '*', api_pattern_enforcement: pe } }, 't').api);
const req = (over: Partial<EnforcerRequest> = {}): EnforcerRequest => ({
  method: 'GET', path: '/t/x', matchPath: '/t/x', query: '', host: 'h', protocol: 'http', ip: '1.1.1.1', headers: {}, rawHeaders: undefined, peer: '1.1.1.1', ...over,
});

describe('mediaType', () => {
  test.each([
    ['application/json', 'application/json'],
    ['Application/JSON; charset=utf-8', 'application/json'],
    ['  text/plain  ;x', 'text/plain'],
    ['application/json\t;x=1', undefined],
    ['application /json', undefined],
    ['json', undefined],
    ['', undefined],
  ])('%j → %j', (ct, expected) => expect(mediaType(ct)).toBe(expected));

  test('several Content-Type headers are ambiguous: no media type', () => {
    expect(mediaType(['application/json', 'text/plain'])).toBeUndefined();
  });
});

describe('checkPattern', () => {
  test('empty rules enforce nothing', () => {
    expect(checkPattern(api({}), req({ method: 'PATCH', protocol: 'ws' }))).toBeUndefined();
  });

  test('protocol_allowed accepts a comma/space list in any case', () => {
    const a = api({ protocol_allowed: 'HTTPS, wss' });
    expect(checkPattern(a, req({ protocol: 'https' }))).toBeUndefined();
    expect(checkPattern(a, req({ protocol: 'http' }))).toEqual({ kind: 'violation', tag: 'invalid_protocol' });
  });

  test('http_redirect: Location is https_url plus the path and query; default status 301', () => {
    const a = api({ protocol_allowed: 'https', http_redirect: { response_code: '', response_def: '', https_url: 'https://h.example/' } });
    const out = checkPattern(a, req({ path: '/t/A;b', query: '?q=1' }));
    expect(out).toMatchObject({ kind: 'redirect', response: { status: 301, headers: { location: 'https://h.example/t/A;b?q=1' } } });
  });

  test('methods: case-insensitive config, exact request method', () => {
    const a = api({ methods_allowed: ['get'] });
    expect(checkPattern(a, req())).toBeUndefined();
    expect(checkPattern(a, req({ method: 'POST' }))).toEqual({ kind: 'violation', tag: 'invalid_method' });
  });

  test('content type is checked only on requests with a body', () => {
    const a = api({ content_type_allowed: 'application/json' });
    expect(checkPattern(a, req({ method: 'POST' }))).toBeUndefined();
    expect(checkPattern(a, req({ method: 'POST', headers: { 'content-length': '2' } }))).toEqual({ kind: 'violation', tag: 'invalid_content_type' });
    expect(checkPattern(a, req({ method: 'POST', headers: { 'transfer-encoding': 'chunked', 'content-type': 'application/json' } }))).toBeUndefined();
  });

  test('hasBody reads the framing headers', () => {
    expect(hasBody(req({ headers: { 'content-length': '0' } }))).toBe(false);
    expect(hasBody(req({ headers: { 'content-length': '5' } }))).toBe(true);
    expect(hasBody(req({ headers: { 'transfer-encoding': 'chunked' } }))).toBe(true);
  });
});
