'use strict';
// Throughput with wrk (C, one thread), so that the load generator's own cost on the shared load core
// holds the fastest peers (nginx, HAProxy) back as little as possible. A Lua script cycles through the same request templates as autocannon
// would, counts the answers by status in each thread, and prints one JSON line when done.
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const lua = (s) => JSON.stringify(String(s)); // the templates are plain ASCII: JSON's escapes are Lua's

/** Writes the Lua script for `requests` ({method, path, headers, body}) into `dir`; returns its path. */
function wrkScript(dir, name, requests) {
  const reqs = requests
    .map((r) => {
      const headers = Object.entries(r.headers ?? {})
        .map(([k, v]) => `[${lua(k.toLowerCase() === 'host' ? 'Host' : k)}] = ${lua(v)}`) // wrk adds a second Host unless it is spelt so
        .join(', ');
      return `  wrk.format(${lua(r.method)}, ${lua(r.path)}, { ${headers} }${r.body !== undefined ? `, ${lua(r.body)}` : ''})`;
    })
    .join(',\n');
  const script = `local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  reqs = {
${reqs}
  }
  n = 0
  codes = {}
end
function request()
  n = n + 1
  if n > #reqs then n = 1 end
  return reqs[n]
end
function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end
function done(summary, latency, requests)
  local all = {}
  for _, t in ipairs(threads) do
    for code, count in pairs(t:get("codes")) do all[code] = (all[code] or 0) + count end
  end
  local parts = {}
  for code, count in pairs(all) do table.insert(parts, string.format('"%d":%d', code, count)) end
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests":%d,"us":%d,"p50us":%d,"p99us":%d,"codes":{%s},"errors":%d,"timeouts":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), table.concat(parts, ","),
    e.connect + e.read + e.write, e.timeout))
end
`;
  const file = path.join(dir, `${name}.lua`);
  fs.writeFileSync(file, script);
  return file;
}

/** Runs wrk (pinned to `core` when `pinned`) against `port` for `seconds`; resolves the summary. */
function runWrk({ script, port, seconds, connections, core, pinned }) {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, `http://127.0.0.1:${port}`];
  const [cmd, argv] = pinned ? ['taskset', ['-c', String(core), 'wrk', ...args]] : ['wrk', args];
  return new Promise((resolve, reject) => {
    execFile(cmd, argv, { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`wrk failed: ${stderr || err.message}`));
      const line = stdout.split('\n').find((l) => l.startsWith('WRKJSON '));
      if (!line) return reject(new Error(`wrk printed no summary:\n${stdout}`));
      const r = JSON.parse(line.slice(8));
      resolve({ ...r, seconds: r.us / 1e6, rps: r.requests / (r.us / 1e6), p50ms: r.p50us / 1000, p99ms: r.p99us / 1000 });
    });
  });
}

module.exports = { wrkScript, runWrk };
