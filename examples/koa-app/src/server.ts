/**
 * An existing Koa app with its own routes, protected in-process by ASE:
 * - GET /health is the app's own route; no API covers it, so ASE leaves it untouched.
 * - /api/* is an API without servers: ASE checks it (methods, content type, deny list, a decoy at
 *   /api/admin), then the app's own routes answer.
 * - /inventory/* is an API with a server: ASE proxies it to a small demo backend.
 * The API definitions, the backend and starting/stopping are shared with the other examples.
 */
import * as http from 'node:http';
import Koa from 'koa';
import { aseMiddleware, aseUpgrade } from '@ase/koa';
import { runExample, serveNode } from '../../common/dist/example-app';

function readJson(req: http.IncomingMessage): Promise<{ item?: unknown }> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => {
      try {
        resolve(text ? (JSON.parse(text) as { item?: unknown }) : {});
      } catch (err) {
        reject(Object.assign(err as Error, { status: 400, expose: true }));
      }
    });
    req.on('error', reject);
  });
}

runExample('koa-app', async (enforcer, port) => {
  const app = new Koa();
  app.use(aseMiddleware(enforcer)); // first: before body parsers and routes
  const orders = [{ id: 1, item: 'book' }];
  app.use(async (ctx) => {
    if (ctx.method === 'GET' && ctx.path === '/health') {
      ctx.body = { status: 'ok' };
    } else if (ctx.method === 'GET' && ctx.path === '/api/orders') {
      ctx.body = orders;
    } else if (ctx.method === 'POST' && ctx.path === '/api/orders') {
      const order = { id: orders.length + 1, item: String((await readJson(ctx.req)).item ?? '') };
      orders.push(order);
      ctx.status = 201;
      ctx.body = order;
    }
    // anything else: Koa's 404
  });

  const server = http.createServer(app.callback());
  aseUpgrade(server, enforcer); // WebSocket upgrades never pass middleware: ASE decides them first
  return serveNode(server, port);
});
