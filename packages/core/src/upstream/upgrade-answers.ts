import * as http from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ResponseSpec, sanitizeReason } from '../policy/responses';

/**
 * The plain HTTP/1.1 answers written straight onto an upgrade socket (no `ServerResponse` exists
 * for an upgrade): a backend's refusal relayed, or the enforcer's own refusal, each followed by
 * closing the connection.
 */

/** Most body bytes of a refused upgrade relayed to the client. */
export const MAX_REFUSAL_BODY = 64 * 1024;

/** Response headers of a refused upgrade not relayed (we re-frame the answer and close). */
const DROP_RESPONSE_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'trailer']);
const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Relays a non-101 answer to an upgrade with `Connection: close`, then closes the client socket. */
export function relayRefusal(res: IncomingMessage, client: Duplex, onDone: () => void): void {
  const status = res.statusCode ?? 502;
  const lines = [`HTTP/1.1 ${status} ${sanitizeReason(res.statusMessage ?? '')}`];
  const raw = res.rawHeaders;
  const lengthHeader = res.headers['content-length'];
  const declared = lengthHeader !== undefined && /^[0-9]{1,15}$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (DROP_RESPONSE_HEADERS.has(lower) || lower === 'content-length') continue;
    lines.push(`${name}: ${raw[i + 1]}`);
  }
  // A body within the bound keeps its length; a longer or chunked one is cut and close-delimited.
  if (declared !== undefined && declared <= MAX_REFUSAL_BODY) lines.push(`Content-Length: ${declared}`);
  lines.push('Connection: close');
  if (client.destroyed) {
    res.destroy();
    onDone();
    return;
  }
  client.write(`${lines.join('\r\n')}\r\n\r\n`);
  let sent = 0;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    onDone();
    endThenDestroy(client);
  };
  res.on('data', (chunk: Buffer) => {
    if (sent >= MAX_REFUSAL_BODY) return;
    const part = chunk.length + sent > MAX_REFUSAL_BODY ? chunk.subarray(0, MAX_REFUSAL_BODY - sent) : chunk;
    sent += part.length;
    client.write(part);
    if (sent >= MAX_REFUSAL_BODY) {
      res.destroy();
      finish();
    }
  });
  res.on('end', finish);
  res.on('error', finish);
  res.on('close', finish);
}

/**
 * Answers an upgrade request that will not be proxied (blocked by the pipeline, rate-limited...):
 * a plain HTTP/1.1 response with `Connection: close`, then the socket is destroyed. Header names
 * that are not tokens are dropped; control characters are removed from values and the reason.
 */
export function writeUpgradeRefusal(socket: Duplex, status: number, reason: string, body: string, headers: Record<string, string> = {}): void {
  try {
    if (socket.destroyed) return;
    socket.on('error', () => socket.destroy());
    const b = Buffer.from(body, 'utf8');
    const lines = [`HTTP/1.1 ${Math.trunc(status)} ${sanitizeReason(reason)}`];
    const hasType = Object.keys(headers).some((k) => k.toLowerCase() === 'content-type');
    if (!hasType) lines.push('Content-Type: text/plain; charset=utf-8');
    for (const [k, v] of Object.entries(headers)) {
      const lower = k.toLowerCase();
      if (!TOKEN_RE.test(k) || lower === 'content-length' || lower === 'connection' || lower === 'transfer-encoding') continue;
      lines.push(`${k}: ${cleanValue(v)}`);
    }
    lines.push(`Content-Length: ${b.length}`, 'Connection: close');
    endThenDestroy(socket, Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), b]));
  } catch {
    socket.destroy();
  }
}

/** {@link writeUpgradeRefusal} for a core `ResponseSpec`. */
export function writeUpgradeResponse(socket: Duplex, spec: ResponseSpec): void {
  writeUpgradeRefusal(socket, spec.status, spec.reason || http.STATUS_CODES[spec.status] || '', spec.body, spec.headers);
}

/** Ends the socket (optionally writing `data` first) and destroys it once flushed, or after 2 s. */
export function endThenDestroy(socket: Duplex, data?: Buffer): void {
  if (socket.destroyed) return;
  if (socket.writableFinished) {
    socket.destroy();
    return;
  }
  if (socket.writableEnded) return; // an earlier call already waits for 'finish'
  const t = setTimeout(() => socket.destroy(), 2000);
  t.unref();
  socket.once('finish', () => {
    clearTimeout(t);
    socket.destroy();
  });
  socket.once('close', () => clearTimeout(t));
  if (data) socket.end(data);
  else socket.end();
}

function cleanValue(v: string): string {
  // eslint-disable-next-line no-control-regex
  return String(v).replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '');
}
