'use strict';
// One gateway of the soak, in its own process: the gateway `ase start` runs (startGateway of
// @ase/cli) on the config directory and framework given, on 127.0.0.1. It answers the soak's
// `sample` messages with what it holds: memory after a full garbage collection (run with
// --expose-gc), open file descriptors, active handles, and the lines it logged.
//
//   fork('bench/lib/soak-gateway.js', [configDir, framework], { execArgv: ['--expose-gc'] })
const fs = require('node:fs');
const { startGateway } = require('@ase/cli');

const [configDir, framework] = process.argv.slice(2);
// Counted, and the first few kept to be shown: a soak must not grow a log in memory.
const logged = { warnings: 0, errors: 0, warn: [], error: [] };
const logger = {
  info: () => undefined,
  warn: (msg) => logged.warnings++ < 20 && logged.warn.push(String(msg)),
  error: (msg) => logged.errors++ < 20 && logged.error.push(String(msg)),
};

function sample() {
  if (global.gc) global.gc();
  const mem = process.memoryUsage();
  const resources = {};
  for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1;
  return {
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    external: mem.external,
    fds: fs.readdirSync('/proc/self/fd').length,
    handles: Object.values(resources).reduce((a, b) => a + b, 0),
    resources,
    warnings: logged.warnings,
    errors: logged.errors,
  };
}

(async () => {
  const gw = await startGateway({ configDir, port: 0, host: '127.0.0.1', framework, logger });
  // The deny-listed client of the soak: a manual entry, as an operator adds it.
  await gw.enforcer.addDeny({ type: 'ip', value: '127.0.0.9' });
  process.on('message', async (m) => {
    if (m.type === 'sample') process.send({ type: 'sample', id: m.id, ...sample() });
    if (m.type === 'logged') process.send({ type: 'logged', id: m.id, warn: logged.warn, error: logged.error });
    if (m.type === 'stop') {
      await gw.close();
      process.disconnect();
    }
  });
  // The soak that started this process is gone (it crashed, or was killed): no gateway outlives it.
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'ready', port: gw.port });
})().catch((err) => {
  process.stderr.write(`soak gateway: ${err.stack ?? err}\n`);
  process.exit(1);
});
