import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { RawRequest } from '../types';

/** Reads the few fields the core needs off Node's IncomingMessage (what every framework wraps). */
export function fromNodeRequest(req: IncomingMessage, upgrade = false): RawRequest {
  return {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    remoteAddress: req.socket.remoteAddress,
    encrypted: (req.socket as TLSSocket).encrypted === true,
    upgrade,
  };
}
