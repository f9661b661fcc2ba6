import type { IncomingMessage } from 'node:http';

/** The request body is larger than the admin API accepts (413). */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  constructor(readonly limit: number) {
    super(`request body too large (limit ${limit} bytes)`);
  }
}

/** A request as body parsers leave it: Express's `req.body`, Koa's `ctx.request.rawBody`. */
type ParsedRequest = IncomingMessage & { body?: unknown; rawBody?: unknown };

function alreadyParsed(req: ParsedRequest): string | Uint8Array | undefined {
  if (typeof req.rawBody === 'string' || req.rawBody instanceof Uint8Array) return req.rawBody;
  const b = req.body;
  if (typeof b === 'string' || b instanceof Uint8Array) return b;
  // A JSON body parser ran first: its result, back to text (our own checks run on it again).
  if (b !== undefined && b !== null && typeof b === 'object') return JSON.stringify(b);
  return undefined;
}

/**
 * Reads a Node request body up to `limit` bytes. A declared Content-Length over the limit is
 * refused before reading; a stream that grows past it stops being read. When a body parser of the
 * host app consumed the stream already, its result is used.
 */
export function readNodeBody(req: IncomingMessage, limit: number): Promise<Uint8Array | string | undefined> {
  if (req.readableEnded) return Promise.resolve(alreadyParsed(req as ParsedRequest));
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(c);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('the client closed the connection before the request body was complete'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
