'use strict';
// The cost of JWT verification (`jwt_verification`), core alone, no HTTP: the realistic policy with
// every API reading a JWT from `X-JWT` (user name from `sub`), decode-only (OFF) against the same
// APIs verifying it (ON: HS256 with a secret file, RS256 with a PEM public key), on the same
// requests, each carrying a signed JWT of its own client (4 096 clients), alternating rounds.
// Verified tokens are cached (until `exp`), so after the first request of a client ON costs a Map
// lookup; the first sight of a token (a promise and jose's verification) is timed on its own.
// Run alone: `node bench/jwt.js` prints one JSON line.
const { createHmac, generateKeyPairSync, sign } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { createEnforcer, silentLogger } = require('@ase/core');
const { CONF, DENY_ENTRIES, realisticPolicy, fillDenyList, requests } = require('./lib/policy');
const { median } = require('./core');

const CLIENTS = 4096;
const FIRST_SIGHT = 20_000;

const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
const exp = Math.floor(Date.now() / 1000) + 3600;
function hs256(secret, sub) {
  const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, exp })}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}
function rs256(key, sub) {
  const input = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ sub, exp })}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

function policy(verification) {
  const apis = realisticPolicy();
  for (const a of Object.values(apis)) {
    a.api_metadata.jwt = { location: 'h:x-jwt', username: 'sub', clientid: '' };
    if (verification) a.api_metadata.jwt_verification = verification;
  }
  return apis;
}

function withJwt(reqs, token) {
  return reqs.map((r, k) => ({ ...r, headers: { ...r.headers, 'x-jwt': token(`client-${k}`) } }));
}

function check(d) {
  if (d.action !== 'proxy') throw new Error(`unexpected decision ${d.action} (${d.reason ?? ''})`);
}

async function throughput(enforcer, reqs, seconds) {
  const mask = reqs.length - 1;
  let n = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) {
      const d = enforcer.decide(reqs[(n + i) & mask]);
      check(typeof d.then === 'function' ? await d : d);
    }
    n += 1000;
  }
  return n / ((performance.now() - t0) / 1000);
}

/** Mean µs per decision for requests whose JWT the enforcer has never seen. */
async function firstSight(enforcer, reqs) {
  const t0 = performance.now();
  for (const r of reqs) {
    const d = enforcer.decide(r);
    check(typeof d.then === 'function' ? await d : d);
  }
  return ((performance.now() - t0) * 1000) / reqs.length;
}

async function run({ seconds = 15, rounds = 5 } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ase-bench-jwt-'));
  const enforcers = [];
  try {
    const secret = 'bench-secret-'.padEnd(48, 'x');
    fs.writeFileSync(path.join(dir, 'hs.secret'), secret);
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    fs.writeFileSync(path.join(dir, 'rs.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    const make = (verification) => {
      const e = createEnforcer({ logger: silentLogger, conf: CONF, apis: policy(verification) });
      fillDenyList(e, DENY_ENTRIES);
      enforcers.push(e);
      return e;
    };
    const base = requests(CLIENTS);
    const variants = [
      { name: 'off', enforcer: make(undefined), reqs: withJwt(base, (s) => hs256(secret, s)) },
      { name: 'hs256', enforcer: make({ algorithms: ['HS256'], secret_file: path.join(dir, 'hs.secret') }), reqs: withJwt(base, (s) => hs256(secret, s)) },
      { name: 'rs256', enforcer: make({ algorithms: ['RS256'], public_key_file: path.join(dir, 'rs.pem') }), reqs: withJwt(base, (s) => rs256(privateKey, s)) },
    ];
    // Warm-up: the JIT, and every client's token verified once (the cache fills).
    for (const v of variants) {
      for (let i = 0; i < 100_000; i++) {
        const d = v.enforcer.decide(v.reqs[i & (CLIENTS - 1)]);
        check(typeof d.then === 'function' ? await d : d);
      }
    }
    const rates = Object.fromEntries(variants.map((v) => [v.name, []]));
    for (let r = 0; r < rounds; r++) for (const v of variants) rates[v.name].push(await throughput(v.enforcer, v.reqs, seconds / rounds / variants.length));
    const ratio = (name) => median(rates[name].map((x, i) => x / rates.off[i]));

    const fresh = requests(FIRST_SIGHT);
    const hsFirst = await firstSight(variants[1].enforcer, withJwt(fresh, (s) => hs256(secret, `new-${s}`)));
    const rsFirst = await firstSight(variants[2].enforcer, withJwt(fresh.slice(0, 4000), (s) => rs256(privateKey, `new-${s}`)));
    return {
      offPerSecond: median(rates.off),
      hs256PerSecond: median(rates.hs256),
      rs256PerSecond: median(rates.rs256),
      hs256Ratio: ratio('hs256'),
      rs256Ratio: ratio('rs256'),
      hs256FirstSightUs: hsFirst,
      rs256FirstSightUs: rsFirst,
      rounds: Object.fromEntries(Object.entries(rates).map(([k, xs]) => [k, xs.map(Math.round)])),
    };
  } finally {
    await Promise.all(enforcers.map((e) => e.close()));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { run };

if (require.main === module) {
  run().then(
    (r) => console.log(JSON.stringify(r)),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
