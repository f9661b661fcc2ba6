import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import express from 'express';
import Koa from 'koa';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import WebSocket, { WebSocketServer } from 'ws';
import { type BlockedEvent, type Enforcer, type FlowControlEvent, createEnforcer, silentLogger } from '@ase/core';
import { aseMiddleware as expressMiddleware, aseUpgrade as expressUpgrade } from '@ase/express';
import { aseMiddleware as koaMiddleware, aseUpgrade as koaUpgrade } from '@ase/koa';
import { asePlugin } from '@ase/fastify';

/**
 * The app's own WebSocket server shares the HTTP server with ASE. Node hands an `upgrade` to every
 * listener at once, so unless ASE decides before any of them runs, a deny-listed client walks in.
 * Clients connect from two loopback addresses: 127.0.0.2 is deny-listed, 127.0.0.1 is not.
 */
const DENIED = '127.0.0.2';
const ALLOWED = '127.0.0.1';
/** What ASE answers a deny-listed client on an API with enable_blocking (the API's block response). */
const REFUSAL = 'HTTP/1.1 403 Unauthorized';

type Framework = 'express' | 'koa' | 'fastify';
/** `server`: `new WebSocketServer({ server })` (also how express-ws and koa-websocket attach); `noServer`: the app's own `server.on('upgrade')`. */
type Style = 'server' | 'noServer' | '@fastify/websocket';
type Order = 'before' | 'after';

interface App {
  port: number;
  /** Upgrades the app's WebSocket server was handed (its handshake code ran). */
  seen: number;
  /** WebSockets the app accepted. */
  connections: number;
  close(): Promise<void>;
}

/** A WebSocket backend of its own, for the API ASE proxies: it greets with `backend`. */
let backend: { port: number; server: http.Server; wss: WebSocketServer };
beforeAll(async () => {
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.send('backend'));
  backend = { port: await listenOn(server), server, wss };
});
afterAll(() => closeAll(backend.server, backend.wss));

function newEnforcer(): Enforcer {
  return createEnforcer({
    logger: silentLogger,
    mode: 'middleware',
    apis: {
      // No servers: the app serves the WebSocket itself, ASE only decides.
      chat: { api_metadata: { protocol: 'ws', url: '/chat', hostname: '*', enable_blocking: true, flow_control: { client_spike_threshold: '1/second' } } },
      // Not a WebSocket API: no upgrade on its path reaches the app.
      rest: { api_metadata: { protocol: 'http', url: '/rest', hostname: '*' } },
      // With servers: ASE tunnels it, the app never has it.
      live: { api_metadata: { protocol: 'ws', url: '/live', hostname: '*', servers: [{ host: '127.0.0.1', port: backend.port }] } },
    },
  });
}

/** The app's WebSocket server: counts what it is handed and what it accepts. */
function appWebSocketServer(app: { seen: number; connections: number }, options: ConstructorParameters<typeof WebSocketServer>[0]): WebSocketServer {
  const wss = new WebSocketServer(options);
  const handleUpgrade = wss.handleUpgrade.bind(wss);
  wss.handleUpgrade = ((req, socket, head, cb) => {
    app.seen++;
    return handleUpgrade(req, socket, head, cb);
  }) as typeof wss.handleUpgrade;
  wss.on('connection', (ws) => {
    app.connections++;
    ws.send('welcome');
  });
  return wss;
}

function attach(app: { seen: number; connections: number }, server: http.Server, style: Style): WebSocketServer {
  if (style === 'server') return appWebSocketServer(app, { server });
  const wss = appWebSocketServer(app, { noServer: true });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  return wss;
}

function listenOn(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function closeAll(server: http.Server, wss: WebSocketServer | undefined): Promise<void> {
  for (const c of wss?.clients ?? []) c.terminate();
  wss?.close();
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

/** Express or Koa: the app builds its server, attaches its WebSocket server before or after ASE. */
async function nodeApp(framework: 'express' | 'koa', enforcer: Enforcer, style: Style, order: Order, alsoLegacy = false): Promise<App> {
  let handler: http.RequestListener;
  if (framework === 'express') {
    const app = express();
    app.use(expressMiddleware(enforcer));
    app.use((_req, res) => void res.send('ok'));
    handler = app;
  } else {
    const app = new Koa();
    app.use(koaMiddleware(enforcer));
    app.use((ctx) => void (ctx.body = 'ok'));
    handler = app.callback();
  }
  const server = http.createServer(handler);
  const state = { seen: 0, connections: 0 };
  let wss: WebSocketServer | undefined;
  if (order === 'before') wss = attach(state, server, style);
  const aseUpgrade = framework === 'express' ? expressUpgrade : koaUpgrade;
  aseUpgrade(server, enforcer);
  if (alsoLegacy) server.on('upgrade', aseUpgrade(enforcer));
  if (order === 'after') wss = attach(state, server, style);
  const port = await listenOn(server);
  return {
    port,
    get seen() {
      return state.seen;
    },
    get connections() {
      return state.connections;
    },
    close: () => closeAll(server, wss),
  };
}

/** Fastify: the plugin guards `fastify.server`; the app's WebSocket server comes before or after it. */
async function fastifyApp(enforcer: Enforcer, style: Style, order: Order): Promise<App> {
  const app: FastifyInstance = Fastify({ logger: false, forceCloseConnections: true });
  const state = { seen: 0, connections: 0 };
  let wss: WebSocketServer | undefined;
  if (style === '@fastify/websocket') {
    const plugin = async (): Promise<void> => {
      await app.register(fastifyWebsocket);
      await app.register(async (scope) => {
        scope.get('/chat/room', { websocket: true }, (socket) => {
          state.connections++;
          socket.send('welcome');
        });
      });
    };
    if (order === 'before') await plugin();
    await app.register(asePlugin, { enforcer });
    if (order === 'after') await plugin();
    await app.ready();
    const server = app.websocketServer;
    const handleUpgrade = server.handleUpgrade.bind(server);
    server.handleUpgrade = ((req, socket, head, cb) => {
      state.seen++;
      return handleUpgrade(req, socket, head, cb);
    }) as typeof server.handleUpgrade;
  } else {
    app.get('/*', async () => 'ok');
    if (order === 'before') wss = attach(state, app.server, style);
    await app.register(asePlugin, { enforcer });
    await app.ready();
    if (order === 'after') wss = attach(state, app.server, style);
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    port: (app.server.address() as AddressInfo).port,
    get seen() {
      return state.seen;
    },
    get connections() {
      return state.connections;
    },
    close: async () => {
      for (const c of wss?.clients ?? []) c.terminate();
      wss?.close();
      await app.close();
    },
  };
}

/** Opens a WebSocket from `from`; resolves with the first message, or the refusal's status line. */
function connect(port: number, from: string, path = '/chat/room'): Promise<{ opened: true; message: string } | { opened: false; statusLine: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { localAddress: from });
    ws.once('message', (m) => {
      resolve({ opened: true, message: m.toString() });
      ws.close();
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve({ opened: false, statusLine: `HTTP/${res.httpVersion} ${res.statusCode} ${res.statusMessage}` });
      res.resume();
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

/** A raw upgrade request (any `Upgrade` token) from `from`; resolves with the status line. */
function rawUpgrade(port: number, from: string, upgrade: string, path = '/chat/room'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: from });
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      text += d;
      const end = text.indexOf('\r\n');
      if (end >= 0) {
        resolve(text.slice(0, end));
        socket.destroy();
      }
    });
    socket.on('close', () => resolve(text.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: ${upgrade}\r\n` +
        'HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    );
  });
}

/** `ase_decisions_total` of one API by reason, as scraped. */
async function decisionsBy(enforcer: Enforcer, api: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of (await enforcer.metrics.metrics()).matchAll(/^ase_decisions_total\{([^}]*)\} (\d+)$/gm)) {
    if (!m[1]!.includes(`api="${api}"`)) continue;
    const reason = /reason="([^"]*)"/.exec(m[1]!)![1]!;
    if (Number(m[2]) !== 0) out[reason] = Number(m[2]);
  }
  return out;
}

/** Lets anything still queued (an app listener that lost the race) run before counting. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 50));

const CASES: [Framework, Style, Order][] = [];
for (const framework of ['express', 'koa', 'fastify'] as const) {
  const styles: Style[] = framework === 'fastify' ? ['server', 'noServer', '@fastify/websocket'] : ['server', 'noServer'];
  for (const style of styles) for (const order of ['before', 'after'] as const) CASES.push([framework, style, order]);
}

describe.each(CASES)('%s, the app WebSocket server (%s) attached %s ASE', (framework, style, order) => {
  let enforcer: Enforcer;
  let app: App;
  let decisions: number;
  let flow: FlowControlEvent[];
  let blocked: BlockedEvent[];

  beforeEach(async () => {
    enforcer = newEnforcer();
    await enforcer.addDeny({ type: 'ip', value: DENIED });
    const decide = enforcer.decide.bind(enforcer);
    decisions = 0;
    enforcer.decide = (raw) => {
      decisions++;
      return decide(raw);
    };
    flow = [];
    enforcer.on('flow_control', (e) => flow.push(e));
    blocked = [];
    enforcer.on('blocked', (e) => blocked.push(e));
    app = framework === 'fastify' ? await fastifyApp(enforcer, style, order) : await nodeApp(framework, enforcer, style, order);
  });
  afterEach(async () => {
    await app.close();
    await enforcer.close();
  });

  test('refuses a deny-listed client with the block response before the app sees the upgrade', async () => {
    const result = await connect(app.port, DENIED);
    await settle();
    expect(result).toEqual({ opened: false, statusLine: REFUSAL });
    expect({ seen: app.seen, connections: app.connections }).toEqual({ seen: 0, connections: 0 });
  });

  test('refuses a deny-listed client asking for Upgrade: h2c before the app sees it', async () => {
    const statusLine = await rawUpgrade(app.port, DENIED, 'h2c');
    await settle();
    expect(statusLine).toBe(REFUSAL);
    expect({ seen: app.seen, connections: app.connections }).toEqual({ seen: 0, connections: 0 });
  });

  test('refuses an allowed client asking for Upgrade: h2c on an API path with 400, before the app sees it, and reports it as malformed', async () => {
    const statusLine = await rawUpgrade(app.port, ALLOWED, 'h2c');
    await settle();
    expect(statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect({ seen: app.seen, connections: app.connections }).toEqual({ seen: 0, connections: 0 });
    expect(blocked.map((e) => [e.reason, e.api, e.path])).toEqual([['malformed', 'chat', '/chat/room']]);
    expect(await decisionsBy(enforcer, 'chat')).toEqual({ malformed: 1 });
  });

  test('refuses Upgrade: h2c on an API it tunnels with 400, reported as malformed, not counted as allowed', async () => {
    expect(await rawUpgrade(app.port, ALLOWED, 'h2c', '/live/feed')).toBe('HTTP/1.1 400 Bad Request');
    await settle();
    expect(blocked.map((e) => [e.reason, e.api])).toEqual([['malformed', 'live']]);
    expect(await decisionsBy(enforcer, 'live')).toEqual({ malformed: 1 });
  });

  test('refuses a WebSocket on the path of an API that is not protocol ws with 400, before the app sees it, and reports it as malformed', async () => {
    const result = await connect(app.port, ALLOWED, '/rest/socket');
    await settle();
    expect(result).toEqual({ opened: false, statusLine: 'HTTP/1.1 400 Bad Request' });
    expect({ seen: app.seen, connections: app.connections }).toEqual({ seen: 0, connections: 0 });
    expect(blocked.map((e) => [e.reason, e.api])).toEqual([['malformed', 'rest']]);
    expect(await decisionsBy(enforcer, 'rest')).toEqual({ malformed: 1 });
  });

  test('lets an allowed client open it after exactly one decision', async () => {
    const result = await connect(app.port, ALLOWED);
    await settle();
    expect(result).toEqual({ opened: true, message: 'welcome' });
    expect({ decisions, flow: flow.length, connections: app.connections }).toEqual({ decisions: 1, flow: 0, connections: 1 });
  });

  test('tunnels an upgrade to an API with servers to its backend; the app never sees it', async () => {
    const result = await connect(app.port, ALLOWED, '/live/feed');
    await settle();
    expect(result).toEqual({ opened: true, message: 'backend' });
    expect({ decisions, seen: app.seen, connections: app.connections }).toEqual({ decisions: 1, seen: 0, connections: 0 });
  });
});

describe.each(['express', 'koa'] as const)('%s with aseUpgrade(server, enforcer) and the older listener form both attached', (framework) => {
  test('decides each upgrade once: a deny-listed client is refused, an allowed one gets in', async () => {
    const enforcer = newEnforcer();
    await enforcer.addDeny({ type: 'ip', value: DENIED });
    let decisions = 0;
    const decide = enforcer.decide.bind(enforcer);
    enforcer.decide = (raw) => {
      decisions++;
      return decide(raw);
    };
    const app = await nodeApp(framework, enforcer, 'noServer', 'before', true);
    try {
      expect(await connect(app.port, DENIED)).toEqual({ opened: false, statusLine: REFUSAL });
      expect(await connect(app.port, ALLOWED)).toEqual({ opened: true, message: 'welcome' });
      await settle();
      expect({ decisions, seen: app.seen, connections: app.connections }).toEqual({ decisions: 2, seen: 1, connections: 1 });
    } finally {
      await app.close();
      await enforcer.close();
    }
  });
});

test('an upgrade no API takes, with no WebSocket server in the app, is answered 404', async () => {
  const enforcer = newEnforcer();
  const server = http.createServer(express().use(expressMiddleware(enforcer)));
  expressUpgrade(server, enforcer);
  const port = await listenOn(server);
  try {
    expect(await connect(port, ALLOWED, '/elsewhere')).toEqual({ opened: false, statusLine: 'HTTP/1.1 404 Not Found' });
  } finally {
    await closeAll(server, undefined);
    await enforcer.close();
  }
});

describe.each(['express', 'koa'] as const)('%s with only the older listener form', (framework) => {
  test('guards the server from its first upgrade on: a later deny-listed client is refused before the app sees it', async () => {
    const enforcer = newEnforcer();
    const server = http.createServer((_req, res) => res.end('ok'));
    const state = { seen: 0, connections: 0 };
    const wss = attach(state, server, 'server');
    const legacy = framework === 'express' ? expressUpgrade(enforcer) : koaUpgrade(enforcer);
    server.on('upgrade', legacy);
    const port = await listenOn(server);
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      expect(await connect(port, ALLOWED)).toEqual({ opened: true, message: 'welcome' });
      await enforcer.addDeny({ type: 'ip', value: DENIED });
      expect(await connect(port, DENIED)).toEqual({ opened: false, statusLine: REFUSAL });
      await settle();
      expect({ seen: state.seen, connections: state.connections }).toEqual({ seen: 1, connections: 1 });
    } finally {
      warn.mockRestore();
      await closeAll(server, wss);
      await enforcer.close();
    }
  });
});

test('express-ws style: an accepted upgrade handed to the Express routes is not decided a second time', async () => {
  const enforcer = newEnforcer();
  let decisions = 0;
  const decide = enforcer.decide.bind(enforcer);
  enforcer.decide = (raw) => {
    decisions++;
    return decide(raw);
  };
  const routed: number[] = [];
  const app = express();
  app.use(expressMiddleware(enforcer));
  app.use((_req, res) => {
    routed.push(res.statusCode);
    res.end();
  });
  const server = http.createServer(app);
  aseUpgrade(server);
  // What express-ws does: a `{ server }` ws server whose connections run through the app's routes.
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    req.url = `${req.url}/.websocket`;
    (app as unknown as { handle(req: http.IncomingMessage, res: http.ServerResponse): void }).handle(req, new http.ServerResponse(req));
    ws.send('welcome');
  });
  const port = await listenOn(server);
  try {
    expect(await connect(port, ALLOWED)).toEqual({ opened: true, message: 'welcome' });
    await settle();
    expect({ decisions, routed }).toEqual({ decisions: 1, routed: [200] });
  } finally {
    await closeAll(server, wss);
    await enforcer.close();
  }

  function aseUpgrade(s: http.Server): void {
    expressUpgrade(s, enforcer);
  }
});
