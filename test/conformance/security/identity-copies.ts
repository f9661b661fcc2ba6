import { api, on } from '../scenarios';
import type { Expected, Scenario, Step } from '../types';

/**
 * Every copy of an identity is checked (docs/security.md, "Every copy of an identity is checked").
 * A client may send an identifier several times, in several places and spellings; the backend or the
 * app reads one of them, and which one depends on its parser. So any deny-listed copy blocks, and
 * copies that disagree never earn the allow list.
 */

const ASE_HEADERS = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } as const;
const refused: Expected = { status: 403, reason: 'Unauthorized', headers: ASE_HEADERS, body: 'Error: Unauthorized', reached: 'nobody', events: ['blocked:deny_list'] };
const served = (path: string): Expected => ({ status: 200, reached: { backend: 'b' }, received: { url: path }, events: [] });

const copiesApi = {
  ids: api('/ids', { enable_blocking: true, oauth2_access_token: true, apikey_header: 'X-API-Key', apikey_qs: 'api_key', cookie: 'sid', servers: on('b') }),
};
const copies = (name: string, steps: Step[]): Scenario => ({ name: `identity copies: ${name}`, backends: { b: 'echo' }, apis: copiesApi, steps });

const BAD_HEADER_KEY = { deny: { type: 'api_key' as const, name: 'x-api-key', value: 'bad' } };
const BAD_QUERY_KEY = { deny: { type: 'api_key' as const, name: 'api_key', value: 'bad' } };
const BAD_TOKEN = { deny: { type: 'token' as const, value: 'bad' } };
const BAD_COOKIE = { deny: { type: 'cookie' as const, name: 'sid', value: 'bad' } };
const THIS_IP = { deny: { type: 'ip' as const, value: '127.0.0.1' } };

export const SCENARIOS: Scenario[] = [
  copies('a deny-listed API key in the header is blocked whatever key the query string carries', [
    { act: [BAD_HEADER_KEY], request: { path: '/ids/x?api_key=good', headers: { 'x-api-key': 'bad' } }, expect: refused },
    { request: { path: '/ids/x?api_key=good', headers: { 'x-api-key': 'fine' } }, expect: served('/ids/x?api_key=good') },
  ]),
  copies('a deny-listed API key in the query string is blocked whatever key the header carries', [
    { act: [BAD_QUERY_KEY], request: { path: '/ids/x?api_key=bad', headers: { 'x-api-key': 'good' } }, expect: refused },
  ]),
  copies('a deny-listed API key after many repeats of the query parameter is blocked', [
    { act: [BAD_QUERY_KEY], request: { path: `/ids/x?${'api_key=good&'.repeat(20)}api_key=bad` }, expect: refused },
  ]),
  copies('a deny-listed API key in a second api-key header line, or in a comma-joined value, is blocked', [
    { act: [BAD_HEADER_KEY], request: { path: '/ids/x', raw: true, headers: { 'X-API-Key': 'good', 'x-api-key': 'bad' } }, expect: refused },
    { request: { path: '/ids/x', raw: true, headers: { 'X-API-Key': 'bad', 'x-api-key': 'good' } }, expect: refused },
    { request: { path: '/ids/x', headers: { 'x-api-key': 'good, bad' } }, expect: refused },
    { request: { path: '/ids/x', headers: { 'x-api-key': 'good,bad' } }, expect: refused },
    { request: { path: '/ids/x', headers: { 'x-api-key': 'good, fine' } }, expect: served('/ids/x') },
  ]),
  copies('a deny-listed bearer token in a second Authorization line is blocked', [
    { act: [BAD_TOKEN], request: { path: '/ids/x', raw: true, headers: { Authorization: 'Bearer good', authorization: 'Bearer bad' } }, expect: refused },
    { request: { path: '/ids/x', raw: true, headers: { Authorization: 'Bearer good', authorization: 'Bearer fine' } }, expect: served('/ids/x') },
  ]),
  copies('a deny-listed token in the access_token query parameter (RFC 6750 §2.3) is blocked, alone or beside a header token', [
    { act: [BAD_TOKEN], request: { path: '/ids/x?access_token=bad' }, expect: refused },
    { request: { path: '/ids/x?access_token=%62ad' }, expect: refused },
    { request: { path: '/ids/x?access_token=bad', headers: { authorization: 'Bearer good' } }, expect: refused },
    { request: { path: '/ids/x?access_token=good&access_token=bad' }, expect: refused },
    { request: { path: '/ids/x?access_token=good' }, expect: served('/ids/x?access_token=good') },
  ]),
  copies('a deny-listed cookie repeated in one Cookie header, or in a second Cookie header, is blocked', [
    { act: [BAD_COOKIE], request: { path: '/ids/x', headers: { cookie: 'sid=good; sid=bad' } }, expect: refused },
    { request: { path: '/ids/x', raw: true, headers: { Cookie: 'sid=good', cookie: 'sid=bad' } }, expect: refused },
    { request: { path: '/ids/x', raw: true, headers: { Cookie: 'a=1; sid=good', cookie: 'b=2', COOKIE: 'sid=bad' } }, expect: refused },
    { request: { path: '/ids/x', raw: true, headers: { Cookie: 'sid=good', cookie: 'sid=fine' } }, expect: served('/ids/x') },
  ]),
  copies('a deny-listed cookie is blocked when percent-encoded, as the app cookie parser decodes it', [
    { act: [BAD_COOKIE], request: { path: '/ids/x', headers: { cookie: 'sid=%62ad' } }, expect: refused },
    { request: { path: '/ids/x', headers: { cookie: 'sid=%62%61%64' } }, expect: refused },
    { request: { path: '/ids/x', headers: { cookie: 'sid="%62ad"' } }, expect: refused },
    { act: [{ deny: { type: 'cookie', name: 'sid', value: '%62ad' } }], request: { path: '/ids/x', headers: { cookie: 'sid=%62ad' } }, expect: refused },
    { request: { path: '/ids/x', headers: { cookie: 'sid=%zz' } }, expect: served('/ids/x') },
  ]),
  copies('a deny-listed cookie is found behind padding or many other cookies', [
    { act: [BAD_COOKIE], request: { path: '/ids/x', headers: { cookie: `pad=${'p'.repeat(9000)}; sid=bad` } }, expect: refused },
    { request: { path: '/ids/x', headers: { cookie: `${Array.from({ length: 80 }, (_v, i) => `c${i}=v`).join('; ')}; sid=bad` } }, expect: refused },
  ]),
  copies('an allow-listed token earns the allow list only when no other token copy disagrees', [
    { act: [THIS_IP, { allow: { type: 'token', value: 'good' } }], request: { path: '/ids/x', headers: { authorization: 'Bearer good' } }, expect: served('/ids/x') },
    { request: { path: '/ids/x', raw: true, headers: { Authorization: 'Bearer good', authorization: 'Bearer good' } }, expect: served('/ids/x') },
    { request: { path: '/ids/x', raw: true, headers: { Authorization: 'Bearer good', authorization: 'Bearer other' } }, expect: refused },
    { request: { path: '/ids/x?access_token=other', headers: { authorization: 'Bearer good' } }, expect: refused },
  ]),
  copies('an allow-listed API key earns the allow list only when no other key copy disagrees', [
    { act: [THIS_IP, { allow: { type: 'api_key', name: 'x-api-key', value: 'good' } }], request: { path: '/ids/x', headers: { 'x-api-key': 'good' } }, expect: served('/ids/x') },
    { request: { path: '/ids/x?api_key=other', headers: { 'x-api-key': 'good' } }, expect: refused },
    { request: { path: '/ids/x', raw: true, headers: { 'X-API-Key': 'good', 'x-api-key': 'other' } }, expect: refused },
    { request: { path: '/ids/x', headers: { 'x-api-key': 'good, other' } }, expect: refused },
  ]),
  copies('an allow-listed cookie earns the allow list only when no other copy of it disagrees', [
    { act: [THIS_IP, { allow: { type: 'cookie', name: 'sid', value: 'good' } }], request: { path: '/ids/x', headers: { cookie: 'a=1; sid=good' } }, expect: served('/ids/x') },
    { request: { path: '/ids/x', headers: { cookie: 'sid=good; sid=other' } }, expect: refused },
    { request: { path: '/ids/x', raw: true, headers: { Cookie: 'sid=other', cookie: 'sid=good' } }, expect: refused },
  ]),
  {
    name: 'identity copies: in gateway mode too, a deny-listed copy of a token, API key or cookie is blocked',
    backends: { b: 'echo' },
    mode: 'gateway',
    apis: copiesApi,
    steps: [
      { act: [BAD_TOKEN, BAD_HEADER_KEY, BAD_COOKIE], request: { path: '/ids/x', raw: true, headers: { Authorization: 'Bearer good', authorization: 'Bearer bad' } }, expect: refused },
      { request: { path: '/ids/x?api_key=good', headers: { 'x-api-key': 'bad' } }, expect: refused },
      { request: { path: '/ids/x', headers: { cookie: 'sid=good; sid=%62ad' } }, expect: refused },
      { request: { path: '/ids/x', headers: { cookie: 'sid=good' } }, expect: served('/ids/x') },
    ],
  },
];
