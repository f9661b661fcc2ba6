import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Decision, type Enforcer, type UpgradeHandler, fromNodeRequest, settleDecision, toAseError, upgradeListener, writeNodeResponse } from '@ase/core';

/** The fields of Express's request we read; Express adds `originalUrl` to Node's IncomingMessage. */
type ExpressRequest = IncomingMessage & { originalUrl?: string };
type Next = (err?: unknown) => void;

/**
 * Express middleware: `app.use(aseMiddleware(enforcer))`, before body parsers and routes.
 * Translation only: the request goes to `enforcer.decide()`, the decision comes back as
 * next() (the app's routes), a response written now, or a proxied exchange.
 */
export function aseMiddleware(enforcer: Enforcer): (req: ExpressRequest, res: ServerResponse, next: Next) => void {
  return function aseEnforcer(req, res, next) {
    const fail = (err: unknown): void => next(toAseError(err)); // fail closed: 500, no route runs
    const apply = (decision: Decision): void => {
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
    };
    try {
      // Mounted under a path, Express strips it from req.url: policy must see the full target.
      settleDecision(enforcer.decide({ ...fromNodeRequest(req), url: req.originalUrl ?? req.url ?? '/' }), apply, fail);
    } catch (err) {
      fail(err);
    }
  };
}

export default aseMiddleware;

/**
 * WebSocket upgrades bypass Express middleware: attach this to the HTTP server,
 * `server.on('upgrade', aseUpgrade(enforcer))`, so `protocol: ws` APIs are enforced and proxied.
 * `fallback` receives upgrades no API takes (e.g. your own `ws` server in `noServer` mode).
 */
export function aseUpgrade(enforcer: Enforcer, fallback?: UpgradeHandler): UpgradeHandler {
  return upgradeListener(enforcer, fallback);
}
