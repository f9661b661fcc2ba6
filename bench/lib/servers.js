'use strict';
// One server under test per process (run.js pins it to its own core and tells it over IPC when to
// stop). `node bench/lib/servers.js <framework> <kind> <backendPort>`:
//
//   proxy          the framework with only http-proxy-middleware 3 to the backend (the baseline)
//   fastify-proxy  Fastify with only @fastify/http-proxy to the backend (a second Fastify baseline)
//   ase            the framework with ASE, realistic policy (lib/policy.js), APIs proxied to the backend
//   hello          the framework's own hello world
//   ase-hello      the same hello world protected by ASE in-process (realistic policy, no servers)
const http = require('node:http');
const { createEnforcer, silentLogger } = require('@ase/core');
const { CONF, realisticPolicy, fillDenyList } = require('./policy');

const [framework, kind, backendPortText] = process.argv.slice(2);
const backend = `http://127.0.0.1:${Number(backendPortText)}`;
const HELLO = 'hello world';

function hpm() {
  const { createProxyMiddleware } = require('http-proxy-middleware');
  // The same agent settings as ASE's forwarder, so the baseline is not handicapped.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' });
  return createProxyMiddleware({ target: backend, changeOrigin: false, xfwd: true, agent });
}

function enforcer(withServers) {
  const servers = withServers ? [{ host: '127.0.0.1', port: Number(backendPortText) }] : [];
  const e = createEnforcer({ logger: silentLogger, conf: CONF, apis: realisticPolicy({ servers }) });
  fillDenyList(e);
  return e;
}

async function expressApp() {
  const express = require('express');
  const { aseMiddleware } = require('@ase/express');
  const app = express();
  if (kind === 'proxy') app.use(hpm());
  else if (kind === 'ase') app.use(aseMiddleware(enforcer(true)));
  else if (kind === 'ase-hello') app.use(aseMiddleware(enforcer(false)));
  if (kind === 'proxy' || kind === 'ase') app.use((req, res) => res.status(599).end()); // never reached
  else app.use((req, res) => res.send(HELLO));
  return http.createServer(app);
}

async function koaApp() {
  const Koa = require('koa');
  const { aseMiddleware } = require('@ase/koa');
  const app = new Koa();
  if (kind === 'proxy') {
    const proxy = hpm();
    app.use((ctx) => {
      ctx.respond = false; // the proxy writes ctx.res itself
      return proxy(ctx.req, ctx.res, () => {});
    });
  } else {
    if (kind === 'ase') app.use(aseMiddleware(enforcer(true)));
    else if (kind === 'ase-hello') app.use(aseMiddleware(enforcer(false)));
    app.use((ctx) => {
      if (kind === 'ase') ctx.status = 599; // never reached
      else ctx.body = HELLO;
    });
  }
  return http.createServer(app.callback());
}

async function fastifyApp() {
  const Fastify = require('fastify');
  const { asePlugin } = require('@ase/fastify');
  const app = Fastify({ logger: false });
  if (kind === 'proxy') {
    const proxy = hpm();
    app.addHook('onRequest', (request, reply) => {
      reply.hijack(); // the proxy writes reply.raw itself
      void proxy(request.raw, reply.raw, () => {});
    });
  } else if (kind === 'fastify-proxy') {
    await app.register(require('@fastify/http-proxy'), { upstream: backend });
  } else {
    if (kind === 'ase') await app.register(asePlugin, { enforcer: enforcer(true) });
    else if (kind === 'ase-hello') await app.register(asePlugin, { enforcer: enforcer(false) });
    app.all('/*', async (request, reply) => (kind === 'ase' ? reply.code(599).send() : HELLO));
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  app.server.keepAliveTimeout = 60_000;
  return app.server;
}

async function main() {
  const make = { express: expressApp, koa: koaApp, fastify: fastifyApp }[framework];
  if (!make) throw new Error(`unknown framework ${framework}`);
  const server = await make();
  if (!server.listening) {
    server.keepAliveTimeout = 60_000;
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  }
  process.send({ ready: true, port: server.address().port });
}

process.on('disconnect', () => process.exit(0));
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
