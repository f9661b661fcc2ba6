import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Decision, type Enforcer, type UpgradeHandler, type UpgradeServer, aseUpgradeFor, decisionSettler, fromNodeRequest, toAseError, upgradePassed } from '@ase/core';

/**
 * The fields of Koa's context we read and write (Koa 3's `Context` satisfies it), so the public
 * types need neither koa nor @types/koa.
 */
export interface KoaContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** `req.url` as it arrived; koa-mount rewrites `req.url`, never this. */
  originalUrl: string;
  /**
   * Koa's response object. `ctx.status`, `ctx.message` and `ctx.body` are aliases of
   * its members (Koa defines them with `delegates`), so writing here is the same as writing there.
   */
  response: KoaResponse;
  respond?: boolean;
}

/** The members of Koa's `ctx.response` the adapter sets. */
export interface KoaResponse {
  status: number;
  message: string;
  body: unknown;
}

export type KoaNext = () => Promise<unknown>;

/**
 * Koa middleware: `app.use(aseMiddleware(enforcer))`, before body parsers and routes.
 * Translation only: the request goes to `enforcer.decide()`, the decision comes back as
 * `next()` (the rest of the stack), a response set on `ctx`, or a proxied exchange.
 * An error inside the enforcer propagates into Koa's error handling (500): the request fails closed.
 */
export function aseMiddleware(enforcer: Enforcer): (ctx: KoaContext, next: KoaNext) => Promise<void> {
  const settle = decisionSettler<KoaContext, KoaNext, undefined, unknown>(
    enforcer,
    // Mounted under a path, koa-mount rewrites req.url: policy must see the full target.
    (ctx) => fromNodeRequest(ctx.req, false, ctx.originalUrl),
    (ctx, next, _, decision: Decision) => {
      switch (decision.action) {
        case 'pass':
          return next();
        case 'respond': {
          // Through ctx.response rather than its ctx aliases: every alias setter shares one
          // function in `delegates`, whose store turns megamorphic and falls back to V8's runtime
          // (docs/performance.md).
          const spec = decision.response;
          const response = ctx.response;
          response.status = spec.status;
          if (spec.reason) response.message = spec.reason;
          // Before the body, so Koa keeps our content-type. What `response.set(spec.headers)` does with
          // string values (Koa 3), without the arrays and closures it builds for every call.
          const res = ctx.res;
          if (!res.headersSent) for (const name in spec.headers) res.setHeader(name, spec.headers[name]!);
          response.body = spec.body;
          return undefined;
        }
        case 'proxy':
          ctx.respond = false; // the proxy writes ctx.res itself
          enforcer.forward(ctx.req, ctx.res, decision);
          return undefined;
      }
    },
    (_ctx, _next, _, err) => {
      throw toAseError(err); // fail closed: Koa answers 500 and never exposes the cause
    },
  );
  return async function aseEnforcer(ctx, next) {
    // An upgrade routed through the stack after it was decided at the upgrade is not decided twice.
    if (ctx.req.headers.upgrade !== undefined && upgradePassed(enforcer, ctx.req)) return void (await next());
    // A management API mounted in this app answers its own routes, whatever the lists say of the operator.
    const mgmt = enforcer.managementMounts.size > 0 ? enforcer.managementMounts.route(ctx.originalUrl) : undefined;
    if (mgmt) {
      ctx.respond = false; // it writes the Node response itself
      await mgmt.handler(ctx.req, ctx.res, mgmt.url);
      return;
    }
    const settled = settle(ctx, next, undefined);
    if (settled !== undefined) await settled; // no extra tick for an answer decided synchronously
  };
}

/**
 * WebSocket upgrades never pass Koa middleware: `aseUpgrade(server, enforcer)` on the HTTP server
 * makes the enforcer decide every upgrade before any `upgrade` listener of the app (your `ws` server,
 * attached before or after this call, with `{ server }` or in `noServer` mode) sees it. A refused
 * upgrade gets ASE's answer, one to a `protocol: ws` API with servers is proxied, and the rest go to
 * your listeners (or get 404 when there are none). Returns a function that removes the guard.
 *
 * The older form `server.on('upgrade', aseUpgrade(enforcer, fallback?))` still works but cannot
 * come before the app's listeners on the first upgrade; it installs the guard then.
 */
export function aseUpgrade(server: UpgradeServer, enforcer: Enforcer): () => void;
/** @deprecated Use `aseUpgrade(server, enforcer)`: this listener cannot run before the app's own. */
export function aseUpgrade(enforcer: Enforcer, fallback?: UpgradeHandler): UpgradeHandler;
export function aseUpgrade(first: UpgradeServer | Enforcer, second?: Enforcer | UpgradeHandler): (() => void) | UpgradeHandler {
  return aseUpgradeFor('@ase/koa', first, second);
}

export default aseMiddleware;
