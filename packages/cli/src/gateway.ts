import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AseConfigError,
  type Enforcer,
  type Logger,
  type ResponseSpec,
  closeServer,
  createEnforcer,
  decisionSettler,
  fromNodeRequest,
  guardUpgrades,
  listenOn,
  loadConfFile,
  startEnforcer,
  toAseError,
  writeNodeResponse,
} from '@ase/core';
import type { ClusterNode } from './cluster-node';

/** `node`: a plain node:http server with the core, no framework (the default: it measures fastest). */
export const FRAMEWORKS = ['node', 'express', 'koa', 'fastify'] as const;
export type Framework = (typeof FRAMEWORKS)[number];
/** What serves when the user does not choose (bench/peers.js measures the choices side by side). */
export const DEFAULT_FRAMEWORK: Framework = 'node';

export interface GatewayOptions {
  configDir: string;
  /** Data port; `http_ws_port` of ase.conf when undefined. 0 picks a free port. */
  port?: number | undefined;
  /** Address to listen on; `http_ws_bind` of ase.conf when undefined; `*` = every interface. */
  host?: string | undefined;
  framework?: Framework;
  logger: Logger;
  /** Report and skip API files that do not load, instead of refusing to start. */
  skipInvalidApis?: boolean;
}

export interface Gateway {
  enforcer: Enforcer;
  server: http.Server;
  port: number;
  /** The address the data port listens on, as the listener reports it (`0.0.0.0`, `::`, `127.0.0.1`). */
  address: string;
  /** With `enable_cluster=true`: this process as a node of the cluster (joined once listening). */
  cluster: ClusterNode | undefined;
  close(): Promise<void>;
}

/** No longer thrown: every framework of FRAMEWORKS is available. Kept for callers that test for it. */
export class FrameworkUnavailableError extends Error {
  override readonly name = 'FrameworkUnavailableError';
}

/** Gateway mode answers every request itself; this only runs if a decision ever passes one on. */
const UNKNOWN_API: ResponseSpec = {
  status: 503,
  reason: 'Service Unavailable',
  headers: { 'content-type': 'text/plain; charset=utf-8' },
  body: 'Error: Unknown API',
};

/** A failure inside the enforcer: the request fails closed, the operator's log says why. */
const INTERNAL_ERROR: ResponseSpec = {
  status: 500,
  reason: 'Internal Server Error',
  headers: { 'content-type': 'text/plain; charset=utf-8' },
  body: 'Internal Server Error',
};

/** A plain Node server's timeouts (never listens). */
const NODE_SERVER_DEFAULTS = http.createServer();

/** An AseError's message hides its cause from clients; the operator's log shows it. */
function errorText(err: Error): string {
  return err.cause instanceof Error ? `${err.message} (${err.cause.message})` : err.message;
}

interface Served {
  server: http.Server;
  /** Stops the framework app (after the server has stopped accepting). */
  stop(): Promise<void>;
}

/**
 * The app of each framework: the adapter first, then the Unknown API fallback. Nothing else.
 * Each loads its framework and adapter only when chosen (each costs ~100 ms at start-up).
 */
const BUILDERS: Record<Framework, (enforcer: Enforcer, logger: Logger) => Promise<Served>> = {
  // No framework: a gateway answers every request itself, so a router, request/response wrappers and
  // a middleware chain would only cost time. The same decision, forwarder and upgrade guard as the
  // adapters use.
  async node(enforcer, logger) {
    const fail = (req: http.IncomingMessage, res: http.ServerResponse, err: unknown): void => {
      logger.error(`request failed: ${errorText(toAseError(err))}`);
      writeNodeResponse(res, INTERNAL_ERROR, req.method);
    };
    const settle = decisionSettler<http.IncomingMessage, http.ServerResponse, undefined, void>(
      enforcer,
      (req) => fromNodeRequest(req),
      (req, res, _unused, decision) => {
        switch (decision.action) {
          case 'respond':
            writeNodeResponse(res, decision.response, req.method);
            return;
          case 'proxy':
            enforcer.forward(req, res, decision);
            return;
          case 'pass':
            writeNodeResponse(res, UNKNOWN_API, req.method);
            return;
        }
      },
      (req, res, _unused, err) => fail(req, res, err),
    );
    const server = http.createServer((req, res) => {
      const mgmt = enforcer.managementMounts.size > 0 ? enforcer.managementMounts.route(req.url ?? '/') : undefined;
      if (mgmt) return void mgmt.handler(req, res, mgmt.url).catch((err: unknown) => fail(req, res, err));
      void settle(req, res, undefined);
    });
    guardUpgrades(server, enforcer);
    return { server, stop: async () => {} };
  },

  async express(enforcer) {
    const express = require('express') as typeof import('express');
    const { aseMiddleware: expressMiddleware, aseUpgrade } = require('@ase/express') as typeof import('@ase/express');
    const app = express();
    app.disable('x-powered-by');
    app.use(expressMiddleware(enforcer));
    app.use((req: http.IncomingMessage, res: http.ServerResponse) => writeNodeResponse(res, UNKNOWN_API, req.method));
    const server = http.createServer(app);
    aseUpgrade(server, enforcer);
    return { server, stop: async () => {} };
  },

  async koa(enforcer, logger) {
    const Koa = require('koa') as typeof import('koa');
    const { aseMiddleware: koaMiddleware, aseUpgrade } = require('@ase/koa') as typeof import('@ase/koa');
    const app = new Koa();
    // Replaces Koa's default stderr logging (an error inside the enforcer answers 500).
    app.on('error', (err: Error) => logger.error(`request failed: ${errorText(err)}`));
    app.use(koaMiddleware(enforcer));
    app.use((ctx) => {
      ctx.respond = false;
      writeNodeResponse(ctx.res, UNKNOWN_API, ctx.method);
    });
    const server = http.createServer(app.callback());
    aseUpgrade(server, enforcer);
    return { server, stop: async () => {} };
  },

  async fastify(enforcer, logger) {
    const { fastify: Fastify } = require('fastify') as typeof import('fastify');
    const { aseFrameworkErrors, asePlugin } = require('@ase/fastify') as typeof import('@ase/fastify');
    const app = Fastify({
      logger: false,
      // Paths Fastify's router cannot decode get the enforcer's answer, as on Express and Koa.
      frameworkErrors: aseFrameworkErrors(enforcer),
      // Node's server timeouts, as the Express and Koa gateways have (Fastify's defaults: no request
      // timeout, 72 s keep-alive).
      requestTimeout: NODE_SERVER_DEFAULTS.requestTimeout,
      keepAliveTimeout: NODE_SERVER_DEFAULTS.keepAliveTimeout,
    });
    app.addHook('onError', (_req, _reply, err, done) => {
      logger.error(`request failed: ${errorText(err)}`);
      done();
    });
    await app.register(asePlugin, { enforcer });
    app.setNotFoundHandler((req, reply) => {
      reply.hijack();
      writeNodeResponse(reply.raw, UNKNOWN_API, req.method);
    });
    await app.ready();
    // We listen on Fastify's own server ourselves (as for the other frameworks); app.close() then
    // only runs the onClose hooks, which close the enforcer.
    return { server: app.server, stop: () => app.close() };
  },
};

/**
 * With `enable_cluster=true` in ase.conf, the cluster's Redis stores (lists, APIs, counters, slots,
 * pins, membership); else undefined and the gateway keeps its state in the config directory.
 */
async function openClusterOf(opts: Pick<GatewayOptions, 'configDir' | 'skipInvalidApis' | 'logger'>): Promise<ClusterNode | undefined> {
  const { conf } = loadConfFile(opts.configDir);
  if (!conf.enable_cluster) return undefined;
  // Loaded only for a cluster: a single gateway never opens a Redis connection or loads ioredis.
  const { openCluster } = require('./cluster-node') as typeof import('./cluster-node');
  return openCluster(opts.configDir, conf, { skipInvalidApis: opts.skipInvalidApis === true, logger: opts.logger });
}

/**
 * The enforcer `ase start` serves with, on its config directory: with the cluster's stores when
 * ase.conf has `enable_cluster=true` (a cluster that cannot be reached is reported as such).
 */
export async function openEnforcer(
  opts: Pick<GatewayOptions, 'configDir' | 'skipInvalidApis' | 'logger'>,
  extra: { mode: 'gateway' | 'middleware'; conf?: { enable_xff: boolean } },
): Promise<{ enforcer: Enforcer; cluster: ClusterNode | undefined }> {
  const base = { configDir: opts.configDir, logger: opts.logger, skipInvalidApis: opts.skipInvalidApis === true, ...extra };
  const cluster = await openClusterOf(opts);
  try {
    return { enforcer: cluster ? await startEnforcer({ ...base, stores: cluster.stores }) : createEnforcer(base), cluster };
  } catch (err) {
    if (!cluster) throw err;
    await cluster.close().catch(() => undefined);
    if (err instanceof AseConfigError) throw err;
    throw cluster.unreachable(err);
  }
}

/** The standalone product: an app of the chosen framework with the enforcer in gateway mode. */
export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const framework = opts.framework ?? DEFAULT_FRAMEWORK;
  const { enforcer, cluster } = await openEnforcer(opts, { mode: 'gateway' });
  const leave = async (): Promise<void> => {
    await cluster?.close();
  };
  let served: Served;
  try {
    served = await BUILDERS[framework](enforcer, opts.logger);
  } catch (err) {
    await enforcer.close();
    await leave();
    throw err;
  }
  const { server } = served;
  const { port: bound, address } = await listenAndJoin(server, opts, enforcer, cluster, async (listening) => {
    if (listening) await closeServer(server, 0, () => enforcer.endWebSockets());
    await served.stop();
    await enforcer.close();
    await leave();
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      // Upgraded sockets would keep close() waiting; in-flight requests get a moment, then are cut.
      await closeServer(server, 5000, () => enforcer.endWebSockets());
      await served.stop();
      await enforcer.close();
      await leave();
    })());

  return { enforcer, server, port: bound, address, cluster, close };
}

/**
 * Listens on the data port (`--port`/`--bind`, else `http_ws_port`/`http_ws_bind` of ase.conf) and
 * joins the cluster with the port bound. When either fails, `undo` releases what the caller opened
 * (`listening`: the server is up and must be closed first) and the error is thrown.
 */
export async function listenAndJoin(
  server: http.Server,
  opts: { port?: number | undefined; host?: string | undefined },
  enforcer: Enforcer,
  cluster: ClusterNode | undefined,
  undo: (listening: boolean) => Promise<void>,
): Promise<{ port: number; address: string }> {
  const bind = opts.host ?? enforcer.conf.http_ws_bind;
  try {
    // `*` leaves the choice to Node: `::` (IPv6 and IPv4) where the system has IPv6, else 0.0.0.0.
    await listenOn(server, opts.port ?? enforcer.conf.http_ws_port, bind === '*' ? undefined : bind);
  } catch (err) {
    await undo(false);
    throw err;
  }
  const { port, address } = server.address() as AddressInfo;
  try {
    await cluster?.join(bind, port);
  } catch (err) {
    await undo(true);
    throw err;
  }
  return { port, address };
}
