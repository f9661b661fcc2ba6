import type { ServerResponse } from 'node:http';
import type { ResponseSpec } from '../types';

/** Writes a core response on a Node ServerResponse (used by the forwarder and by adapters). */
export function writeNodeResponse(res: ServerResponse, spec: ResponseSpec, method?: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.statusCode = spec.status;
  if (spec.reason) res.statusMessage = spec.reason;
  for (const [k, v] of Object.entries(spec.headers)) res.setHeader(k, v);
  const body = Buffer.from(spec.body, 'utf8');
  res.setHeader('content-length', body.length);
  res.end(method === 'HEAD' ? undefined : body);
}
