import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { asePlugin } from '@ase/fastify';
import { type Harness, type HostAppRequest, hostAppBody } from './types';

export const fastifyHarness: Harness = {
  framework: 'fastify',
  async start(enforcer) {
    const appSeen: HostAppRequest[] = [];
    // forceCloseConnections: close() cuts a connection an adapter bug left hanging.
    const app = Fastify({ logger: false, forceCloseConnections: true });
    await app.register(asePlugin, { enforcer });
    // The host app takes any body as text, so a scenario can check what reached it.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    app.all('/*', async (request, reply) => {
      const body = typeof request.body === 'string' ? request.body : '';
      appSeen.push({ method: request.method, url: request.raw.url ?? '', headers: request.raw.headers, body });
      return reply.code(200).type('text/plain').send(hostAppBody(request.method, request.raw.url ?? ''));
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as AddressInfo).port;
    return { port, appSeen, close: () => app.close() };
  },
};
