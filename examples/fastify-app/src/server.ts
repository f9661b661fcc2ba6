/**
 * An existing Fastify app with its own routes, protected in-process by ASE:
 * - GET /health is the app's own route; no API covers it, so ASE leaves it untouched.
 * - /api/* is an API without servers: ASE checks it (methods, content type, deny list, a decoy at
 *   /api/admin), then the app's own routes answer.
 * - POST /api/webhooks/payment opts out (`config: { ase: false }`): a payment provider calls it
 *   with its own content type, and it checks its own signature.
 * - /inventory/* is an API with a server: ASE proxies it to a small demo backend.
 * The API definitions, the backend and starting/stopping are shared with the other examples.
 */
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { asePlugin } from '@ase/fastify';
import { runExample } from '../../common/dist/example-app';

runExample('fastify-app', async (enforcer, port) => {
  const app = Fastify();
  await app.register(asePlugin, { enforcer }); // first: it checks every request in onRequest
  const orders = [{ id: 1, item: 'book' }];
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/api/orders', async () => orders);
  app.post<{ Body: { item?: unknown } }>('/api/orders', async (request, reply) => {
    const order = { id: orders.length + 1, item: String(request.body?.item ?? '') };
    orders.push(order);
    return reply.code(201).send(order);
  });
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.post('/api/webhooks/payment', { config: { ase: false } }, async () => ({ received: true }));

  await app.listen({ port, host: '127.0.0.1' });
  // app.close() also closes the enforcer (the plugin's onClose hook).
  return { port: (app.server.address() as AddressInfo).port, stop: () => app.close() };
});
