import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { type ApiJsonInput, type Enforcer, createEnforcer } from '@ase/core';
import { asePlugin } from '@ase/fastify';
import { request } from '../../../test/helpers/http';

// An API whose jwt has no username: the enforcer warns about it at start-up.
const APIS = { shop: { api_metadata: { protocol: 'http', url: '/shop', hostname: '*', jwt: { location: 'qs:t' } } } as unknown as ApiJsonInput };
const WARNING = 'jwt needs both location and username';

/** A Fastify app whose pino logger writes to memory: the lines it logged, parsed. */
function appWithLog(): { app: FastifyInstance; lines: Array<{ level: number; msg: string }> } {
  const lines: Array<{ level: number; msg: string }> = [];
  const app = Fastify({ logger: { level: 'info', stream: { write: (l: string) => void lines.push(JSON.parse(l) as { level: number; msg: string }) } } });
  return { app, lines };
}

const warnings = (lines: Array<{ level: number; msg: string }>): string[] => lines.filter((l) => l.level === 40).map((l) => l.msg);

describe('@ase/fastify and the logger', () => {
  let enforcer: Enforcer | undefined;
  let app: FastifyInstance | undefined;
  let consoleWarn: jest.SpyInstance;
  beforeEach(() => {
    consoleWarn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    await app?.close();
    await enforcer?.close();
    consoleWarn.mockRestore();
  });

  test('an enforcer created without a logger logs through fastify.log: its start-up warning arrives there', async () => {
    enforcer = createEnforcer({ apis: APIS });
    expect(enforcer.warnings.some((w) => w.includes(WARNING))).toBe(true);
    const host = appWithLog();
    app = host.app;
    await app.register(asePlugin, { enforcer });
    app.get('/shop/x', async () => 'ok');
    await app.listen({ port: 0, host: '127.0.0.1' });
    expect(warnings(host.lines).filter((m) => m.includes(WARNING))).toHaveLength(1);
    // Served through the plugin as usual.
    expect((await request((app.server.address() as AddressInfo).port, { path: '/shop/x' })).status).toBe(200);
  });

  test('a pino logger given to createEnforcer gets the warnings, and the plugin does not replace it', async () => {
    const own = appWithLog(); // its pino instance, used as a plain logger
    enforcer = createEnforcer({ apis: APIS, logger: own.app.log });
    expect(warnings(own.lines).filter((m) => m.includes(WARNING))).toHaveLength(1);
    const host = appWithLog();
    app = host.app;
    await app.register(asePlugin, { enforcer });
    await app.ready();
    expect(warnings(host.lines).filter((m) => m.includes(WARNING))).toEqual([]);
    expect(consoleWarn).not.toHaveBeenCalled();
    await own.app.close();
  });
});
