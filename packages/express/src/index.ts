import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Decision, type Enforcer, type UpgradeHandler, type UpgradeServer, aseUpgradeFor, decisionSettler, fromNodeRequest, toAseError, upgradePassed, writeNodeResponse } from '@ase/core';

/** The fields of Express's request we read; Express adds `originalUrl` to Node's IncomingMessage. */
type ExpressRequest = IncomingMessage & { originalUrl?: string };
type Next = (err?: unknown) => void;

/**
 * Express middleware: `app.use(aseMiddleware(enforcer))`, before body parsers and routes.
 * Translation only: the request goes to `enforcer.decide()`, the decision comes back as
 * next() (the app's routes), a response written now, or a proxied exchange.
 */
export function aseMiddleware(enforcer: Enforcer): (req: ExpressRequest, res: ServerResponse, next: Next) => void {
  const fail = (err: unknown, next: Next): void => next(toAseError(err)); // fail closed: 500, no route runs
  const settle = decisionSettler<ExpressRequest, ServerResponse, Next, void>(
    enforcer,
    // Mounted under a path, Express strips it from req.url: policy must see the full target.
    (req) => fromNodeRequest(req, false, req.originalUrl ?? req.url ?? '/'),
    (req, res, next, decision: Decision) => {
      switch (decision.action) {
        case 'pass':
          next();
          return;
        case 'respond':
          writeNodeResponse(res, decision.response, req.method);
          return;
        case 'proxy':
          enforcer.forward(req, res, decision);
          return;
      }
    },
    (_req, _res, next, err) => fail(err, next),
  );
  return function aseEnforcer(req, res, next) {
    // express-ws hands the upgrade it accepted to the app's routes: decided at the upgrade already.
    if (req.headers.upgrade !== undefined && upgradePassed(enforcer, req)) return next();
    // A management API mounted in this app answers its own routes, whatever the lists say of the operator.
    const mgmt = enforcer.managementMounts.size > 0 ? enforcer.managementMounts.route(req.originalUrl ?? req.url ?? '/') : undefined;
    if (mgmt) return void mgmt.handler(req, res, mgmt.url).catch((err: unknown) => fail(err, next));
    void settle(req, res, next);
  };
}

export default aseMiddleware;

/**
 * WebSocket upgrades never pass Express middleware: `aseUpgrade(server, enforcer)` on the HTTP server
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
  return aseUpgradeFor('@ase/express', first, second);
}
