'use strict';
// The CPU time one scrape of the enforcer's metrics takes (the text `GET /metrics` answers), on the
// realistic policy (lib/policy.js: 50 APIs, 100 000 deny entries) after traffic has counted
// decisions on every API. CPU time (process.cpuUsage), not wall time, so a loaded machine moves it
// little. `node bench/metrics-scrape.js [scrapes]` prints one JSON line.
const { createEnforcer, silentLogger } = require('@ase/core');
const { CONF, realisticPolicy, fillDenyList, API_COUNT } = require('./lib/policy');

async function main() {
  const scrapes = Number(process.argv[2] ?? 200);
  const e = createEnforcer({ logger: silentLogger, conf: CONF, apis: realisticPolicy() });
  await e.ready;
  fillDenyList(e);
  // A decision of every kind the counters keep, on every API, so each scrape writes every series.
  for (let i = 0; i < API_COUNT; i++) {
    for (const method of ['GET', 'DELETE']) {
      await e.decide({ method, url: `/v1/svc${i}/x`, headers: { host: i % 5 === 0 ? `host${i}.example` : 'a.example' }, remoteAddress: '127.0.0.1', encrypted: false });
    }
  }
  for (let i = 0; i < 20; i++) await e.metrics.metrics(); // warm-up (prom-client loaded, JIT)
  const before = process.cpuUsage();
  let bytes = 0;
  for (let i = 0; i < scrapes; i++) bytes = (await e.metrics.metrics()).length;
  const used = process.cpuUsage(before);
  const cpuMs = (used.user + used.system) / 1000 / scrapes;
  process.stdout.write(`${JSON.stringify({ scrapes, cpuMsPerScrape: Number(cpuMs.toFixed(3)), bytes, oneCorePerCentAt1s: Number((cpuMs / 10).toFixed(3)), oneCorePerCentAt15s: Number((cpuMs / 150).toFixed(4)) })}\n`);
  await e.close();
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
