import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { type Enforcer, type EnforcerOptions, createEnforcer, silentLogger } from '@ase/core';
import { type AdminApi, type AdminOptions, adminExpress, adminFastify, adminKoa, createAdmin, startAdminServer } from '@ase/admin';
import { configDir } from '../helpers/config';

/** One way of serving the admin API: the standalone listener or a framework mount. */
export interface Mount {
  name: string;
  serve(admin: AdminApi): Promise<{ port: number; close(): Promise<void> }>;
}

async function listenOn(server: http.Server): Promise<{ port: number; close(): Promise<void> }> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export const MOUNTS: readonly Mount[] = [
  {
    name: 'standalone listener',
    async serve(admin) {
      const s = await startAdminServer(admin, { port: 0, host: '127.0.0.1' });
      return { port: s.port, close: () => s.close() };
    },
  },
  {
    name: 'Express router',
    async serve(admin) {
      const app = express();
      app.use(adminExpress(admin));
      app.use((_req, res) => void res.status(418).send('host app'));
      return listenOn(http.createServer(app));
    },
  },
  {
    name: 'Koa middleware',
    async serve(admin) {
      const app = new Koa();
      app.use(adminKoa(admin));
      app.use((ctx) => {
        ctx.status = 418;
        ctx.body = 'host app';
      });
      return listenOn(http.createServer(app.callback()));
    },
  },
  {
    name: 'Fastify plugin',
    async serve(admin) {
      const app = Fastify();
      await app.register(adminFastify, { admin });
      app.get('/other', async (_req, reply) => reply.code(418).send('host app'));
      await app.listen({ port: 0, host: '127.0.0.1' });
      return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
    },
  },
];

export interface Served {
  enforcer: Enforcer;
  admin: AdminApi;
  dir: string;
  port: number;
  /** Audit lines recorded so far. */
  audit: string[];
  close(): Promise<void>;
}

/** A fresh config directory, an enforcer on it, its admin API on `mount`. */
export async function serveAdmin(
  mount: Mount,
  opts: { dir?: string; conf?: string; apis?: Record<string, unknown>; enforcer?: Partial<EnforcerOptions>; admin?: AdminOptions } = {},
): Promise<Served> {
  const dir = opts.dir ?? configDir({ conf: opts.conf, apis: opts.apis });
  const enforcer = createEnforcer({ configDir: dir, logger: silentLogger, ...opts.enforcer });
  const admin = createAdmin(enforcer, opts.admin);
  const audit: string[] = [];
  admin.on('audit', (r) => audit.push(r.line));
  const srv = await mount.serve(admin);
  return {
    enforcer,
    admin,
    dir,
    port: srv.port,
    audit,
    close: async () => {
      await srv.close();
      await admin.close();
      await enforcer.close();
    },
  };
}

export interface AdminReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The parsed body (undefined when it is not JSON). */
  json: unknown;
}

export interface CallOptions {
  /** An object is sent as JSON with `content-type: application/json`; a string is sent as is. */
  body?: unknown;
  /** Replaces the default headers entirely when `auth` is false. */
  headers?: Record<string, string>;
  /** Send `x-ase-access-key: admin` / `x-ase-secret-key: <secret>` (default true, secret "admin"). */
  auth?: boolean;
  secret?: string;
  /** Omit the content-type a JSON body would get. */
  noContentType?: boolean;
}

/** One management call over a fresh connection. */
export function call(port: number, method: string, path: string, o: CallOptions = {}): Promise<AdminReply> {
  const headers: Record<string, string> = {};
  if (o.auth !== false) {
    headers['x-ase-access-key'] = 'admin';
    headers['x-ase-secret-key'] = o.secret ?? 'admin';
  }
  let payload: string | undefined;
  if (o.body !== undefined) {
    payload = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
    if (!o.noContentType) headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  Object.assign(headers, o.headers);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}
