'use strict';
// The in-process measures bench/scale.js and bench/networks.js share: µs per decision and ns per
// deny-list lookup over the realistic requests of lib/policy.js, and those requests' identifiers.
const { performance } = require('node:perf_hooks');

/** Each request's IP, bearer token, API key and session cookie, as the deny list is asked for them. */
function identifiersOf(reqs) {
  return reqs.map((r) => ({
    ip: r.headers['x-forwarded-for'],
    token: r.headers.authorization.slice(7),
    key: r.headers['x-api-key'],
    cookie: r.headers.cookie.slice(4, r.headers.cookie.indexOf(';')),
  }));
}

/** µs per decision over the realistic (passing) requests (a Promise from a shared store is awaited). */
async function decisionUs(enforcer, reqs, n) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    let d = enforcer.decide(reqs[i & 4095]);
    if (typeof d.then === 'function') d = await d;
    if (d.action !== 'proxy') throw new Error(`unexpected decision ${d.action}`);
  }
  return ((performance.now() - t0) * 1000) / n;
}

/** ns per deny-list lookup: each request's IP, token, API key and cookie (all absent). */
function lookupNs(enforcer, ids, n) {
  const list = enforcer.denyList;
  let found = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const c = ids[i & 4095];
    if (list.get('ip', c.ip) || list.get('token', c.token) || list.get('api_key', c.key, 'x-api-key') || list.get('cookie', c.cookie, 'sid')) found++;
  }
  if (found) throw new Error('passing identifiers were found in the deny list');
  return ((performance.now() - t0) * 1e6) / (n * 4);
}

module.exports = { identifiersOf, decisionUs, lookupNs };
