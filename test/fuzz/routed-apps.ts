import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import type { Enforcer } from '@ase/core';
import { aseMiddleware as expressAse } from '@ase/express';
import { asePlugin } from '@ase/fastify';
import { aseMiddleware as koaAse } from '@ase/koa';
import type { Framework } from '../conformance/harness';
import { listen } from '../helpers/http';
import type { Place } from './policy';

/** What one of the host app's handlers received, and which of its routes the framework chose. */
export interface AppHit {
  url: string;
  /** The place of the route the framework's own router matched; undefined where there is no router (Koa). */
  route: Place | undefined;
}

export interface RoutedApp {
  port: number;
  hits: AppHit[];
  close(): Promise<void>;
}

/**
 * The host app of one framework with the enforcer mounted first and, behind it, real routes for
 * every place of the policy (policy.ts), most specific first, then a catch-all: the framework's own
 * router says where a request it was handed goes (Express: path-to-regexp, case-insensitive;
 * Fastify: find-my-way, which decodes the path first). Koa has no router of its own: its
 * catch-all records the target, which the oracle's readings judge.
 */
export function startRoutedApp(framework: Framework, enforcer: Enforcer): Promise<RoutedApp> {
  switch (framework) {
    case 'express':
      return startExpress(enforcer);
    case 'koa':
      return startKoa(enforcer);
    case 'fastify':
      return startFastify(enforcer);
  }
}

/** Routes most specific first: [path prefix, place]. */
const ROUTES: readonly (readonly [string, Place])[] = [
  ['/shop/admin', 'shop decoy'],
  ['/shop', 'shop'],
  ['/app/secret', 'app decoy'],
  ['/app', 'app'],
  ['/members', 'members'],
  ['/guarded', 'guarded'],
];

const answer = (url: string): string => `host app GET ${url}`;

async function startExpress(enforcer: Enforcer): Promise<RoutedApp> {
  const hits: AppHit[] = [];
  const app = express();
  app.use(expressAse(enforcer));
  const handler = (route: Place | undefined) => (req: express.Request, res: express.Response) => {
    hits.push({ url: req.originalUrl, route });
    res.status(200).type('text/plain').send(answer(req.originalUrl));
  };
  for (const [prefix, place] of ROUTES) app.all([prefix, `${prefix}/{*rest}`], handler(place));
  app.use(handler('elsewhere'));
  const srv = await listen(http.createServer(app));
  return { port: srv.port, hits, close: () => srv.close() };
}

async function startKoa(enforcer: Enforcer): Promise<RoutedApp> {
  const hits: AppHit[] = [];
  const app = new Koa();
  app.silent = true;
  app.use(koaAse(enforcer));
  app.use((ctx) => {
    hits.push({ url: ctx.originalUrl, route: undefined });
    ctx.type = 'text/plain';
    ctx.body = answer(ctx.originalUrl);
  });
  const srv = await listen(http.createServer(app.callback()));
  return { port: srv.port, hits, close: () => srv.close() };
}

async function startFastify(enforcer: Enforcer): Promise<RoutedApp> {
  const hits: AppHit[] = [];
  const app = Fastify({ logger: false, forceCloseConnections: true });
  await app.register(asePlugin, { enforcer });
  const handler = (route: Place) => async (request: { raw: http.IncomingMessage }, reply: { code(n: number): { type(t: string): { send(b: string): unknown } } }) => {
    const url = request.raw.url ?? '';
    hits.push({ url, route });
    return reply.code(200).type('text/plain').send(answer(url));
  };
  for (const [prefix, place] of ROUTES) {
    app.all(prefix, handler(place));
    app.all(`${prefix}/*`, handler(place));
  }
  app.all('/*', handler('elsewhere'));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: (app.server.address() as AddressInfo).port, hits, close: () => app.close() };
}
