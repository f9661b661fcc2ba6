import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LiveApis } from '../api/live-apis';
import { writeNodeResponse } from '../http/node-response';
import { RESPONSES } from '../policy/responses';
import type { Decision } from '../types';
import { readSetCookie } from './sticky-sessions';

/** Sends a `proxy` decision's request to its backend, keeping the API's sticky pins up to date. */
export function forwardDecision(apis: LiveApis, req: IncomingMessage, res: ServerResponse, decision: Extract<Decision, { action: 'proxy' }>): void {
  const rt = apis.get(decision.api.id);
  if (!rt?.forwarder) {
    writeNodeResponse(res, RESPONSES.noBackend(), req.method);
    return;
  }
  const { sticky } = rt;
  const { stickyKey, release } = decision;
  if (res.destroyed || req.socket.destroyed) {
    // The client left while the request waited for a server slot: 'close' has already fired,
    // so the slot would never come back. Give it back now and send nothing.
    release?.();
    return;
  }
  if (release) res.once('close', release);
  const logout = sticky && stickyKey !== undefined && rt.api.meta.logout_api_enabled && decision.request.matchPath.endsWith('/logout');
  if (logout) res.once('close', () => sticky.delete(stickyKey));
  rt.forwarder.forward(req, res, {
    request: decision.request,
    upstream: decision.upstream,
    forwardPath: decision.forwardPath,
    // Stickiness starts when a backend sets the API's cookie: later requests with it come back here.
    onResponse: sticky
      ? (u, headers) => {
          const set = readSetCookie(headers['set-cookie'], rt.api.identity.cookie);
          if (set?.kind === 'set') sticky.set(set.value, u.id);
          else if (set?.kind === 'delete' && stickyKey !== undefined) sticky.delete(stickyKey);
          else if (stickyKey !== undefined && !logout) sticky.keep(stickyKey, u.id);
        }
      : undefined,
  });
}
