import type { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Enforcer } from '../enforcer';
import { textResponse } from '../policy/responses';
import { writeUpgradeResponse } from '../upstream/ws-proxy';

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** An HTTP or HTTPS server (or anything else that emits Node's `upgrade` event). */
export type UpgradeServer = EventEmitter;

type Emit = EventEmitter['emit'];

/** Upgrade requests each enforcer has let through; in memory only, so a client cannot claim it. */
const passedBy = new WeakMap<Enforcer, WeakSet<IncomingMessage>>();
/** Enforcers guarding each server, so guarding twice is a no-op. */
const guards = new WeakMap<UpgradeServer, Set<Enforcer>>();
/** `upgrade` listeners that are ASE's own, not the app's: they do not count as someone to hand an upgrade to. */
const aseListeners = new WeakSet<(...args: never[]) => unknown>();

function passedSet(enforcer: Enforcer): WeakSet<IncomingMessage> {
  let set = passedBy.get(enforcer);
  if (!set) passedBy.set(enforcer, (set = new WeakSet()));
  return set;
}

/**
 * True when `enforcer` already decided this upgrade request and let it through to the app: a
 * framework that routes upgrades through its middleware again (@fastify/websocket, express-ws)
 * must not decide a second time (a second decision would count twice against flow control).
 */
export function upgradePassed(enforcer: Enforcer, req: IncomingMessage): boolean {
  return passedBy.get(enforcer)?.has(req) === true;
}

function appListenerCount(server: UpgradeServer): number {
  let n = 0;
  for (const l of server.listeners('upgrade')) if (!aseListeners.has(l as (...args: never[]) => unknown)) n++;
  return n;
}

/**
 * Makes `enforcer` decide every upgrade on `server` before any `upgrade` listener of the app sees it.
 *
 * Node calls all `upgrade` listeners synchronously, one after another, and the decision may be
 * asynchronous: as one listener among others, ASE would still be deciding while the app's WebSocket
 * server (`new WebSocketServer({ server })`, a `noServer` handler, @fastify/websocket, express-ws,
 * koa-websocket) had already completed the handshake. Listener order cannot fix that, and apps
 * attach their listeners before or after ASE as they please. So the gate is `server.emit` itself,
 * for the `upgrade` event of this one server instance: the event reaches the listeners (whenever
 * they were added) only after the decision passed; a refused upgrade is answered by ASE, a
 * proxied one tunnelled by ASE, and the listeners never hear of either.
 *
 * An upgrade the decision passes (no API takes it, or its API has no servers) goes to the app's
 * listeners, or is answered 404 when the app has none. Returns a function that removes the gate.
 */
export function guardUpgrades(server: UpgradeServer, enforcer: Enforcer): () => void {
  let set = guards.get(server);
  if (set?.has(enforcer)) return () => {};
  if (!set) guards.set(server, (set = new Set()));
  set.add(enforcer);
  const passed = passedSet(enforcer);
  const inner: Emit = server.emit;

  // Every event of the server passes here ('request' included): `arguments` handed on as they are,
  // rather than rest parameters that would build an array for each request.
  const gate = function (this: unknown, event: string | symbol): boolean {
    // eslint-disable-next-line prefer-rest-params
    const args = arguments as unknown as [string | symbol, ...unknown[]];
    if (event !== 'upgrade') return Reflect.apply(inner, this, args) as boolean;
    const req = args[1] as IncomingMessage;
    const socket = args[2] as Duplex;
    const head = args[3] as Buffer;
    if (passed.has(req)) return Reflect.apply(inner, this, args) as boolean; // emitted again after the decision
    const rest = Array.prototype.slice.call(args, 1) as unknown[];
    void enforcer.handleUpgrade(req, socket, head).then((handled) => {
      if (handled || socket.destroyed) return;
      passed.add(req);
      if (appListenerCount(server) === 0) {
        writeUpgradeResponse(socket, textResponse(404, 'Not Found', 'Error: Not Found'));
        return;
      }
      try {
        inner.call(this, event, ...rest);
      } catch (err) {
        socket.destroy();
        throw err; // an app listener's bug surfaces as it would have without the gate
      }
    });
    return true;
  };
  // Node (before 24's shouldUpgradeCallback, and by default after) serves an upgrade as a plain
  // request when the server has no `upgrade` listener; this one keeps it an upgrade so the gate sees it.
  const marker = (): void => {};
  aseListeners.add(marker);
  server.emit = gate as Emit;
  server.on('upgrade', marker);
  return () => {
    if (server.emit === gate) server.emit = inner;
    server.off('upgrade', marker);
    set.delete(enforcer);
  };
}

let warnedListenerForm = false;

/**
 * The older form: a listener for the server's `upgrade` event, `server.on('upgrade', upgradeListener(enforcer))`.
 * As one listener among the app's it cannot decide before them, so on its first upgrade it puts
 * the gate of {@link guardUpgrades} on that server: from then on the decision comes first. Under a
 * gate it decides nothing itself; `fallback` (e.g. a `ws` server in `noServer` mode) receives the
 * upgrades the decision let through.
 * @deprecated Use `guardUpgrades(server, enforcer)` (`aseUpgrade(server, enforcer)` in the adapters).
 */
export function upgradeListener(enforcer: Enforcer, fallback?: UpgradeHandler): UpgradeHandler {
  const listener: UpgradeHandler = (req, socket, head) => {
    if (upgradePassed(enforcer, req)) {
      fallback?.(req, socket, head);
      return;
    }
    const server = (req.socket as unknown as { server?: UpgradeServer }).server;
    if (server && !guards.get(server)?.has(enforcer)) {
      if (!warnedListenerForm) {
        warnedListenerForm = true;
        process.emitWarning(
          "server.on('upgrade', aseUpgrade(enforcer)) lets the app's other upgrade listeners run before the decision on the first upgrade; use aseUpgrade(server, enforcer)",
          { type: 'DeprecationWarning', code: 'ASE_UPGRADE_LISTENER' },
        );
      }
      guardUpgrades(server, enforcer);
    }
    void enforcer.handleUpgrade(req, socket, head).then((handled) => {
      if (handled || socket.destroyed) return;
      passedSet(enforcer).add(req);
      if (fallback) return fallback(req, socket, head);
      if (!server || appListenerCount(server) === 0) {
        writeUpgradeResponse(socket, textResponse(404, 'Not Found', 'Error: Not Found'));
      }
    });
  };
  if (!fallback) aseListeners.add(listener);
  return listener;
}

/**
 * What `aseUpgrade` of the Express and Koa adapters does with either of its forms:
 * `(server, enforcer)` guards the server; the deprecated `(enforcer, fallback?)` returns a listener.
 * `adapter` names the package in the error for a wrong call.
 */
export function aseUpgradeFor(adapter: string, first: UpgradeServer | Enforcer, second?: Enforcer | UpgradeHandler): (() => void) | UpgradeHandler {
  if (isEnforcer(first)) return upgradeListener(first, second as UpgradeHandler | undefined);
  if (!isEnforcer(second)) throw new TypeError(`${adapter}: aseUpgrade(server, enforcer) needs the HTTP server and an enforcer from createEnforcer()`);
  return guardUpgrades(first, second);
}

function isEnforcer(x: unknown): x is Enforcer {
  return typeof (x as Enforcer | undefined)?.handleUpgrade === 'function';
}
