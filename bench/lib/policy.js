'use strict';
// The realistic policy every ASE scenario runs, and the traffic sent to it.
//
// 50 APIs (every fifth bound to its own host name, the rest on `*`), each with an OAuth2 token, an
// API-key header and a session cookie as identifiers, blocking on, methods GET/POST, content type
// application/json, two decoy sub-paths, and a client rate limit of 1 000 000/second (on, but never
// tripped). The deny list holds 100 000 entries of all five types (IP, token, API key, cookie,
// user name). `enable_xff` is on and 127.0.0.0/8 trusted, so the client IP comes from
// X-Forwarded-For as it does behind a load balancer.

const API_COUNT = 50;
const DENY_ENTRIES = 100_000;
const CLIENT_RATE = '1000000/second';

/** ase.conf keys of every ASE scenario. */
const CONF = { enable_xff: true, xff_trusted_proxies: '127.0.0.0/8, ::1/128', attack_list_memory: '2GB' };

/** `servers`: where the APIs proxy to; `[]` = protect the app's own routes (middleware mode). */
function realisticPolicy({ servers = [{ host: '127.0.0.1', port: 9 }], clientRate = CLIENT_RATE } = {}) {
  const apis = {};
  for (let i = 0; i < API_COUNT; i++) {
    apis[`api${i}`] = {
      api_metadata: {
        url: `/v1/svc${i}`,
        hostname: i % 5 === 0 ? `host${i}.example` : '*',
        oauth2_access_token: true,
        apikey_header: 'x-api-key',
        cookie: 'sid',
        enable_blocking: true,
        api_pattern_enforcement: {
          methods_allowed: ['GET', 'POST'],
          content_type_allowed: 'application/json',
          protocol_allowed: '',
          http_redirect: { response_code: '', response_def: '', https_url: '' },
          error_code: '',
          error_def: '',
          error_message_body: '',
        },
        decoy_config: { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: 'ok', decoy_subpaths: ['admin', 'debug'] },
        flow_control: { client_spike_threshold: clientRate },
        servers,
      },
    };
  }
  return apis;
}

/** The i-th deny-list entry: types in turn, values that passing traffic never carries. */
function denyEntry(i) {
  switch (i % 5) {
    case 0:
      return { type: 'ip', value: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` };
    case 1:
      return { type: 'token', value: `tok-${i}` };
    case 2:
      return { type: 'api_key', name: 'x-api-key', value: `key-${i}` };
    case 3:
      return { type: 'cookie', name: 'sid', value: `sess-${i}` };
    default:
      return { type: 'username', value: `user-${i}` };
  }
}

function fillDenyList(enforcer, n = DENY_ENTRIES) {
  for (let i = 0; i < n; i++) enforcer.denyList.add(denyEntry(i), 'manual');
}

/** Host header and path of the k-th request: spread over all 50 APIs, deeper paths, queries. */
function target(k) {
  const svc = (k * 7) % API_COUNT;
  return { host: svc % 5 === 0 ? `host${svc}.example` : 'api.example', path: `/v1/svc${svc}/items/${k}?page=${k % 7}` };
}

/** Identifiers of a client that is not listed: they are all looked up, and none is found. */
function goodClient(k) {
  return {
    'x-forwarded-for': `192.168.${(k >> 8) & 255}.${k & 255}`,
    authorization: `Bearer good-${k}`,
    'x-api-key': `k-${k}`,
    cookie: `sid=s-${k}; theme=dark`,
  };
}

/** RawRequests for the core benchmark (as an adapter builds them): all pass every stage. */
function requests(count) {
  const out = [];
  for (let k = 0; k < count; k++) {
    const { host, path } = target(k);
    const post = k % 4 === 0;
    out.push({
      method: post ? 'POST' : 'GET',
      url: path,
      headers: { host, ...goodClient(k), ...(post ? { 'content-type': 'application/json', 'content-length': '11' } : {}) },
      remoteAddress: '127.0.0.1',
      encrypted: false,
    });
  }
  return out;
}

/** autocannon `requests` for passing traffic: one in four is a POST with a JSON body. */
function passingHttpRequests(count = 64) {
  const out = [];
  for (let k = 0; k < count; k++) {
    const { host, path } = target(k);
    const post = k % 4 === 0;
    out.push({
      method: post ? 'POST' : 'GET',
      path,
      headers: { host, ...goodClient(k), ...(post ? { 'content-type': 'application/json' } : {}) },
      ...(post ? { body: '{"ok":true}' } : {}),
    });
  }
  return out;
}

/**
 * autocannon `requests` from deny-listed clients, all GET: a listed IP (in X-Forwarded-For), token,
 * API key or cookie in turn; everything else about them is valid, so the deny list is the reason.
 */
function blockedHttpRequests(count = 64) {
  const out = [];
  for (let k = 0; k < count; k++) {
    const { host, path } = target(k);
    const headers = { host, ...goodClient(k) };
    const i = k * 5 + (k % 4); // entry i has type i % 5: ip, token, api_key, cookie
    const e = denyEntry(i);
    if (e.type === 'ip') headers['x-forwarded-for'] = e.value;
    else if (e.type === 'token') headers.authorization = `Bearer ${e.value}`;
    else if (e.type === 'api_key') headers['x-api-key'] = e.value;
    else headers.cookie = `sid=${e.value}; theme=dark`;
    out.push({ method: 'GET', path, headers });
  }
  return out;
}


/**
 * autocannon `requests` as nginx's auth_request asks about passing traffic (`blocked`: traffic
 * from deny-listed clients): the original method and target in X-Original-*, the client's
 * address in X-Forwarded-For, its identifiers and content type in its own headers; no body (nginx sends none).
 */
function nginxDecisionRequests({ blocked = false, count = 64 } = {}) {
  const source = blocked ? blockedHttpRequests(count) : passingHttpRequests(count);
  return source.map((r) => {
    const headers = { ...r.headers, 'x-original-uri': r.path, 'x-original-method': r.method, 'x-forwarded-proto': 'http' };
    return { method: 'GET', path: '/.ase/decide', headers };
  });
}

module.exports = {
  nginxDecisionRequests,
  API_COUNT,
  DENY_ENTRIES,
  CLIENT_RATE,
  CONF,
  realisticPolicy,
  denyEntry,
  fillDenyList,
  requests,
  passingHttpRequests,
  blockedHttpRequests,
};
