'use strict';
// `pnpm run demo`: two demo backends on 8080/8081 and the standalone gateway on 8000 in front of them.
const fs = require('node:fs');
const path = require('node:path');
const { startBackend } = require('./backend');
const { startGateway } = require('@ase/cli');

async function run() {
  // The gateway keeps its deny list across restarts; the demo starts from a clean one each time.
  fs.rmSync(path.join(__dirname, 'config', 'data', 'lists.json'), { force: true });
  const backends = [await startBackend('backend-8080', 8080), await startBackend('backend-8081', 8081)];
  const logger = {
    info: (m) => console.log(`[ase] ${m}`),
    warn: (m) => console.warn(`[ase] warning: ${m}`),
    error: (m) => console.error(`[ase] error: ${m}`),
  };
  const gw = await startGateway({ configDir: path.join(__dirname, 'config'), logger });
  const base = `http://127.0.0.1:${gw.port}`;
  console.log(`
ASE demo gateway on ${base} with APIs: ${gw.enforcer.listApis().map((a) => a.id).join(', ')}
Backends: 127.0.0.1:8080 and 127.0.0.1:8081. Try:

  curl -i ${base}/shop/items                          # proxied, round-robin over both backends
  curl -i ${base}/catalog/books                       # mapped to /internal/v2/catalog/books on the backend
  curl -i -X DELETE ${base}/shop/items                # method not allowed here: 403, and your IP is deny-listed
  curl -i ${base}/nowhere                             # no API: 503 Error: Unknown API
  curl -i --path-as-is '${base}/shop/../../etc/passwd'  # traversal above the root: 400 Error: Malformed Request
  curl -i ${base}/shop/admin                          # a decoy: answers like an API, deny-lists your IP
  curl -i ${base}/shop/items                          # ...now blocked: 403
  curl -i ${base}/catalog/books                       # catalog has enable_blocking=false: still served

Deny-list state lives in examples/standalone/config/data/lists.json (cleared when the demo starts);
detections and blocks go to examples/standalone/config/logs/access.log.
Ctrl-C stops everything.
`);
  const stop = async () => {
    await gw.close();
    for (const b of backends) b.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

run().catch((err) => {
  console.error(`demo failed: ${err.message}`);
  process.exit(1);
});
