import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Enforcer } from '@ase/core';
import { type AdminApi, hostPolicy, outsideDataPath, toAdmin } from './admin';
import type { AdminOptions } from './types';

/** The fields of Express's request we read (Node's IncomingMessage, plus `body` if a parser ran). */
type ExpressRequest = IncomingMessage & { body?: unknown };
type Next = (err?: unknown) => void;

/**
 * Express mount: `app.use(adminExpress(admin))`, or under a path: `app.use('/admin', adminExpress(admin))`
 * serves `/admin/v4/ase/...` (and `/admin/metrics`, see `metricsPath`). Other paths go to `next()`. Mount it before body parsers (a parsed
 * JSON body is still accepted). `options.allowedHosts` turns on the Host check for this mount (off by
 * default: the app owns its Host routing). Mounted under a path, pass it as `options.mountPath` too:
 * the enforcer's middleware then hands the mount's requests to it before deciding, whatever the order.
 */
export function adminExpress(admin: AdminApi | Enforcer, options?: AdminOptions): (req: ExpressRequest, res: ServerResponse, next: Next) => void {
  const a = toAdmin(admin, options);
  const hosts = hostPolicy(options?.allowedHosts);
  const mount = outsideDataPath(a, options?.mountPath ?? '', hosts);
  return function aseAdmin(req, res, next) {
    const url = req.url ?? '/';
    if (!a.serves(url)) {
      next();
      return;
    }
    mount.seenAt((req as { baseUrl?: string }).baseUrl ?? '');
    a.handleNode(req, res, { url, hosts }).catch(next);
  };
}

export default adminExpress;
