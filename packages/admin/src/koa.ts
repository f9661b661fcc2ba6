import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Enforcer } from '@ase/core';
import { type AdminApi, hostPolicy, outsideDataPath, toAdmin } from './admin';
import { readNodeBody } from './node-body';
import type { AdminOptions } from './types';

/** The fields of Koa's context we use (Koa 2 and 3). */
export interface KoaContextLike {
  method: string;
  /** Path and query, relative to a koa-mount prefix. */
  url: string;
  /** Path and query as received. */
  originalUrl?: string;
  req: IncomingMessage;
  res: ServerResponse;
  /** `object &`: without it this all-optional type is "weak", and Koa's Request (which has neither field unless a body parser ran) would not be assignable. */
  request: object & { rawBody?: unknown; body?: unknown };
  status: number;
  body: unknown;
  set(field: string, value: string): void;
}

/**
 * Koa mount: `app.use(adminKoa(admin))` serves `/v4/ase/...` and `/metrics` (`metricsPath`) and passes everything else on.
 * Put it before body parsers (koa-bodyparser's `rawBody` is used if one ran first).
 * `options.allowedHosts` turns on the Host check for this mount (off by default: the app owns its Host routing).
 */
export function adminKoa(admin: AdminApi | Enforcer, options?: AdminOptions): (ctx: KoaContextLike, next: () => Promise<unknown>) => Promise<void> {
  const a = toAdmin(admin, options);
  const hosts = hostPolicy(options?.allowedHosts);
  const mount = outsideDataPath(a, options?.mountPath ?? '', hosts);
  return async function aseAdmin(ctx, next) {
    if (!a.serves(ctx.url)) {
      await next();
      return;
    }
    const full = ctx.originalUrl ?? ctx.url;
    mount.seenAt(full.endsWith(ctx.url) ? full.slice(0, full.length - ctx.url.length) : '');
    const raw = ctx.request.rawBody;
    const answer = await a.handle(
      {
        method: ctx.method,
        url: ctx.url,
        headers: ctx.req.headers,
        rawHeaders: ctx.req.rawHeaders,
        ip: ctx.req.socket.remoteAddress?.replace(/^::ffff:(?=\d+\.)/, '') ?? 'unknown',
        body: typeof raw === 'string' ? raw : () => readNodeBody(ctx.req, a.bodyLimit),
      },
      { hosts },
    );
    ctx.status = answer.status;
    for (const [k, v] of Object.entries(answer.headers)) ctx.set(k, v);
    ctx.body = answer.body;
  };
}

export default adminKoa;
