import { startGateway } from '@ase/cli';
import type { Logger } from '@ase/core';
import { api, configDir } from '../helpers/config';
import { request } from '../helpers/http';

/** The default server of `ase start` (node:http, no framework) fails closed as the framework gateways do. */
describe('ase start default server (node)', () => {
  const logged: string[] = [];
  const logger: Logger = { info: () => undefined, warn: (m) => void logged.push(`warn ${m}`), error: (m) => void logged.push(`error ${m}`) };

  test('answers as the framework gateways do: no backend, unknown API (HEAD without a body)', async () => {
    const gw = await startGateway({ configDir: configDir({ apis: { local: api('/local') } }), port: 0, host: '127.0.0.1', logger });
    try {
      const noServers = await request(gw.port, { path: '/local/x' });
      expect([noServers.status, noServers.body]).toEqual([503, 'Error: No Backend Available']);
      const unknown = await request(gw.port, { path: '/nothing', method: 'HEAD' });
      expect([unknown.status, unknown.body]).toEqual([503, '']);
    } finally {
      await gw.close();
    }
  });

  test.each([
    ['throws', (): never => { throw new Error('boom: the cause'); }],
    ['rejects', (): Promise<never> => Promise.reject(new Error('boom: the cause'))],
  ])('a decision that %s answers 500 and logs why, without the detail in the answer', async (_how, decide) => {
    logged.length = 0;
    const gw = await startGateway({ configDir: configDir({ apis: { local: api('/local') } }), port: 0, host: '127.0.0.1', logger });
    try {
      (gw.enforcer as unknown as { decide: unknown }).decide = decide;
      const r = await request(gw.port, { path: '/local/x' });
      expect([r.status, r.body]).toEqual([500, 'Internal Server Error']);
      expect(logged).toEqual(['error request failed: internal error (boom: the cause)']);
      // The server keeps serving after a failed request.
      const again = await request(gw.port, { path: '/local/y' });
      expect(again.status).toBe(500);
    } finally {
      await gw.close();
    }
  });
});
