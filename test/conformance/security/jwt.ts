import { createPrivateKey, createHmac, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { api, on } from '../scenarios';
import type { Expected, Scenario, Step } from '../types';

/**
 * Identity a client can forge never earns the allow list (docs/security.md). An allow-listed user
 * name counts only when it comes from a JWT whose signature was verified (`jwt_verification`), or
 * from `username_header` on an API that says a trusted proxy sets it, on a request whose socket
 * peer is one of `xff_trusted_proxies`. Forged claims still count against a client on the deny list.
 */

const KEYS = path.join(__dirname, '..', '..', 'fixtures', 'jwt');
const key = (file: string): string => path.join(KEYS, file);
const HS_SECRET = readFileSync(key('hs256.secret'), 'utf8').replace(/\r?\n$/, '');
const RS_PRIVATE = createPrivateKey(readFileSync(key('rs256.key.pem')));
const ES_PRIVATE = createPrivateKey(readFileSync(key('es256.key.pem')));
const RS_PUBLIC_PEM = readFileSync(key('rs256.pub.pem'), 'utf8');

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const NOW = Math.floor(Date.now() / 1000);
const HOUR = 3600;

type Claims = Record<string, unknown>;
const withExp = (claims: Claims): Claims => ({ exp: NOW + HOUR, ...claims });

/** `alg: none`: anyone can write it. */
const unsigned = (claims: Claims): string => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(withExp(claims))}.`;
const hs256 = (claims: Claims, secret: string | Buffer = HS_SECRET): string => {
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(withExp(claims))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
};
const asymmetric = (alg: 'RS256' | 'ES256', k: KeyObject, claims: Claims, kid?: string): string => {
  const input = `${b64({ alg, typ: 'JWT', ...(kid ? { kid } : {}) })}.${b64(withExp(claims))}`;
  const sig = sign('sha256', Buffer.from(input), alg === 'ES256' ? { key: k, dsaEncoding: 'ieee-p1363' } : k);
  return `${input}.${sig.toString('base64url')}`;
};
const rs256 = (claims: Claims): string => asymmetric('RS256', RS_PRIVATE, claims);
const es256 = (claims: Claims): string => asymmetric('ES256', ES_PRIVATE, claims, 'es-1');
/** A JWT whose payload is `json` exactly as written (a claim may be spelled twice), unsigned or HS256-signed. */
const rawPayload = (json: string, alg: 'none' | 'HS256'): string => {
  const input = `${b64({ alg, typ: 'JWT' })}.${Buffer.from(json).toString('base64url')}`;
  return `${input}.${alg === 'none' ? '' : createHmac('sha256', HS_SECRET).update(input).digest('base64url')}`;
};
/** A good HS256 token's header and payload with another token's signature: the claims are not the signer's. */
const wrongSignature = (claims: Claims): string => {
  const [h, p] = hs256(claims).split('.');
  return `${h}.${p}.${hs256({ sub: 'someone-else' }).split('.')[2]}`;
};

/** The APIs' error response (`api_pattern_enforcement.error_*`), which every block here answers with. */
const unauthorized: Expected = {
  status: 401,
  reason: 'Unauthorized',
  headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
  body: '401 Unauthorized',
  reached: 'nobody',
};
const violation = unauthorized;
const backend = (url: string): Expected => ({ status: 200, reached: { backend: 'b' }, received: { url }, headers: { 'x-backend': 'b' } });
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** Every API answers a block with its own error response (401 here), GET only where `methods` says so. */
const pattern = (methods_allowed: string[] = []) => ({
  protocol_allowed: '',
  http_redirect: { response_code: '', response_def: '', https_url: '' },
  methods_allowed,
  content_type_allowed: '',
  error_code: '401',
  error_def: 'Unauthorized',
  error_message_body: '401 Unauthorized',
});

const claims = { jwt: { location: 'h:authorization:bearer', username: 'sub', clientid: '' } };
const hsVerification = (over: Record<string, unknown> = {}) => ({ algorithms: ['HS256'], secret_file: key('hs256.secret'), ...over });

const APIS = {
  // The reference's decode-only JWT: its claims identify, they never authenticate.
  plain: api('/plain', { ...claims, enable_blocking: true, api_pattern_enforcement: pattern(['GET']), servers: on('b') }),
  hs: api('/hs', { ...claims, enable_blocking: true, api_pattern_enforcement: pattern(['GET']), jwt_verification: hsVerification(), servers: on('b') }),
  rs: api('/rs', { ...claims, enable_blocking: true, api_pattern_enforcement: pattern(), jwt_verification: { algorithms: ['RS256'], public_key_file: key('rs256.pub.pem') }, servers: on('b') }),
  jwks: api('/jwks', { ...claims, enable_blocking: true, api_pattern_enforcement: pattern(), jwt_verification: { algorithms: ['ES256'], jwks_file: key('es256.jwks.json') }, servers: on('b') }),
  required: api('/required', {
    ...claims,
    enable_blocking: true,
    api_pattern_enforcement: pattern(),
    jwt_verification: hsVerification({ required: true, issuer: 'https://issuer.example', audience: 'shop' }),
    servers: on('b'),
  }),
  lifetime: api('/lifetime', { ...claims, enable_blocking: true, api_pattern_enforcement: pattern(), jwt_verification: hsVerification({ required: true, required_claims: ['exp'] }), servers: on('b') }),
  header: api('/header', { username_header: 'x-user', username_header_trusted: true, enable_blocking: true, api_pattern_enforcement: pattern(), servers: on('b') }),
  headerPlain: api('/header-plain', { username_header: 'x-user', enable_blocking: true, api_pattern_enforcement: pattern(), servers: on('b') }),
};

const ALICE = { allow: { type: 'username' as const, value: 'alice' } };
const DENY_ME = { deny: { type: 'ip' as const, value: '127.0.0.1' } };

const scenario = (name: string, steps: Step[], conf?: Scenario['conf']): Scenario => ({
  name: `jwt: ${name}`,
  backends: { b: 'echo' },
  apis: APIS,
  ...(conf ? { conf } : {}),
  steps,
});

const blockedByIp: Expected = { ...unauthorized, events: ['blocked:deny_list'] };
const refused: Expected = { ...unauthorized, events: ['blocked:invalid_jwt'] };
const good = { iss: 'https://issuer.example', aud: 'shop', sub: 'alice' };

export const SCENARIOS: Scenario[] = [
  scenario('an allow-listed user name in an unsigned JWT (alg none) does not skip a deny-listed IP', [
    { act: [ALICE, DENY_ME], request: { path: '/plain/x', headers: bearer(unsigned({ sub: 'alice' })) }, expect: blockedByIp },
    { request: { path: '/hs/x', headers: bearer(unsigned({ sub: 'alice' })) }, expect: blockedByIp },
  ]),
  scenario('an allow-listed user name in an unsigned JWT does not skip pattern enforcement', [
    { act: [ALICE], request: { method: 'POST', path: '/plain/x', headers: bearer(unsigned({ sub: 'alice' })) }, expect: { ...violation, events: ['attack:invalid_method:true', 'blocked:invalid_method'] } },
    { request: { method: 'POST', path: '/hs/x', headers: bearer(unsigned({ sub: 'alice' })) }, expect: { ...violation, events: ['attack:invalid_method:true', 'blocked:invalid_method'] } },
  ]),
  scenario('an allow-listed user name in a JWT with a wrong signature, or signed with the wrong key, does not skip a deny-listed IP', [
    { act: [ALICE, DENY_ME], request: { path: '/hs/x', headers: bearer(wrongSignature({ sub: 'alice' })) }, expect: blockedByIp },
    { request: { path: '/hs/x', headers: bearer(hs256({ sub: 'alice' }, 'not-the-secret')) }, expect: blockedByIp },
    { request: { path: '/plain/x', headers: bearer(hs256({ sub: 'alice' })) }, expect: blockedByIp },
    { request: { path: '/rs/x', headers: bearer(es256({ sub: 'alice' })) }, expect: blockedByIp },
  ]),
  scenario('an RS256 API refuses an HS256 JWT signed with its public key as the secret (key confusion)', [
    { act: [ALICE, DENY_ME], request: { path: '/rs/x', headers: bearer(hs256({ sub: 'alice' }, RS_PUBLIC_PEM)) }, expect: blockedByIp },
  ]),
  scenario('a verified JWT earns the allow list: HS256 secret, RS256 PEM public key, ES256 JWKS file', [
    { act: [ALICE, DENY_ME], request: { path: '/hs/x', headers: bearer(hs256({ sub: 'alice' })) }, expect: { ...backend('/hs/x'), events: [] } },
    // The second time it comes from the cache of verified tokens: the same answer.
    { request: { path: '/hs/y', headers: bearer(hs256({ sub: 'alice' })) }, expect: { ...backend('/hs/y'), events: [] } },
    { request: { method: 'POST', path: '/hs/x', headers: bearer(hs256({ sub: 'alice' })) }, expect: { ...backend('/hs/x'), events: [] } },
    { request: { path: '/rs/x', headers: bearer(rs256({ sub: 'alice' })) }, expect: { ...backend('/rs/x'), events: [] } },
    { request: { path: '/jwks/x', headers: bearer(es256({ sub: 'alice' })) }, expect: { ...backend('/jwks/x'), events: [] } },
    { request: { path: '/hs/x', headers: bearer(hs256({ sub: 'bob' })) }, expect: blockedByIp },
  ]),
  scenario('a deny-listed user name still blocks, in an unsigned JWT or a JWT with a wrong signature', [
    { act: [{ deny: { type: 'username', value: 'mallory' } }], request: { path: '/hs/x', headers: bearer(unsigned({ sub: 'mallory' })) }, expect: { ...unauthorized, events: ['blocked:deny_list'] } },
    { request: { path: '/hs/x', headers: bearer(wrongSignature({ sub: 'mallory' })) }, expect: { ...unauthorized, events: ['blocked:deny_list'] } },
    { request: { path: '/hs/x', headers: bearer(hs256({ sub: 'mallory' })) }, expect: { ...unauthorized, events: ['blocked:deny_list'] } },
    { request: { path: '/hs/x', headers: bearer(unsigned({ sub: 'alice' })) }, expect: { ...backend('/hs/x'), events: [] } },
  ]),
  scenario('an API with required verification refuses a missing, unsigned, expired, not-yet-valid, wrong-issuer or wrong-audience JWT', [
    { request: { path: '/required/x' }, expect: refused },
    { request: { path: '/required/x', headers: bearer(unsigned(good)) }, expect: refused },
    { request: { path: '/required/x', headers: bearer(wrongSignature(good)) }, expect: refused },
    { request: { path: '/required/x', headers: bearer(hs256({ ...good, exp: NOW - HOUR })) }, expect: refused },
    { request: { path: '/required/x', headers: bearer(hs256({ ...good, nbf: NOW + HOUR })) }, expect: refused },
    { request: { path: '/required/x', headers: bearer(hs256({ ...good, iss: 'https://evil.example' })) }, expect: refused },
    { request: { path: '/required/x', headers: bearer(hs256({ ...good, aud: 'other' })) }, expect: refused },
    { request: { path: '/required/x', headers: bearer('not.a.jwt') }, expect: refused },
    // An allow-listed client still needs a valid JWT where one is required.
    { act: [{ allow: { type: 'ip', value: '127.0.0.1' } }], request: { path: '/required/x' }, expect: refused },
    { request: { path: '/required/x', headers: bearer(hs256(good)) }, expect: { ...backend('/required/x'), events: [] } },
    // Within the clock tolerance (30 s by default) a just-expired token is still accepted. Built when
    // sent (a getter the runner reads then): under load, the last framework reaches this step more
    // than 30 s after this module was loaded.
    {
      request: {
        path: '/required/x',
        get headers() {
          return bearer(hs256({ ...good, exp: Math.floor(Date.now() / 1000) - 5 }));
        },
      },
      expect: { ...backend('/required/x'), events: [] },
    },
  ]),
  scenario('required_claims ["exp"] refuses a verified JWT that never expires; without it such a JWT is accepted', [
    { request: { path: '/lifetime/x', headers: bearer(hs256({ sub: 'alice', exp: undefined })) }, expect: refused },
    { request: { path: '/lifetime/x', headers: bearer(hs256({ sub: 'alice' })) }, expect: { ...backend('/lifetime/x'), events: [] } },
    { act: [ALICE, DENY_ME], request: { path: '/hs/x', headers: bearer(hs256({ sub: 'alice', exp: undefined })) }, expect: { ...backend('/hs/x'), events: [] } },
  ]),
  scenario(
    'an allow-listed user name in username_header from a peer outside xff_trusted_proxies does not skip a deny-listed IP',
    [
      { act: [ALICE, DENY_ME], request: { path: '/header/x', headers: { 'x-user': 'alice' } }, expect: blockedByIp },
      { request: { path: '/header-plain/x', headers: { 'x-user': 'alice' } }, expect: blockedByIp },
    ],
    { xff_trusted_proxies: '10.0.0.1' },
  ),
  scenario(
    'username_header earns the allow list only on an API that declares it set by a trusted proxy, from a trusted peer (enable_xff on)',
    [
      { act: [ALICE, DENY_ME], request: { path: '/header/x', headers: { 'x-user': 'alice' } }, expect: { ...backend('/header/x'), events: [] } },
      { request: { path: '/header-plain/x', headers: { 'x-user': 'alice' } }, expect: blockedByIp },
      // A second copy of the header (the backend may read either) earns nothing.
      { request: { path: '/header/x', raw: true, headers: { 'x-user': 'alice\r\nX-User: bob' } }, expect: blockedByIp },
    ],
    { enable_xff: true },
  ),
  scenario('a second JWT beside a verified one (the backend may read either): the allow list is not earned, and a required API refuses', [
    { act: [ALICE, DENY_ME], request: { path: '/hs/x', raw: true, headers: { authorization: `Bearer ${hs256({ sub: 'alice' })}\r\nAuthorization: Bearer ${unsigned({ sub: 'alice' })}` } }, expect: blockedByIp },
    { request: { path: '/required/x', raw: true, headers: { authorization: `Bearer ${hs256(good)}\r\nAuthorization: Bearer ${unsigned(good)}` } }, expect: refused },
    // The same token twice is one token.
    { request: { path: '/hs/x', raw: true, headers: { authorization: `Bearer ${hs256({ sub: 'alice' })}\r\nAuthorization: Bearer ${hs256({ sub: 'alice' })}` } }, expect: { ...backend('/hs/x'), events: [] } },
  ]),
  scenario('a deny-listed user name in any copy of the JWT or of username_header blocks', [
    { act: [{ deny: { type: 'username', value: 'mallory' } }], request: { path: '/plain/x', raw: true, headers: { authorization: `Bearer ${unsigned({ sub: 'alice' })}\r\nAuthorization: Bearer ${unsigned({ sub: 'mallory' })}` } }, expect: blockedByIp },
    { request: { path: '/header-plain/x', raw: true, headers: { 'x-user': 'alice\r\nX-User: mallory' } }, expect: blockedByIp },
    { request: { path: '/header-plain/x', headers: { 'x-user': 'alice,mallory' } }, expect: blockedByIp },
    { request: { path: '/header-plain/x', headers: { 'x-user': 'alice' } }, expect: backend('/header-plain/x') },
  ]),
  // Found by the generated requests (test/fuzz/identities.test.ts): JSON.parse keeps the last of two
  // claims, other JWT libraries the first; and Node's req.headers shows only the first Authorization line.
  scenario('a deny-listed user name in a claim spelled twice, or in a Bearer JWT after an Authorization: Basic line, blocks', [
    { act: [{ deny: { type: 'username', value: 'mallory' } }], request: { path: '/plain/x', headers: bearer(rawPayload(`{"sub":"mallory","sub":"alice","exp":${NOW + HOUR}}`, 'none')) }, expect: blockedByIp },
    { request: { path: '/plain/x', headers: bearer(rawPayload(`{"sub":"alice","s\\u0075b":"mallory","exp":${NOW + HOUR}}`, 'none')) }, expect: blockedByIp },
    { request: { path: '/plain/x', raw: true, headers: { authorization: `Basic YWxpY2U6eA==\r\nAuthorization: Bearer ${unsigned({ sub: 'mallory' })}` } }, expect: blockedByIp },
    { request: { path: '/plain/x', headers: bearer(rawPayload(`{"sub":"alice","exp":${NOW + HOUR},"x":{"sub":"mallory"}}`, 'none')) }, expect: backend('/plain/x') },
  ]),
  scenario('a verified JWT that spells its user name claim twice earns no allow list', [
    { act: [ALICE, DENY_ME], request: { path: '/hs/x', headers: bearer(rawPayload(`{"sub":"alice","sub":"alice","exp":${NOW + HOUR}}`, 'HS256')) }, expect: { ...backend('/hs/x'), events: [] } },
    { request: { path: '/hs/x', headers: bearer(rawPayload(`{"sub":"bob","sub":"alice","exp":${NOW + HOUR}}`, 'HS256')) }, expect: blockedByIp },
  ]),
  scenario('with enable_xff off no peer is a trusted proxy: username_header earns nothing', [
    { act: [ALICE, DENY_ME], request: { path: '/header/x', headers: { 'x-user': 'alice' } }, expect: blockedByIp },
  ]),
];
