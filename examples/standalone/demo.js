'use strict';
// `pnpm run demo`: two demo backends on 8080/8081, the standalone gateway on 8000 in front of them and
// the management API on 8010, as `ase start` runs them.
//   node demo.js [--config-dir DIR] [--port N] [--admin-port N] [--backend-ports A,B]
// (the flags let tests run the demo on free ports; the API files name the backends' ports).
const fs = require('node:fs');
const path = require('node:path');
const { startBackend } = require('./backend');
const { startGateway } = require('@ase/cli');
const { createAdmin, startAdminServer } = require('@ase/admin');

function parseFlags(argv) {
  const out = { configDir: path.join(__dirname, 'config'), port: undefined, adminPort: undefined, backendPorts: [8080, 8081] };
  const port = (flag, v) => {
    if (!/^\d+$/.test(v ?? '') || Number(v) > 65535) throw new Error(`${flag} needs a port number (got "${v ?? ''}")`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[++i];
    if (flag === '--config-dir') {
      if (!value) throw new Error('--config-dir needs a directory');
      out.configDir = path.resolve(value);
    }
    else if (flag === '--port') out.port = port(flag, value);
    else if (flag === '--admin-port') out.adminPort = port(flag, value);
    else if (flag === '--backend-ports') out.backendPorts = (value ?? '').split(',').map((p) => port(flag, p));
    else throw new Error(`unknown option ${flag} (options: --config-dir DIR --port N --admin-port N --backend-ports A,B)`);
  }
  return out;
}

async function run(opts) {
  // The gateway keeps its deny list across restarts; the demo starts from a clean one each time.
  for (const name of ['lists.json', 'lists.journal']) fs.rmSync(path.join(opts.configDir, 'data', name), { force: true });
  const closers = [];
  let stopping = false;
  // Ctrl-C reaches the whole process group: pnpm forwards a second SIGINT, which must not kill the
  // shutdown half-way (a death by signal is what makes pnpm print "ELIFECYCLE Command failed").
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    let code = 0;
    for (const close of closers.reverse()) {
      await close().catch((err) => {
        console.error(`demo: shutdown: ${err.message}`);
        code = 1;
      });
    }
    process.exit(code);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  for (const port of opts.backendPorts) {
    const b = await startBackend(`backend-${port}`, port);
    closers.push(() => new Promise((resolve) => b.close(() => resolve())));
  }
  const logger = {
    info: (m) => console.log(`[ase] ${m}`),
    warn: (m) => console.warn(`[ase] warning: ${m}`),
    error: (m) => console.error(`[ase] error: ${m}`),
  };
  const gw = await startGateway({ configDir: opts.configDir, port: opts.port, logger });
  closers.push(() => gw.close());
  // The management API exactly as `ase start` serves it: its own port, loopback unless management_bind says otherwise.
  const conf = gw.enforcer.conf;
  let adminSrv;
  const admin = createAdmin(gw.enforcer, {
    info: () => ({ http_ws_port: gw.port, management_port: adminSrv ? adminSrv.port : conf.management_port, framework: 'express' }),
  });
  adminSrv = await startAdminServer(admin, { port: opts.adminPort ?? conf.management_port, host: conf.management_bind });
  closers.push(() => adminSrv.close());

  const base = `http://127.0.0.1:${gw.port}`;
  const mgmt = `http://${adminSrv.host.includes(':') ? `[${adminSrv.host}]` : adminSrv.host}:${adminSrv.port}`;
  const rel = path.relative(process.cwd(), opts.configDir) || '.';
  console.log(`
ASE demo gateway on ${base} with APIs: ${gw.enforcer.listApis().map((a) => a.id).join(', ')}
Backends: ${opts.backendPorts.map((p) => `127.0.0.1:${p}`).join(' and ')}. Management API on ${mgmt}. Try:

  curl -i ${base}/shop/items                          # proxied, round-robin over both backends
  curl -i ${base}/catalog/books                       # mapped to /internal/v2/catalog/books on the backend
  curl -i ${base}/nowhere                             # no API: 503 Error: Unknown API
  curl -i --path-as-is '${base}/shop/../../etc/passwd'  # traversal above the root: 400 Error: Malformed Request
  curl -i ${base}/shop/admin                          # a decoy: answers like an API, deny-lists your IP
  curl -i ${base}/shop/items                          # ...now blocked: 403
  curl -i ${base}/catalog/books                       # catalog has enable_blocking=false: still served
  npx pnpm exec ase --config-dir ${rel} view_blacklist decoy   # your IP, listed by the decoy
  npx pnpm exec ase --config-dir ${rel} clear_blacklist        # start over
  curl -s -H 'x-ase-access-key: admin' -H 'x-ase-secret-key: admin' ${mgmt}/v4/ase/api

More in README.md ("Try it by hand").
Deny-list state lives in ${path.join(rel, 'data', 'lists.json')} (cleared when the demo starts);
detections and blocks go to ${path.join(rel, 'logs', 'access.log')}.
Ctrl-C stops everything.
`);
}

let opts;
try {
  opts = parseFlags(process.argv.slice(2));
} catch (err) {
  console.error(`demo: ${err.message}`);
  process.exit(2);
}
run(opts).catch((err) => {
  console.error(`demo failed: ${err.code === 'EADDRINUSE' ? `port ${err.port} is already in use` : err.message}`);
  process.exit(1);
});
