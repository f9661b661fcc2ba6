import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ASE_CONF_DEFAULTS } from '../../src/config/defaults';
import { apiIdFromFile, fromObjects, isValidApiId, loadApiFile, loadConfigDir, readServerCa } from '../../src/config/load';
import { createEnforcer } from '../../src/enforcer';
import { silentLogger } from '../../src/types';
import { AseConfigError } from '../../src/errors';
import { problemsOf } from './helpers';

const FIXTURES = path.resolve(__dirname, 'fixtures');
const GOOD = JSON.stringify({ api_metadata: { url: '/shop', hostname: '*', servers: [{ host: '127.0.0.1', port: 8080 }] } });

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ase-config-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(rel: string, text: string): string {
  const file = path.join(dir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

describe('loadConfigDir', () => {
  it('an empty directory gives the ase.conf defaults, no APIs and no warnings', () => {
    expect(loadConfigDir(dir)).toEqual({ conf: ASE_CONF_DEFAULTS, apis: new Map(), warnings: [] });
  });

  it('reads ase.conf and every api/*.json, keyed by file name, in name order', () => {
    write('ase.conf', '; ports\nhttp_ws_port=9000\n');
    write('api/b-api.json', JSON.stringify({ api_metadata: { url: '/b', hostname: '*' } }));
    write('api/a api.json', JSON.stringify({ api_metadata: { url: '/a', hostname: '*' } }));
    write('api/notes.txt', 'not an api');
    const loaded = loadConfigDir(dir);
    expect(loaded.conf.http_ws_port).toBe(9000);
    expect([...loaded.apis.keys()]).toEqual(['a api', 'b-api']);
    expect(loaded.apis.get('b-api')?.api_metadata.cookie_idle_timeout).toBe('200m');
    expect(loaded.warnings).toEqual([]);
  });

  it('with skipInvalidApis, one broken JSON file and one schema-invalid file are reported by file name and skipped; the good one loads', () => {
    const broken = write('api/broken.json', '{\n  "api_metadata": {\n    "url": "/x",\n  }\n}\n');
    const invalid = write('api/invalid.json', JSON.stringify({ api_metadata: { url: 'no-slash', hostname: '*', flow_control: { client_spike_threshold: '5/sec' } } }));
    write('api/good.json', GOOD);
    const loaded = loadConfigDir(dir, { skipInvalidApis: true });
    expect([...loaded.apis.keys()]).toEqual(['good']);
    expect(loaded.warnings).toHaveLength(2);
    const [w1, w2] = loaded.warnings as [string, string];
    expect(w1.startsWith(`${broken}: skipped`)).toBe(true);
    expect(w1).toContain('is not valid JSON');
    expect(w1).toContain('line 4, column 3');
    expect(w2.startsWith(`${invalid}: skipped, 2 problems`)).toBe(true);
    expect(w2).toContain(`${invalid}: /api_metadata/url: must be a path starting with "/"`);
    expect(w2).toContain(`${invalid}: /api_metadata/flow_control/client_spike_threshold: must be a rate like "10/second", "100/minute" or "1000/hour" (got "5/sec")`);
  });

  it('an empty or truncated JSON file is reported with its position', () => {
    write('api/empty.json', '');
    write('api/truncated.json', '{"api_metadata": {"url": "/x"');
    const { apis, warnings } = loadConfigDir(dir, { skipInvalidApis: true });
    expect(apis.size).toBe(0);
    expect(warnings[0]).toMatch(/empty\.json: skipped.*not valid JSON.*line 1, column 1/s);
    expect(warnings[1]).toMatch(/truncated\.json: skipped.*not valid JSON.*line 1, column 30/s);
  });

  it('with skipInvalidApis, a file name that is not a valid api id is warned about and skipped', () => {
    write('api/-bad.json', GOOD);
    write('api/all.json', GOOD);
    write('api/ok.json', GOOD);
    const { apis, warnings } = loadConfigDir(dir, { skipInvalidApis: true });
    expect([...apis.keys()]).toEqual(['ok']);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/-bad\.json: skipped, api id must be/);
    expect(warnings[1]).toMatch(/all\.json: skipped, api id `all` is reserved/);
  });

  it('with skipInvalidApis, a second API with the same hostname and url is skipped with a warning naming the first', () => {
    write('api/first.json', GOOD);
    write('api/second.json', JSON.stringify({ api_metadata: { url: '/SHOP/', hostname: '*' } }));
    const { apis, warnings } = loadConfigDir(dir, { skipInvalidApis: true });
    expect([...apis.keys()]).toEqual(['first']);
    expect(warnings).toEqual([`${path.join(dir, 'api', 'second.json')}: skipped, api \`first\` already has the same hostname and url`]);
  });

  it('by default, any API file that does not load fails the whole load, listing every bad file with its JSON path, value and accepted form', () => {
    const broken = write('api/broken.json', '{ "api_metadata": { "url": "/x", ');
    const invalid = write('api/invalid.json', JSON.stringify({ api_metadata: { url: '/bad', hostname: '*', enable_blocking: 'yes' } }));
    write('api/good.json', GOOD);
    write('api/second.json', JSON.stringify({ api_metadata: { url: '/SHOP/', hostname: '*' } }));
    const problems = problemsOf(() => loadConfigDir(dir));
    expect(problems.map((p) => p.file)).toEqual([broken, invalid, path.join(dir, 'api', 'second.json')]);
    expect(problems[0]!.message).toContain('is not valid JSON');
    expect(problems[1]).toMatchObject({ path: '/api_metadata/enable_blocking', value: 'yes' });
    expect(problems[1]!.message).toMatch(/true or false/);
    expect(problems[2]).toMatchObject({ path: '/api_metadata/url', value: '/SHOP/' });
  });

  it('passes on the warnings of the APIs and of ase.conf', () => {
    write('ase.conf', 'mode=inline\n');
    fs.mkdirSync(path.join(dir, 'api'));
    fs.copyFileSync(path.join(FIXTURES, 'sample-rest-001.json'), path.join(dir, 'api', 'rest.json'));
    const { apis, warnings } = loadConfigDir(dir);
    expect(apis.has('rest')).toBe(true);
    expect(warnings).toEqual([
      `${path.join(dir, 'ase.conf')}: ignoring keys of the reference product that ASE for Node.js does not implement: mode (line 1)`,
      `${path.join(dir, 'api', 'rest.json')}: both username_header and jwt are set; the JWT claim names the client first, and a deny-listed name in either blocks`,
    ]);
  });

  it('loads the three reference sample files', () => {
    fs.mkdirSync(path.join(dir, 'api'));
    for (const f of fs.readdirSync(FIXTURES)) fs.copyFileSync(path.join(FIXTURES, f), path.join(dir, 'api', f));
    const { apis } = loadConfigDir(dir);
    expect([...apis.keys()]).toEqual(['sample-rest-001', 'sample-rest-002', 'sample-ws-002']);
    expect(apis.get('sample-ws-002')?.api_metadata.protocol).toBe('ws');
  });

  it('an invalid ase.conf makes the whole load fail, with every problem', () => {
    write('ase.conf', 'http_port=80\nenable_xff=maybe\n');
    write('api/good.json', GOOD);
    const problems = problemsOf(() => loadConfigDir(dir));
    expect(problems.map((p) => [p.file, p.path])).toEqual([
      [path.join(dir, 'ase.conf'), 'line 1: http_port'],
      [path.join(dir, 'ase.conf'), 'line 2: enable_xff'],
    ]);
  });

  it('a missing config directory is an error', () => {
    const missing = path.join(dir, 'nope');
    const [p] = problemsOf(() => loadConfigDir(missing));
    expect(p!.file).toBe(missing);
    expect(p!.message).toBe('config directory does not exist');
  });
});

describe('loadApiFile and apiIdFromFile', () => {
  it('apiIdFromFile is the file name without .json', () => {
    expect(apiIdFromFile('/etc/ase/api/shop.json')).toBe('shop');
    expect(apiIdFromFile('my api.json')).toBe('my api');
  });

  it('isValidApiId follows the reference naming rules', () => {
    expect(isValidApiId('shop_1 v2-x')).toBe(true);
    expect(isValidApiId('a'.repeat(160))).toBe(true);
    expect(isValidApiId('a'.repeat(161))).toBe(false);
    expect(isValidApiId('_shop')).toBe(false);
    expect(isValidApiId('shop.v2')).toBe(false);
    expect(isValidApiId('')).toBe(false);
    expect(isValidApiId('decoyAll')).toBe(false);
  });

  it('loadApiFile returns the API with defaults', () => {
    const file = write('api/shop.json', GOOD);
    expect(loadApiFile(file).api_metadata.servers).toEqual([{ host: '127.0.0.1', port: 8080, server_spike_threshold: '0/second', server_connection_quota: 0 }]);
  });

  it('loadApiFile throws an AseConfigError naming the file for invalid JSON or an invalid API', () => {
    const bad = write('api/bad.json', '{"api_metadata": ');
    expect(() => loadApiFile(bad)).toThrow(AseConfigError);
    expect(problemsOf(() => loadApiFile(bad))[0]!.file).toBe(bad);
    const invalid = write('api/invalid.json', '{"api_metadata": {"url": "/x"}}');
    expect(problemsOf(() => loadApiFile(invalid))).toMatchObject([{ file: invalid, path: '/api_metadata/hostname' }]);
  });

  it('loadApiFile throws for a missing file', () => {
    const [p] = problemsOf(() => loadApiFile(path.join(dir, 'none.json')));
    expect(p!.message).toContain('ENOENT');
  });
});

describe('fromObjects (configuration in code)', () => {
  it('builds the same result as a directory', () => {
    const loaded = fromObjects({ conf: { http_ws_port: 3000 }, apis: { shop: { api_metadata: { url: '/shop', hostname: '*' } } } });
    expect(loaded.conf).toEqual({ ...ASE_CONF_DEFAULTS, http_ws_port: 3000 });
    expect(loaded.apis.get('shop')?.api_metadata.protocol).toBe('http');
    expect(loaded.warnings).toEqual([]);
  });

  it('with no argument gives the defaults', () => {
    expect(fromObjects()).toEqual({ conf: ASE_CONF_DEFAULTS, apis: new Map(), warnings: [] });
  });

  it('any invalid API is a hard error with paths into the object given', () => {
    const problems = problemsOf(() =>
      fromObjects({
        conf: { enable_xff: 'maybe' },
        apis: {
          good: { api_metadata: { url: '/good', hostname: '*' } },
          bad: { api_metadata: { url: 'bad', hostname: '*' } },
          'bad id!': { api_metadata: { url: '/x', hostname: '*' } },
        },
      }),
    );
    expect(problems.map((p) => [p.file, p.path])).toEqual([
      ['<code>', '/conf/enable_xff'],
      ['<code>', '/apis/bad/api_metadata/url'],
      ['<code>', '/apis/bad id!'],
    ]);
  });

  it('refuses a __proto__ key inside an API', () => {
    const raw = JSON.parse('{"shop": {"api_metadata": {"url": "/s", "hostname": "*", "jwt": {"__proto__": {"x": 1}}}}}');
    const [p] = problemsOf(() => fromObjects({ apis: raw }));
    expect(p!.path).toBe('/apis/shop/api_metadata/jwt/__proto__');
  });

  it('warnings name the API', () => {
    const { warnings } = fromObjects({ apis: { shop: { api_metadata: { url: '/s', hostname: '*', username_header: 'x-u', jwt: { location: 'qs:t', username: 'sub' } } } } });
    expect(warnings).toEqual(['<code> api `shop`: both username_header and jwt are set; the JWT claim names the client first, and a deny-listed name in either blocks']);
  });

  it('two APIs on the same hostname and url are an error', () => {
    const [p] = problemsOf(() => fromObjects({ apis: { a: { api_metadata: { url: '/s', hostname: '*' } }, b: { api_metadata: { url: '/s/', hostname: '*' } } } }));
    expect(p!.path).toBe('/apis/b/api_metadata/url');
  });
});

// Found by the generated tests (test/fuzz/): the exact inputs.
describe('hostile files', () => {
  it('an API file that is not UTF-8 is refused with the line and column of the first bad byte, not loaded with U+FFFD', () => {
    const bytes = Buffer.concat([Buffer.from(GOOD.slice(0, 14)), Buffer.from([0xff]), Buffer.from(GOOD.slice(14))]);
    const file = path.join(dir, 'api', 'shop.json');
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, bytes);
    const [p, ...rest] = problemsOf(() => loadConfigDir(dir));
    expect(rest).toEqual([]);
    expect(p).toEqual({ file, path: '', message: 'is not valid UTF-8: byte 0xff at line 1, column 15' });
  });

  it('an ase.conf that is not UTF-8 is refused the same way', () => {
    write('ase.conf', 'http_ws_port=8080\n');
    fs.appendFileSync(path.join(dir, 'ase.conf'), Buffer.from([0x65, 0x6e, 0xc0, 0xaf, 0x0a]));
    const [p] = problemsOf(() => loadConfigDir(dir));
    expect(p).toEqual({ file: path.join(dir, 'ase.conf'), path: '', message: 'is not valid UTF-8: byte 0xc0 at line 2, column 3' });
  });

  it('a key given twice in one object of an API file is refused at its path, whichever copy would win', () => {
    const file = write('api/shop.json', '{"api_metadata": {"enable_blocking": true, "url": "/shop", "hostname": "*",\n "enable_blocking": false}}');
    const [p] = problemsOf(() => loadConfigDir(dir));
    expect(p).toEqual({ file, path: '/api_metadata/enable_blocking', message: 'duplicate key `enable_blocking` (line 2); each key may appear once in an object' });
    // The same key in two different objects is no duplicate.
    write('api/shop.json', '{"api_metadata": {"url": "/shop", "hostname": "*", "servers": [{"host": "a", "port": 1}, {"host": "b", "port": 1}]}}');
    expect(loadConfigDir(dir).apis.get('shop')?.api_metadata.servers).toHaveLength(2);
  });

  it('server_ca_cert_path naming a file that cannot be read: createEnforcer throws a config error naming ase.conf and the key', async () => {
    const conf = write('ase.conf', `server_ca_cert_path=${path.join(dir, 'missing.pem')}\n`);
    let thrown: unknown;
    try {
      await createEnforcer({ configDir: dir, logger: silentLogger }).close();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(AseConfigError);
    expect((thrown as AseConfigError).problems).toEqual([
      { file: conf, path: 'server_ca_cert_path', value: path.join(dir, 'missing.pem'), message: 'cannot be read (ENOENT); it must be a readable PEM file, or ""' },
    ]);
    expect(() => readServerCa(dir, '<options.conf>')).toThrow(/<options\.conf>: server_ca_cert_path: cannot be read \(EISDIR\)/);
  });
});
