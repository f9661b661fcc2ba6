import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
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
    // Once: in the app's log, not on the console as well.
    await new Promise((r) => setImmediate(r));
    expect(consoleWarn).not.toHaveBeenCalled();
    // Later warnings go to the app's log too.
    enforcer.logger.warn('a later warning');
    expect(warnings(host.lines)).toContain('a later warning');
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

  test('a Fastify app without a logger: the warnings stay on the console, once each', async () => {
    enforcer = createEnforcer({ apis: APIS });
    app = Fastify(); // fastify.log is a no-op logger
    await app.register(asePlugin, { enforcer });
    await app.ready();
    enforcer.logger.warn('a later warning');
    await new Promise((r) => setImmediate(r));
    const printed = consoleWarn.mock.calls.map((c) => String(c[0]));
    expect(printed.filter((m) => m.includes(WARNING))).toHaveLength(1);
    expect(printed.filter((m) => m === '[ase] a later warning')).toHaveLength(1);
  });

  test('an enforcer nobody hosts writes its start-up warnings to the console, once', async () => {
    enforcer = createEnforcer({ apis: APIS });
    expect(consoleWarn).not.toHaveBeenCalled(); // held until the event loop turns
    await new Promise((r) => setImmediate(r));
    expect(consoleWarn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes(WARNING))).toHaveLength(1);
  });

  test('a pino instance given as createEnforcer({ logger }) writes the warnings as pino JSON lines', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    const logger = pino({ level: 'info', base: { app: 'shop' } }, sink);
    enforcer = createEnforcer({ apis: APIS, logger });
    enforcer.logger.error('an error line');
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, app: 'shop', msg: expect.stringContaining(WARNING) }),
      expect.objectContaining({ level: 50, app: 'shop', msg: 'an error line' }),
    ]);
    for (const l of lines) expect(typeof l['time']).toBe('number');
    expect(consoleWarn).not.toHaveBeenCalled();
  });
});
