import type { ApiRuntime } from '../api/api-runtime';
import { retryAfterSeconds } from '../flow/rate-limit';
import { RESPONSES } from '../policy/responses';
import { parseCookies } from '../request/cookies';
import { isPromise } from '../stores/maybe-async';
import { mapToInternal } from '../upstream/path-mapping';
import type { Decision, EnforcerRequest } from '../types';
import { type DecisionContext, respond } from './context';

/**
 * The route stage: the backend server the request goes to (its sticky pin when usable), through
 * the scheduler's slots when the API has server quotas or spike rates. An API without servers
 * passes to the app in middleware mode.
 */
export function route(ctx: DecisionContext, rt: ApiRuntime, req: EnforcerRequest): Decision | Promise<Decision> {
  const { api } = rt;
  if (rt.pool.size === 0) {
    if (ctx.mode === 'middleware') return { action: 'pass', api, request: req };
    return respond('no_backend', api, RESPONSES.noBackend());
  }
  const stickyKey = rt.sticky ? parseCookies(req.headers['cookie']).get(api.identity.cookie) : undefined;
  const pinned = stickyKey !== undefined ? rt.sticky!.get(stickyKey) : undefined;
  // A sticky store in this process answers at once; only a shared one costs a Promise.
  if (isPromise(pinned)) return pinned.then((p) => routeTo(ctx, rt, req, stickyKey, p));
  return routeTo(ctx, rt, req, stickyKey, pinned);
}

/** The server for the request once its sticky pin (if any) is known. */
function routeTo(ctx: DecisionContext, rt: ApiRuntime, req: EnforcerRequest, stickyKey: string | undefined, pinned: string | undefined): Decision | Promise<Decision> {
  const { api } = rt;
  const forwardPath = mapToInternal(api, req.path) + req.query;
  // A dry run takes no scheduler slot and leaves the round-robin cursor where it is.
  if (ctx.dryRun) {
    const pinnedUp = pinned !== undefined ? rt.pool.find(pinned) : undefined;
    const upstream = pinnedUp && rt.pool.isUsable(pinnedUp) ? pinnedUp : rt.pool.servers.find((s) => rt.pool.isUsable(s));
    return upstream ? { action: 'proxy', api, request: req, upstream, forwardPath, stickyKey } : respond('no_backend', api, RESPONSES.noBackend());
  }
  if (rt.scheduler && ctx.firewall) {
    return rt.scheduler.acquire({ preferred: pinned }).then((slot): Decision => {
      const upstream = slot.ok ? rt.pool.find(slot.id) : undefined;
      if (slot.ok && upstream) return { action: 'proxy', api, request: req, upstream, forwardPath, stickyKey, release: slot.release };
      if (slot.ok) slot.release();
      if (!slot.ok && slot.reason !== 'no_backend') {
        ctx.events.emit('flow_control', { kind: slot.reason, api: api.id, ip: req.ip });
        return respond('server_busy', api, RESPONSES.busy(retryAfterSeconds(slot.retryAfterMs)));
      }
      return respond('no_backend', api, RESPONSES.noBackend());
    });
  }
  const pinnedUp = pinned !== undefined ? rt.pool.find(pinned) : undefined;
  const upstream = pinnedUp && rt.pool.isUsable(pinnedUp) ? pinnedUp : rt.pool.pick();
  if (!upstream) return respond('no_backend', api, RESPONSES.noBackend());
  return { action: 'proxy', api, request: req, upstream, forwardPath, stickyKey };
}
