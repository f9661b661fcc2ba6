'use strict';
// One server under test per process (run.js pins it to its own core and tells it over IPC when to
// stop). `node bench/lib/servers.js <framework> <kind> <backendPort>`:
//
//   proxy          the framework with only http-proxy-middleware 3 to the backend (the baseline)
//   fastify-proxy  Fastify with only @fastify/http-proxy to the backend (a second Fastify baseline)
//   ase            the framework with ASE, realistic policy (lib/policy.js), APIs proxied to the backend
//   hello          the framework's own hello world
//   ase-hello      the same hello world protected by ASE in-process (realistic policy, no servers)
//   ase-scraped    as `ase`, and its metrics scraped (enforcer.metrics.metrics(), the text a
//                  Prometheus scrape gets) every second; `ase` never loads prom-client at all
//   ase-redis      as `ase`, with every store on Redis (`redisStores`); two more arguments: the
//                  Redis URL and the clusterId (run.js deletes the cluster's keys afterwards)
const http = require('node:http');
const { createEnforcer, startEnforcer, silentLogger } = require('@ase/core');
const { CONF, realisticPolicy, fillDenyList } = require('./policy');

const [framework, kind, backendPortText, redisUrl, clusterId] = process.argv.slice(2);
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

/** The same enforcer over Redis: counters (the client rate limit), lists, APIs, pins in Redis. */
async function redisEnforcer() {
  const { redisStores } = require('@ase/redis');
  const stores = redisStores({ url: redisUrl, clusterId });
  const servers = [{ host: '127.0.0.1', port: Number(backendPortText) }];
  const e = await startEnforcer({ logger: silentLogger, conf: CONF, apis: realisticPolicy({ servers }), stores });
  // Straight into the local replica, as for the memory variant: the lookups are the same, and
  // 100 000 writes to Redis would only slow the start.
  fillDenyList(e);
  return e;
}

/**
 * Every second, what a Prometheus scrape of /metrics costs the process (the registry's text); the
 * wall time of each is kept (an upper bound on its CPU time on a busy machine).
 */
function scrapeEverySecond(e) {
  const took = [];
  setInterval(() => {
    const t = performance.now();
    void e.metrics.metrics().then((text) => {
      if (!text.includes('# TYPE ase_decisions_total counter')) throw new Error('a scrape without ase_decisions_total');
      took.push(performance.now() - t);
    });
  }, 1000).unref();
  process.on('message', (m) => {
    if (m && m.cmd === 'scrapes') {
      const sorted = [...took].sort((a, b) => a - b);
      process.send({ scrapes: took.length, medianMs: sorted[sorted.length >> 1] ?? 0 });
    }
  });
}

/** The enforcer of an ASE kind that forwards to the backend. */
async function forwardingEnforcer() {
  if (kind === 'ase-redis') return redisEnforcer();
  const e = enforcer(true);
  if (kind === 'ase-scraped') scrapeEverySecond(e);
  return e;
}

async function expressApp() {
  const express = require('express');
  const { aseMiddleware } = require('@ase/express');
  const app = express();
  if (kind === 'proxy') app.use(hpm());
  else if (kind === 'ase' || kind === 'ase-scraped' || kind === 'ase-redis') app.use(aseMiddleware(await forwardingEnforcer()));
  else if (kind === 'ase-hello') app.use(aseMiddleware(enforcer(false)));
  if (kind === 'proxy' || kind === 'ase' || kind === 'ase-scraped' || kind === 'ase-redis') app.use((req, res) => res.status(599).end()); // never reached
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
    if (kind === 'ase' || kind === 'ase-redis') app.use(aseMiddleware(await forwardingEnforcer()));
    else if (kind === 'ase-hello') app.use(aseMiddleware(enforcer(false)));
    app.use((ctx) => {
      if (kind === 'ase' || kind === 'ase-redis') ctx.status = 599; // never reached
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
    if (kind === 'ase' || kind === 'ase-redis') await app.register(asePlugin, { enforcer: await forwardingEnforcer() });
    else if (kind === 'ase-hello') await app.register(asePlugin, { enforcer: enforcer(false) });
    app.all('/*', async (request, reply) => (kind === 'ase' || kind === 'ase-redis' ? reply.code(599).send() : HELLO));
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
  // `ase` must not have loaded prom-client: the comparison is against metrics never loaded.
  const promLoaded = Object.keys(require.cache).some((f) => /[\\/]prom-client[\\/]/.test(f));
  if (kind === 'ase' && promLoaded) throw new Error('the ase server loaded prom-client');
  process.send({ ready: true, port: server.address().port });
}

process.on('disconnect', () => process.exit(0));
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
