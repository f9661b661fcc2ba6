'use strict';
// The one job every peer of bench/peers.js is configured for, written as each one's own config:
// 50 API prefixes proxied to one keep-alive backend, a deny list of 10 000 IPs (the client's IP from
// X-Forwarded-For, trusted from 127.0.0.0/8) and 10 000 bearer tokens, 403 for a listed client.
// Also the traffic: passing requests (never listed) and blocked ones (a listed IP or token in turn).
const fs = require('node:fs');
const path = require('node:path');

const PREFIXES = 50;
const DENIED_IPS = 10_000;
const DENIED_TOKENS = 10_000;

const prefix = (i) => `/v1/svc${i}/`;
const deniedIp = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const deniedToken = (i) => `tok-${i}`;

/** ASE's config directory: ase.conf, one API file per prefix, the lists in data/lists.json. */
function aseConfig(dir, backendPort) {
  fs.mkdirSync(path.join(dir, 'api'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'ase.conf'),
    ['enable_access_log=false', 'enable_xff=true', 'xff_trusted_proxies=127.0.0.0/8, ::1/128', ''].join('\n'),
  );
  for (let i = 0; i < PREFIXES; i++) {
    const api = {
      api_metadata: {
        protocol: 'http',
        url: `/v1/svc${i}`,
        hostname: '*',
        oauth2_access_token: true,
        enable_blocking: true,
        servers: [{ host: '127.0.0.1', port: backendPort }],
      },
    };
    fs.writeFileSync(path.join(dir, 'api', `svc${i}.json`), JSON.stringify(api));
  }
  const entries = [];
  for (let i = 0; i < DENIED_IPS; i++) entries.push({ type: 'ip', value: deniedIp(i), tag: 'manual' });
  for (let i = 0; i < DENIED_TOKENS; i++) entries.push({ type: 'token', value: deniedToken(i), tag: 'manual' });
  fs.writeFileSync(path.join(dir, 'data', 'lists.json'), JSON.stringify({ version: 1, blacklist: entries, whitelist: [] }));
  return dir;
}

/** nginx: realip from X-Forwarded-For, a `geo` of the IPs, a `map` of the tokens, a location per prefix. */
function nginxConfig(dir, port, backendPort) {
  const p = (f) => path.join(dir, f);
  fs.writeFileSync(p('deny-ips.conf'), Array.from({ length: DENIED_IPS }, (_, i) => `${deniedIp(i)} 1;\n`).join(''));
  fs.writeFileSync(p('deny-tokens.conf'), Array.from({ length: DENIED_TOKENS }, (_, i) => `"Bearer ${deniedToken(i)}" 1;\n`).join(''));
  const locations = Array.from(
    { length: PREFIXES },
    (_, i) => `    location ${prefix(i)} { proxy_pass http://backend; }\n`,
  ).join('');
  const conf = `worker_processes 1;
daemon off;
master_process on;
pid ${p('nginx.pid')};
error_log ${p('nginx-error.log')} warn;
events { worker_connections 4096; multi_accept on; }
http {
  access_log off;
  client_body_temp_path ${p('body')};
  proxy_temp_path ${p('proxy')};
  fastcgi_temp_path ${p('fastcgi')};
  uwsgi_temp_path ${p('uwsgi')};
  scgi_temp_path ${p('scgi')};
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  upstream backend { server 127.0.0.1:${backendPort}; keepalive 64; }
  set_real_ip_from 127.0.0.0/8;
  real_ip_header X-Forwarded-For;
  real_ip_recursive on;
  geo $denied_ip { default 0; include ${p('deny-ips.conf')}; }
  map_hash_max_size 65536;
  map_hash_bucket_size 128;
  map $http_authorization $denied_token { default 0; include ${p('deny-tokens.conf')}; }
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_set_header Host $host;
  proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    if ($denied_ip) { return 403; }
    if ($denied_token) { return 403; }
${locations}    location / { return 404; }
  }
}
`;
  fs.writeFileSync(p('nginx.conf'), conf);
  return p('nginx.conf');
}

/** HAProxy: one thread, ACLs from pattern files (IP tree, exact strings), prefixes by path_beg. */
function haproxyConfig(dir, port, backendPort) {
  const p = (f) => path.join(dir, f);
  fs.writeFileSync(p('prefixes.lst'), Array.from({ length: PREFIXES }, (_, i) => `${prefix(i)}\n`).join(''));
  fs.writeFileSync(p('deny-ips.lst'), Array.from({ length: DENIED_IPS }, (_, i) => `${deniedIp(i)}\n`).join(''));
  fs.writeFileSync(p('deny-tokens.lst'), Array.from({ length: DENIED_TOKENS }, (_, i) => `Bearer ${deniedToken(i)}\n`).join(''));
  const conf = `global
  nbthread 1
  maxconn 4096
defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
frontend peers
  bind 127.0.0.1:${port}
  acl trusted src 127.0.0.0/8
  acl api path_beg -f ${p('prefixes.lst')}
  acl denied_ip req.hdr_ip(x-forwarded-for,-1) -f ${p('deny-ips.lst')}
  acl denied_token req.hdr(authorization) -f ${p('deny-tokens.lst')}
  http-request deny deny_status 403 if trusted denied_ip
  http-request deny deny_status 403 if denied_token
  http-request deny deny_status 404 if !api
  option forwardfor
  default_backend backend
backend backend
  http-reuse always
  server s1 127.0.0.1:${backendPort}
`;
  fs.writeFileSync(p('haproxy.cfg'), conf);
  return p('haproxy.cfg');
}

/** The k-th request of passing traffic: a prefix in turn, a client and token never listed; one in four a POST. */
function passing(k) {
  const post = k % 4 === 0;
  return {
    method: post ? 'POST' : 'GET',
    path: `${prefix((k * 7) % PREFIXES)}items/${k}?page=${k % 7}`,
    headers: {
      host: 'api.example',
      'x-forwarded-for': `192.168.${(k >> 8) & 255}.${k & 255}`,
      authorization: `Bearer good-${k}`,
      ...(post ? { 'content-type': 'application/json' } : {}),
    },
    ...(post ? { body: '{"ok":true}' } : {}),
  };
}

/** The k-th request of blocked traffic: a listed IP and a listed token in turn, spread over the lists. */
function blocked(k) {
  const r = passing(k);
  const i = (k * 157) % DENIED_IPS;
  if (k % 2 === 0) r.headers['x-forwarded-for'] = deniedIp(i);
  else r.headers.authorization = `Bearer ${deniedToken(i)}`;
  return { ...r, method: 'GET', headers: { ...r.headers, 'content-type': undefined }, body: undefined };
}

function traffic(kind, count = 64) {
  return Array.from({ length: count }, (_, k) => {
    const r = kind === 'blocked' ? blocked(k) : passing(k);
    for (const [h, v] of Object.entries(r.headers)) if (v === undefined) delete r.headers[h];
    if (r.body === undefined) delete r.body;
    return r;
  });
}

module.exports = { PREFIXES, DENIED_IPS, DENIED_TOKENS, aseConfig, nginxConfig, haproxyConfig, traffic };
