import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { type Enforcer, type Logger, createEnforcer, writeNodeResponse } from '@ase/core';
import { aseMiddleware } from '@ase/express';

export const FRAMEWORKS = ['express', 'koa', 'fastify'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

export interface GatewayOptions {
  configDir: string;
  /** Data port; `http_ws_port` of ase.conf when undefined. 0 picks a free port. */
  port?: number | undefined;
  /** Address to listen on; all interfaces by default. */
  host?: string | undefined;
  framework?: Framework;
  logger: Logger;
}

export interface Gateway {
  enforcer: Enforcer;
  server: http.Server;
  port: number;
  close(): Promise<void>;
}

export class FrameworkUnavailableError extends Error {
  override readonly name = 'FrameworkUnavailableError';
}

/** The standalone product: an app of the chosen framework with the enforcer in gateway mode. */
export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const framework = opts.framework ?? 'express';
  if (framework !== 'express') {
    throw new FrameworkUnavailableError(`--framework ${framework} is not available yet: only express is implemented in this version`);
  }
  const enforcer = createEnforcer({ configDir: opts.configDir, mode: 'gateway', logger: opts.logger });
  const app = express();
  app.disable('x-powered-by');
  app.use(aseMiddleware(enforcer));
  // Gateway mode answers every request itself; this only runs if a decision ever passes one on.
  app.use((req: http.IncomingMessage, res: http.ServerResponse) => {
    writeNodeResponse(res, { status: 503, reason: 'Service Unavailable', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Error: Unknown API' }, req.method);
  });

  const server = http.createServer(app);
  const port = opts.port ?? enforcer.conf.http_ws_port;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Give in-flight requests a moment, then cut what is left.
        setTimeout(() => server.closeAllConnections(), 5000).unref();
      });
      await enforcer.close();
    })());

  return { enforcer, server, port: bound, close };
}
