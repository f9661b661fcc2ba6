import * as http from 'node:http';
import Koa from 'koa';
import { aseMiddleware } from '@ase/koa';
import { listen } from '../../helpers/http';
import { type Harness, type HostAppRequest, hostAppBody, readBody } from './types';

export const koaHarness: Harness = {
  framework: 'koa',
  async start(enforcer) {
    const appSeen: HostAppRequest[] = [];
    const app = new Koa();
    app.silent = true; // Koa logs errors to stderr; the 500 is what we test
    app.use(aseMiddleware(enforcer));
    app.use(async (ctx) => {
      const body = await readBody(ctx.req);
      appSeen.push({ method: ctx.method, url: ctx.originalUrl, headers: ctx.req.headers, body });
      ctx.type = 'text/plain';
      ctx.body = hostAppBody(ctx.method, ctx.originalUrl);
    });
    const srv = await listen(http.createServer(app.callback()));
    return { port: srv.port, appSeen, close: () => srv.close() };
  },
};
