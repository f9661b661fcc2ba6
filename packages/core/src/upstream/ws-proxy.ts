import * as http from 'node:http';
import * as https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { RESPONSES, type ResponseSpec } from '../policy/responses';
import { closeFrame, FrameTracker } from './ws-frames';
import { endThenDestroy, relayRefusal, writeUpgradeResponse } from './upgrade-answers';

export { closeFrame, FrameTracker } from './ws-frames';
export { MAX_REFUSAL_BODY, writeUpgradeRefusal, writeUpgradeResponse } from './upgrade-answers';

/**
 * WebSocket proxying (`protocol: ws`) without a WebSocket library: the upgrade request is sent to
 * the backend, and only once it answered `101 Switching Protocols` are bytes relayed both ways.
 *
 * Smuggling defences (security-notes: websocket-smuggle, RFC 9931):
 * - Nothing the client sent after its upgrade request (`head`, later socket data) reaches the
 *   backend before the backend's 101; the client socket stays paused until then.
 * - Any other answer (426, 403, 200, a 1xx other than 101...) is passed back to the client with
 *   `Connection: close` and both connections are closed: a tunnel is never kept on a non-101.
 * - `Content-Length` / `Transfer-Encoding` of the upgrade request are not forwarded.
 * - Only `Upgrade: websocket` is proxied (an `h2c` or other upgrade gets 400, h2csmuggler), and a
 *   101 whose `Upgrade` is not `websocket` is treated as a bad answer (502).
 *
 * Byte budgets: `onClientData(n)` / `onServerData(n)` are asked for every chunk before it is
 * relayed; `false` ends the session with a WebSocket close frame, code 1008 (policy violation), to
 * the client. The frame is only inserted on a frame boundary of the backend→client stream: if the
 * backend is in the middle of a frame, the rest of that frame is relayed first when it is at most
 * {@link POLICY_CLOSE_MAX_TAIL} bytes and arrives within {@link POLICY_CLOSE_GRACE_MS}; otherwise
 * both connections are cut without a close frame (the client sees 1006), so a budget is never
 * overrun by more than that tail.
 */

export interface WsTarget {
  host: string;
  port: number;
  ssl: boolean;
  /** PEM CA bundle for `wss` backends; system CAs when undefined. Verification is always on. */
  ca?: Buffer | undefined;
  /** Path and query sent to the backend (after `internal_url` mapping). */
  path: string;
  /** Set on the upstream request, overriding the client's (e.g. `x-forwarded-for`). */
  headers?: Record<string, string> | undefined;
  /** Client request fields (lower case) not passed on: hop-by-hop by its Connection header, or forged forwarding fields. */
  omit?: ReadonlySet<string> | undefined;
  /** Time the backend has to answer the upgrade; default {@link DEFAULT_UPGRADE_TIMEOUT_MS}. */
  timeoutMs?: number | undefined;
}

export interface WsHooks {
  /** The tunnel is open (backend answered 101). */
  onOpen?(): void;
  /** The tunnel is closed; called once, and only after onOpen. */
  onClose?(): void;
  /**
   * The exchange is over, whatever the outcome (tunnel closed, upgrade refused by the backend,
   * backend unreachable, timeout). Called exactly once: release the server slot here.
   */
  onDone?(): void;
  /** `n` bytes from the client; false → close 1008. */
  onClientData?(n: number): boolean;
  /** `n` bytes from the backend; false → close 1008. */
  onServerData?(n: number): boolean;
}

export interface WsTunnel {
  /** Ends the session now (both sockets destroyed); e.g. on shutdown. */
  close(): void;
}

export const DEFAULT_UPGRADE_TIMEOUT_MS = 10_000;
/** How long a policy close waits for the backend's current frame to end before cutting. */
export const POLICY_CLOSE_GRACE_MS = 1000;
/** Most bytes of an unfinished backend frame relayed after a budget was exceeded. */
export const POLICY_CLOSE_MAX_TAIL = 64 * 1024;

/** Request headers not forwarded as they are (hop-by-hop, or a body that must not follow an upgrade). */
const DROP_REQUEST_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'content-length',
  'upgrade',
  'http2-settings',
]);


/** Proxies one upgrade request to `target`. Never throws; errors end the connections. */
export function proxyWebSocket(req: IncomingMessage, clientSocket: Duplex, head: Buffer, target: WsTarget, hooks: WsHooks = {}): WsTunnel {
  let upReq: http.ClientRequest | undefined;
  let upSocket: Duplex | undefined;
  let phase: 'connecting' | 'refusing' | 'open' | 'done' = 'connecting';
  let timer: NodeJS.Timeout | undefined;
  let over = false;

  const safe = <A extends unknown[], R>(fn: ((...a: A) => R) | undefined, fallback: R, ...args: A): R => {
    if (!fn) return fallback;
    try {
      return fn(...args);
    } catch {
      return fallback;
    }
  };

  const finished = (): void => {
    if (over) return;
    over = true;
    safe(hooks.onDone?.bind(hooks), undefined);
  };

  const destroyAll = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const wasOpen = phase === 'open';
    phase = 'done';
    upReq?.destroy();
    upSocket?.destroy();
    clientSocket.destroy();
    if (wasOpen) safe(hooks.onClose?.bind(hooks), undefined);
    finished();
  };

  const refuse = (spec: ResponseSpec): void => {
    if (phase !== 'connecting') return;
    phase = 'done';
    if (timer) clearTimeout(timer);
    upReq?.destroy();
    upSocket?.destroy();
    writeUpgradeResponse(clientSocket, spec);
    finished();
  };

  const tunnel: WsTunnel = { close: destroyAll };

  try {
    clientSocket.on('error', destroyAll);
    clientSocket.pause();
    clientSocket.once('close', () => {
      if (phase === 'connecting' || phase === 'refusing') destroyAll();
    });

    if (!isWebSocketUpgrade(req.headers.upgrade)) {
      refuse(RESPONSES.malformed());
      return tunnel;
    }

    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || DROP_REQUEST_HEADERS.has(k) || target.omit?.has(k)) continue;
      headers[k] = v;
    }
    for (const [k, v] of Object.entries(target.headers ?? {})) headers[k.toLowerCase()] = v;
    headers['connection'] = 'Upgrade';
    headers['upgrade'] = 'websocket';

    const options: https.RequestOptions = {
      host: target.host,
      port: target.port,
      path: target.path || '/',
      method: 'GET',
      headers,
      agent: false,
      // The backend is verified as the server configured: node would take the TLS server name
      // from the client's Host header. An IP address gets none (RFC 6066): '' says so.
      ...(target.ssl ? { rejectUnauthorized: true, servername: isIP(target.host) ? '' : target.host, ...(target.ca ? { ca: target.ca } : {}) } : {}),
    };
    upReq = (target.ssl ? https : http).request(options);
    // Bounds the wait for the backend's answer, and the relay of a refusal.
    timer = setTimeout(
      () => (phase === 'connecting' ? refuse(RESPONSES.gatewayTimeout()) : destroyAll()),
      Math.max(1, target.timeoutMs ?? DEFAULT_UPGRADE_TIMEOUT_MS),
    );
    timer.unref();

    upReq.on('error', () => {
      if (phase === 'connecting') refuse(RESPONSES.badGateway());
      else if (phase !== 'done') destroyAll();
    });

    upReq.on('response', (res) => {
      // Not an upgrade: relay the answer, then close. The client's pending bytes are never read.
      if (phase !== 'connecting') {
        res.destroy();
        return;
      }
      phase = 'refusing';
      relayRefusal(res, clientSocket, () => {
        if (timer) clearTimeout(timer);
        phase = 'done';
        upReq?.destroy();
        finished();
      });
    });

    upReq.on('upgrade', (res, socket, upHead) => {
      upSocket = socket;
      socket.on('error', destroyAll);
      if (phase !== 'connecting') {
        socket.destroy();
        return;
      }
      if (res.statusCode !== 101 || !isWebSocketUpgrade(res.headers.upgrade)) {
        // Node only reports 101 here; be certain anyway, and of the protocol switched to.
        refuse(RESPONSES.badGateway());
        return;
      }
      if (timer) clearTimeout(timer);
      timer = undefined;
      phase = 'open';
      openTunnel(res, socket, upHead);
    });

    upReq.end();
  } catch {
    refuse(RESPONSES.badGateway());
  }

  function openTunnel(res: IncomingMessage, up: Duplex, upHead: Buffer): void {
    for (const s of [clientSocket, up]) {
      const sock = s as Duplex & { setNoDelay?: (b: boolean) => void; setTimeout?: (ms: number) => void };
      sock.setNoDelay?.(true);
      sock.setTimeout?.(0);
    }
    const lines = ['HTTP/1.1 101 Switching Protocols'];
    const raw = res.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
    clientSocket.write(`${lines.join('\r\n')}\r\n\r\n`);
    safe(hooks.onOpen?.bind(hooks), undefined);

    const frames = new FrameTracker();
    let closing = false;
    let closed = false;
    /** Bytes relayed to the client since the policy close started (finishing the current frame). */
    let tail = 0;

    const finishPolicyClose = (): void => {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      up.pause();
      clientSocket.pause();
      endThenDestroy(clientSocket, closeFrame(1008, 'Policy Violation'));
      endThenDestroy(up);
    };

    const policyClose = (): void => {
      if (closing) return;
      closing = true;
      clientSocket.pause();
      if (frames.atBoundary) {
        finishPolicyClose();
        return;
      }
      if (frames.pendingPayload > POLICY_CLOSE_MAX_TAIL) {
        destroyAll();
        return;
      }
      timer = setTimeout(destroyAll, POLICY_CLOSE_GRACE_MS);
      timer.unref();
    };

    /** Backend → client. While closing, only the rest of the current frame is relayed. */
    const fromServer = (chunk: Buffer): void => {
      if (phase !== 'open' || closed) return;
      if (!closing && !safe(hooks.onServerData?.bind(hooks), true, chunk.length)) policyClose();
      if (closed || phase !== 'open') return;
      if (closing) {
        const n = frames.feed(chunk, true);
        tail += n < 0 ? chunk.length : n;
        if (tail > POLICY_CLOSE_MAX_TAIL + 14) {
          destroyAll();
          return;
        }
        if (n < 0) {
          clientSocket.write(chunk);
          return;
        }
        if (n > 0) clientSocket.write(chunk.subarray(0, n));
        finishPolicyClose();
        return;
      }
      frames.feed(chunk);
      if (!clientSocket.write(chunk)) {
        up.pause();
        clientSocket.once('drain', () => {
          if (!closed) up.resume();
        });
      }
    };

    /** Client → backend. Nothing more is relayed once a policy close started. */
    const fromClient = (chunk: Buffer): void => {
      if (phase !== 'open' || closing) return;
      if (!safe(hooks.onClientData?.bind(hooks), true, chunk.length)) {
        policyClose();
        return;
      }
      if (!up.write(chunk)) {
        clientSocket.pause();
        up.once('drain', () => {
          if (!closing) clientSocket.resume();
        });
      }
    };

    up.on('data', fromServer);
    clientSocket.on('data', fromClient);
    // A half-close is passed on; a full close of either side ends the other.
    up.on('end', () => {
      if (!closing) clientSocket.end();
    });
    clientSocket.on('end', () => {
      if (!closing) up.end();
    });
    up.on('close', () => onSideClosed(clientSocket));
    clientSocket.on('close', () => onSideClosed(up));

    function onSideClosed(other: Duplex): void {
      if (phase !== 'open') return;
      phase = 'done';
      if (timer) clearTimeout(timer);
      timer = undefined;
      endThenDestroy(other);
      safe(hooks.onClose?.bind(hooks), undefined);
      finished();
    }

    if (upHead.length > 0) fromServer(upHead);
    if (head.length > 0) fromClient(head);
    // The backend side keeps flowing while a policy close waits for its current frame to end.
    if (!closed) up.resume();
    if (!closing) clientSocket.resume();
  }

  return tunnel;
}

/** `Upgrade: websocket` and nothing else (`h2c` would turn the connection into HTTP/2 no check sees). */
export function isWebSocketUpgrade(v: string | undefined): boolean {
  return typeof v === 'string' && v.trim().toLowerCase() === 'websocket';
}
