import * as fs from 'node:fs';
import * as path from 'node:path';
import { validateApiJson } from '../../src/config/api-schema';
import { API_DEFAULTS } from '../../src/config/defaults';
import { DURATION_FORM, SIZE_FORM } from '../../src/config/units';
import { formatConfigProblem } from '../../src/errors';
import { deepFreeze, problemsOf } from './helpers';

const FIXTURES = ['sample-rest-001.json', 'sample-rest-002.json', 'sample-ws-002.json'];
// The reference product's sample API JSON files, kept in the repository (see fixtures/README.md).
const FIXTURE_DIR = path.resolve(__dirname, 'fixtures');

const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(file, 'utf8'));

/** A minimal valid API with `meta` merged into api_metadata. */
function api(meta: Record<string, unknown>): unknown {
  return { api_metadata: { url: '/shop', hostname: '*', ...meta } };
}

function oneProblem(raw: unknown, file = 'shop.json') {
  const problems = problemsOf(() => validateApiJson(raw, file));
  expect(problems).toHaveLength(1);
  return problems[0]!;
}

describe('the reference sample API files', () => {
  const dir = FIXTURE_DIR;

  it.each(FIXTURES)('%s loads unchanged: every value of the file is kept', (name) => {
    const raw = readJson(path.join(dir, name));
    const { api: loaded } = validateApiJson(raw, name);
    expect(loaded).toMatchObject(raw as object);
    // and the caller's object was not touched (defaults go into the copy)
    expect(raw).toEqual(readJson(path.join(dir, name)));
  });

  it('sample-rest-001.json, which sets both username_header and jwt, loads with one warning naming the file', () => {
    const { warnings } = validateApiJson(readJson(path.join(dir, 'sample-rest-001.json')), 'api/sample-rest-001.json');
    expect(warnings).toEqual(['api/sample-rest-001.json: both username_header and jwt are set; the JWT claim names the client first, and a deny-listed name in either blocks']);
  });

  it.each(['sample-rest-002.json', 'sample-ws-002.json'])('%s loads without warnings and gets the missing parameters as defaults', (name) => {
    const { api: loaded, warnings } = validateApiJson(readJson(path.join(dir, name)), name);
    expect(warnings).toEqual([]);
    expect(loaded.api_metadata.is_token_mandatory).toBe(false);
    expect(loaded.api_metadata.jwt).toEqual({ location: '', username: '', clientid: '' });
    expect(loaded.api_metadata.health_check_headers).toEqual({});
  });
});

describe('defaults', () => {
  it('a minimal API (url and hostname only) comes out complete with every default', () => {
    const { api: loaded, warnings } = validateApiJson({ api_metadata: { url: '/x', hostname: '*' } }, 'x.json');
    const { server: _server, servers: _servers, ...defaults } = API_DEFAULTS;
    expect(loaded).toEqual({ api_metadata: { url: '/x', hostname: '*', ...defaults, servers: [] } });
    expect(warnings).toEqual([]);
  });

  it('a server given only host and port gets server_spike_threshold "0/second" and server_connection_quota 0', () => {
    const { api: loaded } = validateApiJson(api({ servers: [{ host: '10.0.0.1', port: 80 }] }), 'x.json');
    expect(loaded.api_metadata.servers).toEqual([{ host: '10.0.0.1', port: 80, server_spike_threshold: '0/second', server_connection_quota: 0 }]);
  });

  it('a partly given nested object keeps its values and gets the rest as defaults', () => {
    const { api: loaded } = validateApiJson(api({ flow_control: { client_spike_threshold: '10/second' }, api_pattern_enforcement: { http_redirect: { https_url: 'https://x.example' } } }), 'x.json');
    expect(loaded.api_metadata.flow_control).toEqual({ ...API_DEFAULTS.flow_control, client_spike_threshold: '10/second' });
    expect(loaded.api_metadata.api_pattern_enforcement.http_redirect).toEqual({ response_code: '', response_def: '', https_url: 'https://x.example' });
    expect(loaded.api_metadata.api_pattern_enforcement.methods_allowed).toEqual([]);
  });

  it('a property set to undefined (in code) means "not set" and takes the default', () => {
    const { api: loaded } = validateApiJson(api({ cookie: undefined, health_check_interval: undefined }), 'x.json');
    expect(loaded.api_metadata.cookie).toBe('');
    expect(loaded.api_metadata.health_check_interval).toBe(60);
  });

  it('two validations never share default arrays or objects', () => {
    const a = validateApiJson(api({}), 'a.json').api;
    const b = validateApiJson(api({}), 'b.json').api;
    a.api_metadata.servers.push({ host: 'h', port: 1, server_spike_threshold: '0/second', server_connection_quota: 0 });
    a.api_metadata.health_check_headers['x'] = 'y';
    expect(b.api_metadata.servers).toEqual([]);
    expect(b.api_metadata.health_check_headers).toEqual({});
    expect(API_DEFAULTS.servers).toEqual([]);
  });
});

describe('the caller\'s object', () => {
  it('is not modified (a deep-frozen input validates, and defaults land in the copy only)', () => {
    const input = deepFreeze({ api_metadata: { url: '/x', hostname: '*', api_pattern_enforcement: { methods_allowed: ['get'] }, servers: [{ host: 'h', port: 1 }] } });
    const before = JSON.stringify(input);
    const { api: loaded } = validateApiJson(input, 'x.json');
    expect(JSON.stringify(input)).toBe(before);
    expect(loaded.api_metadata.servers[0]).not.toBe(input.api_metadata.servers[0]);
  });
});

describe('normalisation', () => {
  it('methods_allowed accepts any letter case and comes back in upper case', () => {
    const { api: loaded } = validateApiJson(api({ api_pattern_enforcement: { methods_allowed: ['get', 'Post', 'OPTIONS', 'patch'] } }), 'x.json');
    expect(loaded.api_metadata.api_pattern_enforcement.methods_allowed).toEqual(['GET', 'POST', 'OPTIONS', 'PATCH']);
  });
});

describe('accepted values', () => {
  it.each([
    ['url "/"', { url: '/' }],
    ['url with six segments', { url: '/a/b/c/d/e/f' }],
    ['url with a trailing slash', { url: '/shop/' }],
    ['an exact hostname', { hostname: 'shop.example.com' }],
    ['protocol ws', { protocol: 'ws' }],
    ['error_code as a number', { api_pattern_enforcement: { error_code: 403 } }],
    ['error_code as a string', { api_pattern_enforcement: { error_code: '401' } }],
    ['error_code ""', { api_pattern_enforcement: { error_code: '' } }],
    ['protocol_allowed in any case, comma separated', { api_pattern_enforcement: { protocol_allowed: 'HTTPS, wss' } }],
    ['protocol_allowed space separated', { api_pattern_enforcement: { protocol_allowed: 'http https ws wss' } }],
    ['http_redirect response_code 301 as a string', { api_pattern_enforcement: { http_redirect: { response_code: '301', https_url: 'https://shop.example.com' } } }],
    ['a content type with a charset', { api_pattern_enforcement: { content_type_allowed: 'application/json; charset=utf-8' } }],
    ['jwt location qs:<key>', { jwt: { location: 'qs:access_token', username: 'sub' } }],
    ['jwt location h:<header>', { jwt: { location: 'h:X-JWT-Header', username: 'sub' } }],
    ['jwt location h:authorization:bearer', { jwt: { location: 'h:authorization:bearer', username: 'sub' } }],
    ['jwt location h:authorization:mac', { jwt: { location: 'h:Authorization:MAC', username: 'sub' } }],
    ['jwt location h:cookie:<name>', { jwt: { location: 'h:cookie:access_token', username: 'sub' } }],
    ['32 decoy subpaths', { decoy_config: { decoy_enabled: true, decoy_subpaths: Array.from({ length: 32 }, (_, i) => `d${i}`) } }],
    ['health check headers with %{HOST}', { health_check_headers: { 'X-Host': '%{HOST}', 'X-Custom-Header': 'v' } }],
    ['durations and sizes in other units', { cookie_idle_timeout: '2MNT', api_memory_size: '1 GB' }],
  ])('%s', (_label, meta) => {
    expect(() => validateApiJson(api(meta), 'x.json')).not.toThrow();
  });
});

describe('a bad field gives one problem naming the file, the JSON path, the value and the accepted form', () => {
  it.each([
    ['url without a leading slash', { url: 'shop' }, '/api_metadata/url', 'shop', 'a path starting with "/"'],
    ['url with seven segments', { url: '/a/b/c/d/e/f/g' }, '/api_metadata/url', '/a/b/c/d/e/f/g', 'at most six segments'],
    ['url with ..', { url: '/a/../b' }, '/api_metadata/url', '/a/../b', 'without ".."'],
    ['url with //', { url: '/a//b' }, '/api_metadata/url', '/a//b', '"//"'],
    ['url with a query', { url: '/a?x=1' }, '/api_metadata/url', '/a?x=1', '"?"'],
    ['url with a fragment', { url: '/a#top' }, '/api_metadata/url', '/a#top', '"#"'],
    ['an empty hostname', { hostname: '' }, '/api_metadata/hostname', '', 'not empty'],
    ['a hostname with a space', { hostname: 'a b' }, '/api_metadata/hostname', 'a b', 'no spaces'],
    ['a hostname with /', { hostname: 'a/b' }, '/api_metadata/hostname', 'a/b', '"/"'],
    ['a hostname with @', { hostname: 'u@h' }, '/api_metadata/hostname', 'u@h', '"@"'],
    ['protocol https', { protocol: 'https' }, '/api_metadata/protocol', 'https', '"http" or "ws"'],
    ['a duration without unit', { cookie_idle_timeout: '200' }, '/api_metadata/cookie_idle_timeout', '200', DURATION_FORM],
    ['a size without unit', { api_memory_size: '128' }, '/api_metadata/api_memory_size', '128', SIZE_FORM],
    [
      'a rate with an abbreviated unit',
      { flow_control: { client_spike_threshold: '10/sec' } },
      '/api_metadata/flow_control/client_spike_threshold',
      '10/sec',
      'must be a rate like "10/second", "100/minute" or "1000/hour"',
    ],
    ['a rate given as a number', { flow_control: { bytes_in_threshold: 10 } }, '/api_metadata/flow_control/bytes_in_threshold', 10, 'a rate like'],
    [
      'a bad server spike threshold',
      { servers: [{ host: 'h', port: 1, server_spike_threshold: '5' }] },
      '/api_metadata/servers/0/server_spike_threshold',
      '5',
      'a rate like',
    ],
    ['a boolean written as a string', { enable_blocking: 'true' }, '/api_metadata/enable_blocking', 'true', 'true or false'],
    ['error_code below 100', { api_pattern_enforcement: { error_code: '99' } }, '/api_metadata/api_pattern_enforcement/error_code', '99', 'from 100 to 599'],
    ['error_code above 599', { api_pattern_enforcement: { error_code: 600 } }, '/api_metadata/api_pattern_enforcement/error_code', 600, 'from 100 to 599'],
    ['error_code not numeric', { api_pattern_enforcement: { error_code: 'abc' } }, '/api_metadata/api_pattern_enforcement/error_code', 'abc', 'or ""'],
    ['error_code fractional', { api_pattern_enforcement: { error_code: 401.5 } }, '/api_metadata/api_pattern_enforcement/error_code', 401.5, 'from 100 to 599'],
    [
      'a redirect response_code',
      { api_pattern_enforcement: { http_redirect: { response_code: '3xx' } } },
      '/api_metadata/api_pattern_enforcement/http_redirect/response_code',
      '3xx',
      'HTTP status code',
    ],
    ['a decoy response_code', { decoy_config: { response_code: 700 } }, '/api_metadata/decoy_config/response_code', 700, 'HTTP status code'],
    ['an unknown method', { api_pattern_enforcement: { methods_allowed: ['GET', 'FETCH'] } }, '/api_metadata/api_pattern_enforcement/methods_allowed/1', 'FETCH', 'one of GET, POST, PUT, DELETE, HEAD, PATCH, OPTIONS'],
    ['an unknown protocol', { api_pattern_enforcement: { protocol_allowed: 'http, ftp' } }, '/api_metadata/api_pattern_enforcement/protocol_allowed', 'http, ftp', 'http, https, ws, wss'],
    [
      'a second content type',
      { api_pattern_enforcement: { content_type_allowed: 'application/json, text/plain' } },
      '/api_metadata/api_pattern_enforcement/content_type_allowed',
      'application/json, text/plain',
      'one media type',
    ],
    ['a reason phrase with a line break', { api_pattern_enforcement: { error_def: 'Bad\r\nX-Injected: 1' } }, '/api_metadata/api_pattern_enforcement/error_def', 'Bad\r\nX-Injected: 1', 'reason phrase on one line'],
    ['a decoy subpath with ..', { decoy_config: { decoy_subpaths: ['ok', '../admin'] } }, '/api_metadata/decoy_config/decoy_subpaths/1', '../admin', 'without ".."'],
    ['port 0', { servers: [{ host: 'h', port: 0 }] }, '/api_metadata/servers/0/port', 0, 'from 1 to 65535'],
    ['port 65536', { servers: [{ host: 'h', port: 65536 }] }, '/api_metadata/servers/0/port', 65536, 'from 1 to 65535'],
    ['port as a string', { servers: [{ host: 'h', port: '8080' }] }, '/api_metadata/servers/0/port', '8080', 'from 1 to 65535'],
    ['an empty server host', { servers: [{ host: '', port: 80 }] }, '/api_metadata/servers/0/host', '', 'not empty'],
    ['a negative quota', { servers: [{ host: 'h', port: 80, server_connection_quota: -1 }] }, '/api_metadata/servers/0/server_connection_quota', -1, '0 or more'],
    ['health_check_interval 0', { health_check_interval: 0 }, '/api_metadata/health_check_interval', 0, 'at least 1'],
    ['health_check_interval fractional', { health_check_interval: 1.5 }, '/api_metadata/health_check_interval', 1.5, 'whole number'],
    ['health_retry_count 0', { health_retry_count: 0 }, '/api_metadata/health_retry_count', 0, 'from 1'],
    ['a jwt location of an unknown kind', { jwt: { location: 'body:token', username: 'sub' } }, '/api_metadata/jwt/location', 'body:token', 'h:authorization:bearer'],
    ['an authorization scheme other than bearer or mac', { jwt: { location: 'h:authorization:basic' } }, '/api_metadata/jwt/location', 'h:authorization:basic', 'h:authorization:mac'],
    ['a health check header value that is not a string', { health_check_headers: { 'X-A': 1 } }, '/api_metadata/health_check_headers/X-A', 1, 'header value'],
    ['a header value with a line break', { health_check_headers: { 'X-A': 'a\nb' } }, '/api_metadata/health_check_headers/X-A', 'a\nb', 'on one line'],
    ['an internal_url that is not a path', { api_mapping: { internal_url: 'internal' } }, '/api_metadata/api_mapping/internal_url', 'internal', 'starting with "/"'],
    ['a nested object of the wrong type', { flow_control: 'none' }, '/api_metadata/flow_control', 'none', 'an object with the keys'],
    ['servers not a list', { servers: { host: 'h', port: 1 } }, '/api_metadata/servers', { host: 'h', port: 1 }, 'a list'],
  ])('%s', (_label, meta, jsonPath, value, accepted) => {
    const p = oneProblem(api(meta), 'config/api/shop.json');
    expect(p.file).toBe('config/api/shop.json');
    expect(p.path).toBe(jsonPath);
    expect(p.value).toEqual(value);
    expect(p.message).toContain(accepted);
    const line = formatConfigProblem(p);
    expect(line.startsWith(`config/api/shop.json: ${jsonPath}: must be`) || line.startsWith(`config/api/shop.json: ${jsonPath}: is`)).toBe(true);
    expect(line).toContain(`(got ${JSON.stringify(value).slice(0, 20)}`);
  });

  it('33 decoy subpaths are too many', () => {
    const p = oneProblem(api({ decoy_config: { decoy_subpaths: Array.from({ length: 33 }, (_, i) => `d${i}`) } }));
    expect(p.path).toBe('/api_metadata/decoy_config/decoy_subpaths');
    expect(p.message).toContain('at most 32');
  });

  describe('decoy_config.honeytokens', () => {
    const decoy = (honeytokens: unknown, response_message = 'API_KEY=${api_key}\nTOKEN=${bearer_token}') => api({ decoy_config: { decoy_enabled: true, response_message, honeytokens } });

    it('absent stays absent (no default is written); given, its missing keys take their defaults', () => {
      expect(validateApiJson(api({}), 'shop.json').api.api_metadata.decoy_config.honeytokens).toBeUndefined();
      expect(validateApiJson(decoy({ api_key: true }), 'shop.json').api.api_metadata.decoy_config.honeytokens).toEqual({ api_key: true, bearer_token: false, cookie: '' });
    });

    it('an API key or bearer token whose placeholder the decoy never shows is refused, naming the placeholder', () => {
      const p = oneProblem(decoy({ api_key: true, bearer_token: true }, 'API_KEY=${api_key}'));
      expect(p.path).toBe('/api_metadata/decoy_config/honeytokens/bearer_token');
      expect(p.message).toContain('put ${bearer_token} in decoy_config.response_message');
      // A cookie reaches the client by Set-Cookie: no placeholder needed.
      expect(validateApiJson(decoy({ cookie: 'session' }, 'nothing here'), 'shop.json').api.api_metadata.decoy_config.honeytokens?.cookie).toBe('session');
    });

    it.each([
      ['an unknown key', { api_keys: true }, '/api_metadata/decoy_config/honeytokens/api_keys'],
      ['a cookie name with a space', { cookie: 'my session' }, '/api_metadata/decoy_config/honeytokens/cookie'],
      ['a cookie name with ";"', { cookie: 'a;b' }, '/api_metadata/decoy_config/honeytokens/cookie'],
      ['api_key as a string', { api_key: 'x-api-key' }, '/api_metadata/decoy_config/honeytokens/api_key'],
    ])('%s is refused where it is', (_n, honeytokens, at) => {
      expect(oneProblem(decoy(honeytokens)).path).toBe(at);
    });
  });

  it('a health check header name with a space is named', () => {
    const p = oneProblem(api({ health_check_headers: { 'bad name': 'x' } }));
    expect(p.path).toBe('/api_metadata/health_check_headers');
    expect(p.message).toContain('`bad name`');
  });

  it('a duration too large to count in milliseconds is refused', () => {
    const p = oneProblem(api({ cookie_idle_timeout: '999999999999yr' }));
    expect(p.path).toBe('/api_metadata/cookie_idle_timeout');
    expect(p.message).toContain('too large');
  });

  it('api_memory_size 0 is refused', () => {
    const p = oneProblem(api({ api_memory_size: '0mb' }));
    expect(p.path).toBe('/api_metadata/api_memory_size');
    expect(p.message).toContain('more than 0');
  });

  it('several bad fields give one problem each, all in one error', () => {
    const problems = problemsOf(() =>
      validateApiJson(api({ url: 'x', protocol: 'ftp', flow_control: { client_spike_threshold: 'fast' }, api_pattern_enforcement: { error_code: '1' } }), 'x.json'),
    );
    expect(problems.map((p) => p.path).sort()).toEqual([
      '/api_metadata/api_pattern_enforcement/error_code',
      '/api_metadata/flow_control/client_spike_threshold',
      '/api_metadata/protocol',
      '/api_metadata/url',
    ]);
  });

  it('a missing url or hostname is named as required', () => {
    const problems = problemsOf(() => validateApiJson({ api_metadata: {} }, 'x.json'));
    expect(problems.map((p) => [p.path, p.message.startsWith('is required')])).toEqual([
      ['/api_metadata/url', true],
      ['/api_metadata/hostname', true],
    ]);
  });

  it('a document without api_metadata, or not an object, is refused', () => {
    expect(oneProblem({}).path).toBe('/api_metadata');
    expect(oneProblem([]).message).toContain('"api_metadata"');
    expect(oneProblem('x').path).toBe('');
  });

  it('an unknown key is an error that suggests the likely key', () => {
    const p = oneProblem(api({ flow_control: { client_spike_treshold: '1/second' } }));
    expect(p.path).toBe('/api_metadata/flow_control/client_spike_treshold');
    expect(p.message).toContain('unknown key `client_spike_treshold`; did you mean `client_spike_threshold`?');
  });

  it('an unknown top-level key is an error', () => {
    const p = oneProblem({ api_metadata: { url: '/x', hostname: '*' }, extra: 1 });
    expect(p.path).toBe('/extra');
    expect(p.message).toContain('unknown key `extra`');
  });
});

describe('prototype pollution guard', () => {
  it('refuses a __proto__ key coming from JSON.parse and does not pollute Object.prototype', () => {
    const raw = JSON.parse('{"api_metadata":{"url":"/x","hostname":"*","__proto__":{"polluted":true}}}');
    const p = oneProblem(raw);
    expect(p.path).toBe('/api_metadata/__proto__');
    expect(p.message).toContain('`__proto__`');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it.each([
    ['constructor at the top', '{"constructor":{"prototype":{"x":1}},"api_metadata":{"url":"/x","hostname":"*"}}', '/constructor'],
    ['prototype as a header name', '{"api_metadata":{"url":"/x","hostname":"*","health_check_headers":{"prototype":"x"}}}', '/api_metadata/health_check_headers/prototype'],
    ['__proto__ inside a server', '{"api_metadata":{"url":"/x","hostname":"*","servers":[{"host":"h","port":1,"__proto__":{}}]}}', '/api_metadata/servers/0/__proto__'],
  ])('refuses %s', (_label, text, where) => {
    const p = oneProblem(JSON.parse(text));
    expect(p.path).toBe(where);
  });

  it('refuses values that are not JSON data (class instances, functions)', () => {
    const problems = problemsOf(() => validateApiJson(api({ cookie: new Date(0), login_url: () => '/' }), 'x.json'));
    expect(problems.map((p) => p.path).sort()).toEqual(['/api_metadata/cookie', '/api_metadata/login_url']);
  });
});

describe('warnings', () => {
  it('both username_header and a jwt with location and username: one warning naming the file', () => {
    const { warnings } = validateApiJson(api({ username_header: 'x-user', jwt: { location: 'h:authorization:bearer', username: 'sub' } }), 'api/shop.json');
    expect(warnings).toEqual(['api/shop.json: both username_header and jwt are set; the JWT claim names the client first, and a deny-listed name in either blocks']);
  });

  it('username_header alone, or a jwt alone, gives no warning', () => {
    expect(validateApiJson(api({ username_header: 'x-user' }), 'x.json').warnings).toEqual([]);
    expect(validateApiJson(api({ jwt: { location: 'qs:t', username: 'sub' } }), 'x.json').warnings).toEqual([]);
  });

  it('servers that disagree on a quota of 0 versus a quota give a warning', () => {
    const { warnings } = validateApiJson(
      api({ servers: [{ host: 'a', port: 1, server_connection_quota: 0 }, { host: 'b', port: 1, server_connection_quota: 10 }] }),
      'api/shop.json',
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^api\/shop\.json: .*server_connection_quota/);
  });

  it('is_token_mandatory without oauth2_access_token is warned about', () => {
    const { warnings } = validateApiJson(api({ is_token_mandatory: true }), 'api/shop.json');
    expect(warnings).toEqual(['api/shop.json: is_token_mandatory has no effect unless oauth2_access_token is true']);
  });
});

// Found by the generated tests (test/fuzz/): a document of 80 000 unknown keys (under 1 MB, a
// management API body) took 20 s of CPU to describe and made a 41 MB message.
describe('hostile sizes are refused quickly, with a bounded message', () => {
  it('80 000 unknown keys: 50 problems listed and one line counting the rest, in well under a second', () => {
    const metadata: Record<string, unknown> = { url: '/x', hostname: '*' };
    for (let i = 0; i < 80_000; i++) metadata[`k${i}`] = 1;
    const started = Date.now();
    const problems = problemsOf(() => validateApiJson({ api_metadata: metadata }, 'x.json'));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(problems).toEqual([{ file: 'x.json', path: '/api_metadata', message: 'has too many entries (80002; at most 1024 in one object or list)' }]);
  });

  it('1 000 unknown keys (under the entry bound): the first 50 described, the other 950 counted', () => {
    const metadata: Record<string, unknown> = { url: '/x', hostname: '*' };
    for (let i = 0; i < 1_000; i++) metadata[`k${i}`] = 1;
    const problems = problemsOf(() => validateApiJson({ api_metadata: metadata }, 'x.json'));
    expect(problems).toHaveLength(51);
    expect(problems[0]!.path).toBe('/api_metadata/k0');
    expect(problems[50]).toEqual({ file: 'x.json', path: '', message: '950 more problems not listed' });
  });

  it('a list of 60 000 items in a field, and 10 001 values in all, are refused where they are', () => {
    const big = problemsOf(() => validateApiJson(api({ api_pattern_enforcement: { methods_allowed: Array.from({ length: 60_000 }, () => 'GET') } }), 'x.json'));
    expect(big.map((p) => p.path)).toEqual(['/api_metadata/api_pattern_enforcement/methods_allowed']);
    const servers = Array.from({ length: 1_000 }, (_, i) => ({ host: `h${i}`, port: 1, server_spike_threshold: '0/second', server_connection_quota: 0, x: [1, 2, 3, 4, 5] }));
    const many = problemsOf(() => validateApiJson(api({ servers }), 'x.json'));
    expect(many[0]!.message).toBe('makes the document too large (more than 10000 values in all)');
  });

  it('a 70 000-character unknown key is cut in the message', () => {
    const key = 'a'.repeat(70_000);
    const [p] = problemsOf(() => validateApiJson(api({ [key]: 1 }), 'x.json'));
    expect(p!.path).toBe(`/api_metadata/${key}`);
    expect(formatConfigProblem(p!).length).toBeLessThan(1_000);
  });
});
