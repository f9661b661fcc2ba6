import { api, on } from '../scenarios';
import type { Expected, Scenario } from '../types';

/**
 * The proxy's header hygiene (docs/security.md, "The proxy's header hygiene"): what a backend
 * receives is what ASE decided on. A client's `Connection` header cannot strip the headers the
 * policy read, forwarding headers are believed only from a trusted proxy, and a request with two
 * `Host` headers is refused before anything reads either.
 */

const ASE_HEADERS = { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' } as const;
const malformed: Expected = { status: 400, reason: 'Bad Request', headers: ASE_HEADERS, body: 'Error: Malformed Request', reached: 'nobody' };

const identity = { oauth2_access_token: true, apikey_header: 'X-API-Key', cookie: 'sid', username_header: 'X-User' };
const proxied = { shop: api('/shop', { ...identity, servers: on('b') }) };
const jwtApi = { shop: api('/shop', { jwt: { location: 'h:X-JWT', username: 'sub' }, servers: on('b') }) };

/** Forwarding headers as a client forging them (or a trusted proxy reporting them) would send. */
const FORGED = {
  forwarded: 'for=198.51.100.9;host=evil.example;proto=https',
  'x-real-ip': '198.51.100.9',
  'x-forwarded-host': 'evil.example',
  'x-forwarded-proto': 'https',
  'x-forwarded-port': '8443',
  'x-forwarded-prefix': '/admin',
};
const NONE_OF_THEM = { forwarded: null, 'x-real-ip': null, 'x-forwarded-port': null, 'x-forwarded-prefix': null };

export const SCENARIOS: Scenario[] = [
  {
    name: 'proxy headers: a client Connection header cannot remove Host, Content-Type, Content-Length, Authorization or the identity headers the policy read',
    backends: { b: 'echo' },
    apis: proxied,
    steps: [
      {
        request: {
          method: 'POST',
          path: '/shop/x',
          raw: true,
          headers: {
            Connection: 'keep-alive, Host, Content-Type, Content-Length, Authorization, X-API-Key, Cookie, X-User, X-Custom',
            'content-type': 'application/json',
            authorization: 'Bearer t-1',
            'x-api-key': 'k-1',
            cookie: 'sid=s-1',
            'x-user': 'alice',
            'x-custom': 'hop',
          },
          body: '{"a":1}',
        },
        expect: {
          status: 200,
          reached: { backend: 'b' },
          received: {
            method: 'POST',
            body: '{"a":1}',
            headers: {
              host: 'x',
              'content-type': 'application/json',
              'content-length': '7',
              'transfer-encoding': null,
              authorization: 'Bearer t-1',
              'x-api-key': 'k-1',
              cookie: 'sid=s-1',
              'x-user': 'alice',
              // A header the policy never read is hop-by-hop when the client says so (RFC 9110 §7.6.1).
              'x-custom': null,
            },
          },
        },
      },
    ],
  },
  {
    name: 'proxy headers: a client Connection header cannot remove the header the JWT is read from',
    backends: { b: 'echo' },
    apis: jwtApi,
    steps: [
      {
        request: { path: '/shop/x', raw: true, headers: { Connection: 'X-JWT', 'x-jwt': 'a.b.c' } },
        expect: { status: 200, reached: { backend: 'b' }, received: { headers: { 'x-jwt': 'a.b.c' } } },
      },
    ],
  },
  {
    name: 'proxy headers: forwarding headers from a client are dropped and ASE sets its own',
    backends: { b: 'echo' },
    apis: proxied,
    steps: [
      {
        request: { path: '/shop/x', headers: { host: 'shop.example', ...FORGED, 'x-forwarded-for': '198.51.100.9' } },
        expect: {
          status: 200,
          reached: { backend: 'b' },
          received: { headers: { ...NONE_OF_THEM, 'x-forwarded-for': '127.0.0.1', 'x-forwarded-host': 'shop.example', 'x-forwarded-proto': 'http' } },
        },
      },
    ],
  },
  {
    name: 'proxy headers: with enable_xff on, forwarding headers from a peer outside xff_trusted_proxies are dropped too',
    backends: { b: 'echo' },
    conf: { enable_xff: true, xff_trusted_proxies: '10.0.0.1' },
    apis: proxied,
    steps: [
      {
        request: { path: '/shop/x', headers: { host: 'shop.example', ...FORGED } },
        expect: { status: 200, reached: { backend: 'b' }, received: { headers: { ...NONE_OF_THEM, 'x-forwarded-host': 'shop.example', 'x-forwarded-proto': 'http' } } },
      },
      // A forged X-Forwarded-For chain is replaced, not extended: the backend sees only the peer.
      {
        request: { path: '/shop/x', headers: { host: 'shop.example', 'x-forwarded-for': '198.51.100.9, 10.0.0.1' } },
        expect: { status: 200, reached: { backend: 'b' }, received: { headers: { 'x-forwarded-for': '127.0.0.1' } } },
      },
    ],
  },
  {
    name: "proxy headers: a trusted proxy's forwarding headers are passed on; ASE fills in those it did not send",
    backends: { b: 'echo' },
    conf: { enable_xff: true, xff_trusted_proxies: '127.0.0.1' },
    apis: proxied,
    steps: [
      {
        request: { path: '/shop/x', headers: { host: 'shop.example', ...FORGED } },
        expect: { status: 200, reached: { backend: 'b' }, received: { headers: FORGED } },
      },
      // A trusted proxy's chain is extended by the hop ASE saw.
      {
        request: { path: '/shop/x', headers: { host: 'shop.example', 'x-forwarded-for': '198.51.100.9' } },
        expect: { status: 200, reached: { backend: 'b' }, received: { headers: { 'x-forwarded-for': '198.51.100.9, 127.0.0.1' } } },
      },
      {
        request: { path: '/shop/x', headers: { host: 'shop.example', 'x-real-ip': '198.51.100.9' } },
        expect: {
          status: 200,
          reached: { backend: 'b' },
          received: { headers: { 'x-real-ip': '198.51.100.9', 'x-forwarded-host': 'shop.example', 'x-forwarded-proto': 'http', forwarded: null, 'x-forwarded-port': null } },
        },
      },
    ],
  },
  {
    name: 'proxy headers: with enable_xff off even a peer listed in xff_trusted_proxies is not trusted',
    backends: { b: 'echo' },
    conf: { enable_xff: false, xff_trusted_proxies: '127.0.0.1' },
    apis: proxied,
    steps: [
      {
        request: { path: '/shop/x', headers: { host: 'shop.example', ...FORGED } },
        expect: { status: 200, reached: { backend: 'b' }, received: { headers: { ...NONE_OF_THEM, 'x-forwarded-host': 'shop.example', 'x-forwarded-proto': 'http' } } },
      },
    ],
  },
  {
    name: 'proxy headers: a request with two Host headers gets 400 Error: Malformed Request, on an API path and on an app route',
    backends: { b: 'echo' },
    apis: { shop: api('/shop', { hostname: 'good.example', servers: on('b') }) },
    steps: [
      { request: { path: '/shop/x', raw: true, headers: { host: 'good.example', Host: 'evil.example' } }, expect: malformed },
      { request: { path: '/shop/x', raw: true, headers: { host: 'evil.example', Host: 'good.example' } }, expect: malformed },
      { request: { path: '/shop/x', raw: true, headers: { host: 'good.example', Host: 'good.example' } }, expect: malformed },
      { request: { path: '/elsewhere', raw: true, headers: { host: 'good.example', Host: 'evil.example' } }, expect: malformed },
      { request: { path: '/shop/x', raw: true, headers: { host: 'good.example' } }, expect: { status: 200, reached: { backend: 'b' } } },
    ],
  },
  {
    name: 'proxy headers: the gateway answers 400 to a request with two Host headers',
    backends: { b: 'echo' },
    mode: 'gateway',
    apis: { shop: api('/shop', { servers: on('b') }) },
    steps: [{ request: { path: '/shop/x', raw: true, headers: { host: 'a.example', Host: 'b.example' } }, expect: malformed }],
  },
  {
    name: 'proxy headers: an absolute-form target naming another host is decided by the Host header, as before',
    backends: { b: 'echo' },
    apis: { shop: api('/shop', { hostname: 'good.example', servers: on('b') }) },
    steps: [
      {
        request: { path: 'http://evil.example/shop/x', raw: true, headers: { host: 'good.example' } },
        expect: { status: 200, reached: { backend: 'b' }, received: { url: '/shop/x', headers: { host: 'good.example' } } },
      },
    ],
  },
];
