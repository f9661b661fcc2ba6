'use strict';
// One server of bench/decide.js per process (pinned by it to its own core, stopped over IPC):
//
//   bare     a bare node:http server answering every request 200, empty (the baseline)
//   decide   ASE's decision service for nginx (decisionHandler), the realistic policy and its
//            100 000 deny entries (lib/policy.js), APIs without servers: the proxy routes
const http = require('node:http');
const { createEnforcer, decisionHandler, silentLogger } = require('@ase/core');
const { CONF, realisticPolicy, fillDenyList } = require('./policy');

/** The request listener of `kind` (also used by bench/decide-instructions.js). */
function handler(kind, proxy = 'nginx') {
  if (kind === 'bare') {
    return (req, res) => {
      res.writeHead(200, { 'content-length': '0' });
      res.end();
    };
  }
  if (kind !== 'decide') throw new Error(`unknown kind ${kind}`);
  const enforcer = createEnforcer({ logger: silentLogger, conf: CONF, apis: realisticPolicy({ servers: [] }) });
  fillDenyList(enforcer);
  return decisionHandler(enforcer, { proxy });
}

module.exports = { handler };

if (require.main === module) {
  const [kind, proxy = 'nginx'] = process.argv.slice(2);
  const server = http.createServer(handler(kind, proxy));
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send({ ready: true, port: server.address().port }));
  process.on('disconnect', () => process.exit(0));
}
