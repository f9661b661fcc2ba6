import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Enforcer } from '@ase/core';
import { ADMIN_PREFIX, type AdminApi, hostPolicy, toAdmin } from './admin';
import type { AdminOptions } from './types';

/** The parts of a Fastify instance the plugin uses (Fastify 5). */
export interface FastifyInstanceLike {
  prefix: string;
  removeAllContentTypeParsers(): void;
  addContentTypeParser(contentType: string, parser: (request: never, payload: never, done: (err: Error | null, body?: unknown) => void) => void): unknown;
  setErrorHandler(handler: (error: { code?: string }, request: { raw: IncomingMessage }, reply: { raw: ServerResponse; hijack(): void; send(payload: unknown): unknown }) => void): unknown;
  route(options: {
    method: string[];
    url: string;
    config?: Record<string, unknown>;
    handler: (request: { raw: IncomingMessage }, reply: { raw: ServerResponse; hijack(): void }) => void;
  }): unknown;
}

export interface AdminFastifyOptions {
  /** The admin API, or the enforcer to make one for. */
  admin: AdminApi | Enforcer;
  adminOptions?: AdminOptions;
  /** Fastify's own option: `{ prefix: '/admin' }` serves `/admin/v4/ase/...`. */
  prefix?: string;
  /** Host names and addresses this mount answers to (421 for others); off by default: the app owns its Host routing. */
  allowedHosts?: readonly string[] | false;
}

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

/**
 * Fastify plugin: `app.register(adminFastify, { admin })`. Encapsulated on purpose: its routes
 * read their body themselves (the admin API's size limit, content-type and JSON rules apply the
 * same on every mount), so Fastify's parsers are switched off inside it, and only inside it.
 */
export function adminFastify(instance: FastifyInstanceLike, opts: AdminFastifyOptions, done: (err?: Error) => void): void {
  const a = toAdmin(opts.admin, opts.adminOptions);
  const hosts = hostPolicy(opts.allowedHosts);
  const prefix = instance.prefix;
  instance.removeAllContentTypeParsers();
  // Leave the body stream unread for the handler.
  instance.addContentTypeParser('*', (_request, _payload, next) => next(null, undefined));
  const handler = (request: { raw: IncomingMessage }, reply: { raw: ServerResponse; hijack(): void }): void => {
    reply.hijack();
    const full = request.raw.url ?? '/';
    const url = prefix && full.startsWith(prefix) ? full.slice(prefix.length) || '/' : full;
    a.handleNode(request.raw, reply.raw, { url, hosts }).catch((err: unknown) => {
      a.enforcer.logger.error(`management API: ${(err as Error).message}`);
      reply.raw.destroy();
    });
  };
  // A Content-Type Fastify cannot parse as a media type ("", "json", ";;;") is refused by Fastify
  // before any parser runs, in its own error shape: the admin API answers it instead, as every mount does.
  instance.setErrorHandler((error, request, reply) => {
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') handler(request, reply);
    else reply.send(error);
  });
  // `ase: false`: @ase/fastify's hook lets these routes through undecided (Fastify's router matched
  // them, nothing a client can forge), so no list entry locks the operator out of the API that removes it.
  const config = { ase: false };
  instance.route({ method: METHODS, url: ADMIN_PREFIX, handler, config });
  instance.route({ method: METHODS, url: `${ADMIN_PREFIX}/*`, handler, config });
  if (a.metricsPath !== false) instance.route({ method: METHODS, url: a.metricsPath, handler, config });
  done();
}

export default adminFastify;
