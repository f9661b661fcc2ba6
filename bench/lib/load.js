'use strict';
// The load generator, in its own process (run.js pins it to one core): runs autocannon for each
// job it is sent over IPC and answers with a summary. Keep-alive, fixed connections and duration.
const autocannon = require('autocannon');

function summary(r) {
  const codes = {};
  for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) codes[code] = s.count;
  return {
    requests: r.requests.total,
    seconds: r.duration,
    rps: r.requests.total / r.duration,
    p50ms: r.latency.p50,
    p99ms: r.latency.p99,
    codes,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
  };
}

/** Percentile of sorted response times (ms), in µs: autocannon's own histogram keeps whole ms. */
function percentileUs(sorted, q) {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] * 1000;
}

process.on('message', (job) => {
  const times = [];
  const instance = autocannon(
    {
      url: job.url,
      connections: job.connections,
      duration: job.duration,
      pipelining: 1,
      requests: job.requests,
      // `rate`: requests per second in all (below what the server can do: latency without queueing).
      ...(job.rate ? { overallRate: job.rate } : {}),
      // autocannon keeps connections alive; errors and timeouts are reported, not retried.
    },
    (err, result) => {
      if (err) return process.send({ id: job.id, error: String(err && err.message) });
      const out = summary(result);
      if (job.rate) {
        times.sort((a, b) => a - b);
        out.p50us = percentileUs(times, 0.5);
        out.p99us = percentileUs(times, 0.99);
        out.p999us = percentileUs(times, 0.999);
      }
      process.send({ id: job.id, result: out });
    },
  );
  if (job.rate) instance.on('response', (client, status, bytes, ms) => times.push(ms));
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
