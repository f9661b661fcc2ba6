import * as http from 'node:http';
import express from 'express';
import { type Enforcer, type EnforcerOptions, createEnforcer, silentLogger } from '@ase/core';
import { aseMiddleware } from '@ase/express';
import { listen } from './http';

export interface AppUnderTest {
  enforcer: Enforcer;
  port: number;
  /** Requests the host app's own routes received (path as the app saw it). */
  appSeen: string[];
  close(): Promise<void>;
}

/**
 * An Express app with the enforcer mounted first and its own routes behind it: `GET /app/*`
 * and a catch-all that answers 200 "host app" so a `pass` decision is visible.
 */
export async function startExpressApp(options: EnforcerOptions): Promise<AppUnderTest> {
  const enforcer = createEnforcer({ logger: silentLogger, ...options });
  const appSeen: string[] = [];
  const app = express();
  app.use(aseMiddleware(enforcer));
  app.use((req, res) => {
    appSeen.push(req.originalUrl);
    res.status(200).type('text/plain').send(`host app ${req.method} ${req.originalUrl}`);
  });
  const srv = await listen(http.createServer(app));
  return {
    enforcer,
    port: srv.port,
    appSeen,
    close: async () => {
      await srv.close();
      await enforcer.close();
    },
  };
}
