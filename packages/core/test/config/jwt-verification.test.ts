import * as fs from 'node:fs';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { validateApiJson } from '../../src/config/api-schema';
import { Enforcer } from '../../src/enforcer';
import { type JwtCheck, JwtVerifier } from '../../src/identity/jwt-verifier';
import type { JwtVerificationJson } from '../../src/config/types';
import { AseConfigError, formatConfigProblem } from '../../src/errors';
import { problemsOf } from './helpers';

const KEYS = path.resolve(__dirname, '../../../../test/fixtures/jwt');
const SECRET = fs.readFileSync(path.join(KEYS, 'hs256.secret'), 'utf8').trim();
const JWT = { location: 'h:authorization:bearer', username: 'sub', clientid: '' };

function api(meta: Record<string, unknown>): unknown {
  return { api_metadata: { url: '/shop', hostname: '*', jwt: JWT, ...meta } };
}
const problems = (meta: Record<string, unknown>) => problemsOf(() => validateApiJson(api(meta), 'api/shop.json'));
const one = (meta: Record<string, unknown>) => {
  const p = problems(meta);
  expect(p).toHaveLength(1);
  return p[0]!;
};

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const hs256 = (claims: Record<string, unknown>, secret = SECRET): string => {
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
};
const conf = (over: Partial<JwtVerificationJson> = {}): JwtVerificationJson => ({ algorithms: ['HS256'], secret_file: 'hs256.secret', clock_tolerance: 30, required: false, ...over });

describe('jwt_verification in the API JSON', () => {
  it('is absent unless written: the reference jwt object reads back unchanged, no extension keys added', () => {
    const { api: out } = validateApiJson(api({}), 'api/shop.json');
    expect(out.api_metadata.jwt).toEqual(JWT);
    expect('jwt_verification' in out.api_metadata).toBe(false);
    expect('username_header_trusted' in out.api_metadata).toBe(false);
  });

  it('a JWT location without a username claim warns only when nothing verifies the JWT', () => {
    const noClaim = { location: 'h:authorization:bearer', username: '', clientid: '' };
    const verified = validateApiJson(api({ jwt: noClaim, jwt_verification: { algorithms: ['HS256'], secret_file: 'k', required: true } }), 'api/shop.json');
    expect(verified.warnings).toEqual([]);
    const decoded = validateApiJson(api({ jwt: noClaim }), 'api/shop.json');
    expect(decoded.warnings).toEqual(['api/shop.json: jwt needs both location and username to be decoded; jwt is ignored']);
  });

  it('gets clock_tolerance 30 and required false as defaults', () => {
    const { api: out } = validateApiJson(api({ jwt_verification: { algorithms: ['HS256'], secret_file: 'k' } }), 'api/shop.json');
    expect(out.api_metadata.jwt_verification).toEqual({ algorithms: ['HS256'], secret_file: 'k', clock_tolerance: 30, required: false });
  });

  it('accepts an asymmetric list with a PEM file or a JWKS file, issuer and audience', () => {
    for (const source of [{ public_key_file: 'keys/a.pem' }, { jwks_file: 'keys/jwks.json' }]) {
      const v = { algorithms: ['RS256', 'ES256', 'EdDSA'], ...source, issuer: 'https://id.example', audience: 'shop', clock_tolerance: 0, required: true };
      expect(validateApiJson(api({ jwt_verification: v }), 'x').api.api_metadata.jwt_verification).toEqual(v);
    }
  });

  it('requires algorithms, naming the file and the field', () => {
    const p = one({ jwt_verification: { secret_file: 'k' } });
    expect(p).toMatchObject({ file: 'api/shop.json', path: '/api_metadata/jwt_verification/algorithms' });
    expect(p.message).toMatch(/^is required/);
  });

  it.each([
    [['none'], '/api_metadata/jwt_verification/algorithms/0'],
    [['HS256', 'none'], '/api_metadata/jwt_verification/algorithms/1'],
    [[], '/api_metadata/jwt_verification/algorithms'],
    [['HS256', 'HS256'], '/api_metadata/jwt_verification/algorithms'],
  ])('refuses algorithms %j', (algorithms, at) => {
    expect(one({ jwt_verification: { algorithms, secret_file: 'k' } }).path).toBe(at);
  });

  it('refuses HS* mixed with asymmetric algorithms (key confusion)', () => {
    const p = one({ jwt_verification: { algorithms: ['HS256', 'RS256'], secret_file: 'k' } });
    expect(p.path).toBe('/api_metadata/jwt_verification/algorithms');
    expect(p.message).toMatch(/mixes HS\* with asymmetric/);
  });

  it.each([
    [{ algorithms: ['HS256'] }, '/api_metadata/jwt_verification', /exactly one/],
    [{ algorithms: ['RS256'], public_key_file: 'a', jwks_file: 'b' }, '/api_metadata/jwt_verification', /exactly one/],
    [{ algorithms: ['HS256'], public_key_file: 'a' }, '/api_metadata/jwt_verification/public_key_file', /HS\* algorithms need secret_file/],
    [{ algorithms: ['RS256'], secret_file: 'a' }, '/api_metadata/jwt_verification/secret_file', /need public_key_file or jwks_file/],
  ])('refuses a key source that does not fit: %j', (v, at, message) => {
    const p = one({ jwt_verification: v });
    expect(p.path).toBe(at);
    expect(p.message).toMatch(message);
  });

  it('needs jwt.location, which says where the JWT is', () => {
    const p = one({ jwt: { location: '', username: '', clientid: '' }, jwt_verification: { algorithms: ['HS256'], secret_file: 'k' } });
    expect(p.path).toBe('/api_metadata/jwt/location');
  });

  it('refuses an inline secret as an unknown key, without echoing it', () => {
    const p = one({ jwt_verification: { algorithms: ['HS256'], secret: 'hunter2-hunter2-hunter2-hunter2!', secret_file: 'k' } });
    expect(p.path).toBe('/api_metadata/jwt_verification/secret');
    expect(formatConfigProblem(p)).not.toContain('hunter2');
  });

  it('refuses clock_tolerance outside 0..600 and a non-boolean required', () => {
    expect(problems({ jwt_verification: { algorithms: ['HS256'], secret_file: 'k', clock_tolerance: 601, required: 'yes' } }).map((p) => p.path).sort()).toEqual([
      '/api_metadata/jwt_verification/clock_tolerance',
      '/api_metadata/jwt_verification/required',
    ]);
  });

  it('refuses required_claims that is not a list of distinct claim names', () => {
    for (const bad of ['exp', [''], ['exp', 'exp'], [7], Array.from({ length: 17 }, (_, i) => `c${i}`)]) {
      expect(problems({ jwt_verification: { algorithms: ['HS256'], secret_file: 'k', required_claims: bad } }).map((p) => p.path)[0]).toMatch(/^\/api_metadata\/jwt_verification\/required_claims/);
    }
    expect(validateApiJson(api({ jwt_verification: { algorithms: ['HS256'], secret_file: 'k', required_claims: ['exp', 'sub'] } }), 'api/shop.json').warnings).toEqual([]);
  });

  it('username_header_trusted is a boolean, and warned about without username_header', () => {
    expect(one({ username_header_trusted: 'yes' }).path).toBe('/api_metadata/username_header_trusted');
    expect(validateApiJson(api({ username_header_trusted: true }), 'api/shop.json').warnings).toEqual([
      'api/shop.json: username_header_trusted has no effect without username_header',
    ]);
  });
});

describe('JwtVerifier key files', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ase-jwt-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const loadErr = (c: JwtVerificationJson, base = KEYS): AseConfigError => {
    try {
      JwtVerifier.load(c, base, 'api/shop.json');
    } catch (err) {
      expect(err).toBeInstanceOf(AseConfigError);
      return err as AseConfigError;
    }
    throw new Error('expected a config error');
  };

  it('an unreadable key file is a config error naming the API file, the field and the key file', () => {
    const err = loadErr(conf({ secret_file: 'missing.secret' }), dir);
    expect(err.problems[0]).toMatchObject({ file: 'api/shop.json', path: '/api_metadata/jwt_verification/secret_file', value: 'missing.secret' });
    expect(err.message).toContain(path.join(dir, 'missing.secret'));
    expect(err.message).toContain('ENOENT');
  });

  it('refuses a secret shorter than the hash, without putting it in the message', () => {
    fs.writeFileSync(path.join(dir, 'short'), 'too-short-secret\n');
    const err = loadErr(conf({ secret_file: 'short' }), dir);
    expect(err.message).toMatch(/holds 16 bytes; HS256 needs a secret of at least 32 bytes/);
    expect(err.message).not.toContain('too-short-secret');
  });

  it('refuses a PEM key that cannot verify the algorithms, and a file that is no key', () => {
    expect(loadErr(conf({ algorithms: ['RS256'], secret_file: undefined, public_key_file: 'es256.jwks.json' })).message).toMatch(/does not hold a PEM public key/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' });
    fs.writeFileSync(path.join(dir, 'ec.pem'), ec);
    expect(loadErr(conf({ algorithms: ['RS256'], secret_file: undefined, public_key_file: 'ec.pem' }), dir).message).toMatch(/holds a ec key, which cannot verify RS256/);
  });

  it('refuses a JWKS holding a shared secret or a private key, or that is not a JWKS', () => {
    const jwks = (keys: unknown[]) => {
      fs.writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys }));
      return loadErr(conf({ algorithms: ['ES256'], secret_file: undefined, jwks_file: 'jwks.json' }), dir).message;
    };
    expect(jwks([{ kty: 'oct', k: 'c2VjcmV0' }])).toMatch(/public keys only/);
    const priv = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    expect(jwks([priv])).toMatch(/public keys only/);
    expect(jwks([])).toMatch(/is not a JWKS/);
  });

  it('verifies HS256: a good token is ok (the second time from the cache, synchronously); none, a bad signature or an expired token is not', async () => {
    const v = JwtVerifier.load(conf(), KEYS, 'api/shop.json');
    const now = Math.floor(Date.now() / 1000);
    const good = hs256({ sub: 'alice', exp: now + 60 });
    const first = v.check(good);
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toMatchObject({ ok: true, payload: { sub: 'alice' } });
    expect(v.check(good)).toMatchObject({ ok: true, payload: { sub: 'alice' } });
    const checks: JwtCheck[] = await Promise.all([
      v.check(`${b64({ alg: 'none' })}.${b64({ sub: 'alice' })}.`),
      v.check(hs256({ sub: 'alice' }, 'x'.repeat(43))),
      v.check(hs256({ sub: 'alice', exp: now - 31 })),
      v.check('garbage'),
    ]);
    expect(checks.map((c) => c.ok)).toEqual([false, false, false, false]);
  });

  it('an Enforcer reads key files relative to its config directory, once, when the API is installed', async () => {
    fs.mkdirSync(path.join(dir, 'api'));
    fs.mkdirSync(path.join(dir, 'keys'));
    fs.copyFileSync(path.join(KEYS, 'hs256.secret'), path.join(dir, 'keys', 'hs.secret'));
    const json = api({ jwt_verification: { algorithms: ['HS256'], secret_file: 'keys/hs.secret' } }) as { api_metadata: object };
    fs.writeFileSync(path.join(dir, 'api', 'shop.json'), JSON.stringify(json));
    const logger = { info() {}, warn() {}, error() {} };
    const enforcer = new Enforcer({ configDir: dir, logger });
    try {
      expect(enforcer.getApi('shop')?.jwtVerifier).toBeInstanceOf(JwtVerifier);
      // Removing the key afterwards changes nothing for the running API (loaded once) ...
      fs.rmSync(path.join(dir, 'keys', 'hs.secret'));
      expect(enforcer.getApi('shop')?.jwtVerifier).toBeInstanceOf(JwtVerifier);
      // ... but an API change that names an unreadable key is refused, and nothing is persisted.
      await expect(enforcer.updateApi('shop', { ...json, api_metadata: { ...json.api_metadata, enable_blocking: true } })).rejects.toThrow(
        /api[\\/]shop\.json: \/api_metadata\/jwt_verification\/secret_file: cannot read .*hs\.secret \(ENOENT\)/,
      );
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'api', 'shop.json'), 'utf8'))).toEqual(json);
    } finally {
      await enforcer.close();
    }
    expect(() => new Enforcer({ configDir: dir, logger })).toThrow(/secret_file: cannot read/);
  });
});
