import { type Decision, type Enforcer, decisionSettler, fromNodeRequest, guardUpgrades, invalidConfig, toAseError, upgradePassed } from '@ase/core';
import type { FastifyError, FastifyPluginCallback, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** `false`: requests to this route are not checked by ASE. Absent or `true`: they are. */
    ase?: boolean;
  }
}

export interface AsePluginOptions {
  enforcer: Enforcer;
  /**
   * Enforce WebSocket upgrades on `fastify.server` too (they bypass Fastify's hooks). Default true.
   * The decision comes before any other `upgrade` listener (@fastify/websocket, a `ws` server),
   * whenever it was attached; upgrades it lets through go to them, and are not decided again when
   * @fastify/websocket routes them through Fastify's hooks.
   */
  websocket?: boolean;
}

type Done = (err?: Error) => void;

type Settle = (request: FastifyRequest, reply: FastifyReply, done: Done) => void;

/**
 * Translation only: Fastify's request to `enforcer.decide()`, and the decision back onto the reply.
 * Built once per registration, so a request decided synchronously allocates no closure here.
 */
function settlerFor(enforcer: Enforcer): Settle {
  const settle = decisionSettler<FastifyRequest, FastifyReply, Done, void>(
    enforcer,
    (request) => fromNodeRequest(request.raw, false, request.originalUrl),
    (request, reply, done, decision: Decision) => {
      switch (decision.action) {
        case 'pass':
          done();
          return;
        case 'respond': {
          const spec = decision.response;
          if (spec.reason) reply.raw.statusMessage = spec.reason; // Fastify has no API for the reason phrase
          void reply.code(spec.status).headers(spec.headers).send(spec.body);
          return;
        }
        case 'proxy':
          reply.hijack(); // the proxy writes reply.raw itself
          enforcer.forward(request.raw, reply.raw, decision);
          return;
      }
    },
    (_request, _reply, done, err) => done(toAseError(err)), // fail closed: 500 without the cause; no route runs
  );
  return settle as Settle;
}

const plugin: FastifyPluginCallback<AsePluginOptions> = (fastify, opts, done) => {
  const enforcer = opts.enforcer;
  if (!enforcer || typeof enforcer.decide !== 'function') {
    done(new TypeError('@ase/fastify: register it as fastify.register(asePlugin, { enforcer }) with an enforcer from createEnforcer()'));
    return;
  }
  fastify.addHook('onRoute', (route) => {
    const value: unknown = route.config?.ase;
    if (value !== undefined && typeof value !== 'boolean') {
      // A typo must not silently change what is protected: refuse the route at start-up.
      throw invalidConfig([{ file: `route ${String(route.method)} ${route.url}`, path: 'config.ase', value, message: 'must be true or false' }]);
    }
  });
  // An enforcer created without a logger logs where the app does.
  enforcer.useHostLogger(fastify.log);
  const settle = settlerFor(enforcer);
  fastify.addHook('onRequest', (request, reply, next) => {
    if (request.routeOptions.config?.ase === false) return next();
    // @fastify/websocket routes an upgrade through Fastify after the guard let it through: one decision per upgrade.
    if (request.raw.headers.upgrade !== undefined && upgradePassed(enforcer, request.raw)) return next();
    settle(request, reply, next);
  });
  const unguard = opts.websocket !== false ? guardUpgrades(fastify.server, enforcer) : undefined;
  fastify.addHook('onClose', async () => {
    unguard?.();
    await enforcer.close();
  });
  done();
};

/**
 * `fastify.register(asePlugin, { enforcer })`: checks every request of the app in `onRequest`
 * (requests that match no route included), and closes the enforcer when the app closes. An
 * enforcer created without `logger` logs through `fastify.log` from then on (start-up warnings not
 * yet on the console included), unless the app has no logger; one created with a logger keeps it.
 */
export const asePlugin: FastifyPluginCallback<AsePluginOptions> = fp(plugin, { fastify: '5.x', name: '@ase/fastify' });

/**
 * For Fastify's `frameworkErrors` option. Fastify answers some requests itself before any hook
 * runs, e.g. a path its router cannot decode (`FST_ERR_BAD_URL`, 400 JSON). With this handler they
 * go through the enforcer first, so its answer (`400 Error: Malformed Request`, a decoy, a block) is
 * the one the client gets; requests the enforcer passes on get Fastify's own error answer.
 */
export function aseFrameworkErrors(enforcer: Enforcer): NonNullable<FastifyServerOptions['frameworkErrors']> {
  const settle = settlerFor(enforcer);
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    settle(request, reply, (err) => {
      void reply.code(err ? 500 : (error.statusCode ?? 400)).send(err ?? error);
    });
  };
}

export default asePlugin;
