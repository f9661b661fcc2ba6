'use strict';
// Core alone: decisions per second and per-decision latency (p50/p99), no HTTP at all.
// A realistic policy: 50 APIs, 100 000 deny-list entries of mixed types, decoys, method and
// content-type rules. Requests are pre-built RawRequests that pass (so every stage runs).
const { performance } = require('node:perf_hooks');
const { createEnforcer, silentLogger } = require('@ase/core');

function realisticPolicy() {
  const apis = {};
  for (let i = 0; i < 50; i++) {
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
          error_code: '', error_def: '', error_message_body: '',
        },
        decoy_config: { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: 'ok', decoy_subpaths: ['admin', 'debug'] },
        servers: [{ host: '127.0.0.1', port: 9 }],
      },
    };
  }
  return apis;
}

function fillDenyList(enforcer, n) {
  for (let i = 0; i < n; i++) {
    const k = i % 5;
    const entry =
      k === 0 ? { type: 'ip', value: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }
      : k === 1 ? { type: 'token', value: `tok-${i}` }
      : k === 2 ? { type: 'api_key', name: 'x-api-key', value: `key-${i}` }
      : k === 3 ? { type: 'cookie', name: 'sid', value: `sess-${i}` }
      : { type: 'username', value: `user-${i}` };
    enforcer.denyList.add(entry, 'manual');
  }
}

function requests(count) {
  const out = [];
  for (let i = 0; i < count; i++) {
    const svc = i % 50;
    out.push({
      method: i % 3 === 0 ? 'POST' : 'GET',
      url: `/v1/svc${svc}/items/${i}?page=${i % 7}`,
      headers: {
        host: svc % 5 === 0 ? `host${svc}.example` : 'api.example',
        authorization: `Bearer good-${i}`,
        'x-api-key': `k-${i}`,
        cookie: `sid=s-${i}; theme=dark`,
        ...(i % 3 === 0 ? { 'content-type': 'application/json', 'content-length': '2' } : {}),
      },
      remoteAddress: `192.168.${(i >> 8) & 255}.${i & 255}`,
      encrypted: false,
    });
  }
  return out;
}

function run({ seconds = 3, denyEntries = 100_000 } = {}) {
  const enforcer = createEnforcer({ logger: silentLogger, apis: realisticPolicy() });
  fillDenyList(enforcer, denyEntries);
  const reqs = requests(4096);
  // Warm up the JIT.
  for (let i = 0; i < 200_000; i++) enforcer.decide(reqs[i & 4095]);

  // Throughput: tight loop for `seconds`.
  let n = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) {
      const d = enforcer.decide(reqs[(n + i) & 4095]);
      if (d.action !== 'proxy') throw new Error(`unexpected decision ${d.action}`);
    }
    n += 1000;
  }
  const perSecond = n / ((performance.now() - t0) / 1000);

  // Latency: time single decisions.
  const samples = new Float64Array(200_000);
  for (let i = 0; i < samples.length; i++) {
    const s = process.hrtime.bigint();
    enforcer.decide(reqs[i & 4095]);
    samples[i] = Number(process.hrtime.bigint() - s) / 1000;
  }
  samples.sort();
  const pct = (p) => samples[Math.min(samples.length - 1, Math.floor(samples.length * p))];
  void enforcer.close();
  return { decisionsPerSecond: perSecond, p50us: pct(0.5), p99us: pct(0.99) };
}

module.exports = { run, realisticPolicy, fillDenyList, requests };

if (require.main === module) {
  const r = run();
  console.log(JSON.stringify(r));
}
