/**
 * An existing Fastify app with its own routes, protected in-process by ASE:
 * - GET /health is the app's own route; no API covers it, so ASE leaves it untouched.
 * - /api/* is an API without servers: ASE checks it (methods, content type, deny list, a decoy at
 *   /api/admin), then the app's own routes answer.
 * - POST /api/webhooks/payment opts out (`config: { ase: false }`): a payment provider calls it
 *   with its own content type, and it checks its own signature.
 * - /inventory/* is an API with a server: ASE proxies it to a small demo backend.
 */
import Fastify from 'fastify';
import { createEnforcer } from '@ase/core';
import { asePlugin } from '@ase/fastify';
import { apis, startInventoryBackend } from './config';

async function main(): Promise<void> {
  const inventory = await startInventoryBackend();
  const enforcer = createEnforcer({ conf: { enable_ase_detected_attack: true }, apis: apis(inventory.port) });

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

  const address = await app.listen({ port: Number(process.env['PORT'] ?? 3000), host: '127.0.0.1' });
  console.log(`fastify-app listening on ${address}`);
  // app.close() also closes the enforcer (the plugin's onClose hook).
  const stop = (): void => {
    void app.close();
    inventory.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
