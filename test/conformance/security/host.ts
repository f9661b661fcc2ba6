import type { Expected, Scenario } from '../types';
import { api, on } from '../scenarios';

/**
 * Host cannot be used to step out of an API. In middleware mode the app serves every Host alike, so
 * an API bound to a host name guards its url in the app for every Host: a request under that url
 * that no API matches is refused as Unknown API instead of reaching the app's routes unchecked.
 */

const unknownApi: Expected = {
  status: 503,
  reason: 'Service Unavailable',
  headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
  body: 'Error: Unknown API',
  reached: 'nobody',
};
const blocked: Expected = { status: 403, body: 'Error: Unauthorized', reached: 'nobody' };
const hostApp = (url: string): Expected => ({ status: 200, body: `host app GET ${url}`, reached: 'app' });

const adminOnGood = { admin: api('/admin', { hostname: 'good.example', enable_blocking: true }) };

export const SCENARIOS: Scenario[] = [
  {
    name: 'host: a deny-listed client cannot reach a host-bound API in the app by naming another Host',
    apis: adminOnGood,
    steps: [
      { act: [{ deny: { type: 'ip', value: '127.0.0.1' } }], request: { path: '/admin/users', headers: { host: 'good.example' } }, expect: blocked },
      { request: { path: '/admin/users', headers: { host: 'evil.example' } }, expect: unknownApi },
      { request: { path: '/admin/users', headers: { host: 'good.example.evil.example' } }, expect: unknownApi },
      { request: { path: '/admin/users', headers: { host: '127.0.0.1:8000' } }, expect: unknownApi },
      { request: { path: '/admin/users', headers: { host: '[::1]' } }, expect: unknownApi },
      { request: { path: '/admin/users', raw: true, headers: { host: '' } }, expect: unknownApi },
      // Matching is as broad as the app's router: case, ;params and a trailing slash change nothing.
      { request: { path: '/ADMIN;x=1/Users/', headers: { host: 'evil.example' } }, expect: unknownApi },
      { request: { path: '/admin', headers: { host: 'evil.example' } }, expect: unknownApi },
      // Paths no API guards still reach the app, whatever the Host.
      { request: { path: '/administrator', headers: { host: 'evil.example' } }, expect: hostApp('/administrator') },
      { request: { path: '/public/page', headers: { host: 'evil.example' } }, expect: hostApp('/public/page') },
    ],
  },
  {
    name: 'host: a Host that has an API of its own cannot borrow another host-bound API`s path',
    apis: { shop: api('/shop', { hostname: 'shop.example' }), ...adminOnGood },
    steps: [{ request: { path: '/admin/users', headers: { host: 'shop.example' } }, expect: unknownApi }],
  },
  {
    name: 'host: a * API covering the path decides for every other Host',
    backends: { b: 'echo' },
    apis: { ...adminOnGood, anyHost: api('/', { servers: on('b') }) },
    steps: [{ request: { path: '/admin/users', headers: { host: 'evil.example' } }, expect: { status: 200, reached: { backend: 'b' }, received: { url: '/admin/users' } } }],
  },
  {
    name: 'host: with pass_unmatched_hosts=true the app serves other hosts under a host-bound url',
    conf: { pass_unmatched_hosts: true },
    apis: adminOnGood,
    steps: [
      { act: [{ deny: { type: 'ip', value: '127.0.0.1' } }], request: { path: '/admin/users', headers: { host: 'good.example' } }, expect: blocked },
      { request: { path: '/admin/users', headers: { host: 'evil.example' } }, expect: hostApp('/admin/users') },
    ],
  },
  {
    name: 'host: the gateway answers a Host no API names with Unknown Hostname, as before',
    mode: 'gateway',
    apis: adminOnGood,
    steps: [{ request: { path: '/admin/users', headers: { host: 'evil.example' } }, expect: { ...unknownApi, body: 'Error: Unknown Hostname' } }],
  },
];
