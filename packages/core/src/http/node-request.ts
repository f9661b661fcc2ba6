import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { RawRequest } from '../types';

/**
 * Reads the few fields the core needs off Node's IncomingMessage (what every framework wraps).
 * `url` is the full target when a framework mounted under a path has rewritten `req.url`.
 */
export function fromNodeRequest(req: IncomingMessage, upgrade = false, url = req.url ?? '/'): RawRequest {
  return {
    method: req.method ?? 'GET',
    url,
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    remoteAddress: req.socket.remoteAddress,
    encrypted: (req.socket as TLSSocket).encrypted === true,
    upgrade,
  };
}
