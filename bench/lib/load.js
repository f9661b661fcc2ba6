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

process.on('message', (job) => {
  autocannon(
    {
      url: job.url,
      connections: job.connections,
      duration: job.duration,
      pipelining: 1,
      requests: job.requests,
      // autocannon keeps connections alive; errors and timeouts are reported, not retried.
    },
    (err, result) => {
      if (err) process.send({ id: job.id, error: String(err && err.message) });
      else process.send({ id: job.id, result: summary(result) });
    },
  );
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
