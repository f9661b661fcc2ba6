import type { ApiRuntime } from '../api/api-runtime';
import { type LimitResult, type RateLimiter, rateLimitHeaders } from '../flow/rate-limit';
import { RESPONSES, textResponse } from '../policy/responses';
import type { Decision, EnforcerRequest } from '../types';
import { type DecisionContext, clientKey, refuse, respond } from './context';
import { route } from './route';
import { isPromise } from '../stores/maybe-async';

/**
 * Client flow control (`client_spike_threshold`), then the route stage. In-process counters answer
 * at once; only a shared store costs a Promise.
 */
export function limitClient(ctx: DecisionContext, rt: ApiRuntime, req: EnforcerRequest): Decision | Promise<Decision> {
  const limiter = ctx.firewall ? rt.clientLimiter : undefined;
  if (!limiter) return route(ctx, rt, req);
  // Keyed by client (an IPv6 client by its network), so moving inside one's own /64 does not reset it.
  const key = clientKey(ctx, req.ip);
  if (ctx.dryRun) {
    // A dry run reads the counter: it must not use up the client's budget.
    const peeked = limiter.peek(key);
    return isPromise(peeked) ? peeked.then((r) => afterClientLimit(ctx, rt, req, limiter, r)) : afterClientLimit(ctx, rt, req, limiter, peeked);
  }
  if (limiter.consumeSync) return afterClientLimit(ctx, rt, req, limiter, limiter.consumeSync(key));
  return limiter.consume(key).then((r) => afterClientLimit(ctx, rt, req, limiter, r));
}

/** The limit's outcome: route, or 429 with the rate-limit headers. */
function afterClientLimit(ctx: DecisionContext, rt: ApiRuntime, req: EnforcerRequest, limiter: RateLimiter, r: LimitResult): Decision | Promise<Decision> {
  if (r.ok) return route(ctx, rt, req);
  // The shared counters are unreachable and configured to fail closed: not the client's fault.
  if (r.degraded) return respond('server_busy', rt.api, RESPONSES.busy(1));
  ctx.events.emit('flow_control', { kind: 'client_spike', api: rt.api.id, ip: req.ip });
  return refuse(ctx, 'rate_limited', rt.api, req, textResponse(429, 'Too Many Requests', 'Error: Too Many Requests', rateLimitHeaders(r, limiter)));
}
