import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { LiveApis } from '../api/live-apis';
import type { AseConf } from '../config/types';
import type { EnforcerEventSink } from '../events';
import type { ByteMeter } from '../flow/byte-meter';
import { fromNodeRequest } from '../http/node-request';
import { RESPONSES, textResponse } from '../policy/responses';
import { blockedEvent } from '../security-event';
import type { Decision, RawRequest } from '../types';
import { wsForwarding } from './header-hygiene';
import { isWebSocketUpgrade, proxyWebSocket, writeUpgradeResponse, type WsTunnel } from './ws-proxy';

/** What the WebSocket tunnel needs of the enforcer, built once. */
export interface TunnelContext {
  readonly conf: AseConf;
  readonly ca: Buffer | undefined;
  readonly apis: LiveApis;
  readonly events: EnforcerEventSink;
  decide(raw: RawRequest): Decision | Promise<Decision>;
  /** A decision counted in the metrics that the upgrade turned into another. */
  recount(was: Decision, now: Decision): void;
  trustedPeer(peer: string): boolean;
  clientKey(ip: string): string;
}

/**
 * A WebSocket upgrade (the HTTP server's `upgrade` event, which bypasses every framework's
 * middleware): the same pipeline decides, at the upgrade. Resolves true when the socket was
 * answered or tunnelled, false when no API took it (middleware mode), so another upgrade
 * handler of the app may have it.
 */
export function handleUpgrade(tc: TunnelContext, req: IncomingMessage, socket: Duplex, head: Buffer, url: string): Promise<boolean> {
  socket.on('error', () => socket.destroy());
  return Promise.resolve()
    .then(() => tc.decide({ ...fromNodeRequest(req, true), url }))
    .then(
      (d) => {
        // On an API's path only a WebSocket of a `protocol: ws` API reaches the app, as only those are
        // proxied: an h2c connection would carry HTTP/2 requests that no check sees.
        if (d.action !== 'respond' && d.api && (d.api.meta.protocol !== 'ws' || !isWebSocketUpgrade(req.headers.upgrade))) {
          const refused = refuseUpgrade(tc, d);
          tc.recount(d, refused);
          d = refused;
        }
        if (d.action === 'pass') return false;
        if (d.action === 'respond') writeUpgradeResponse(socket, d.response);
        else tunnel(tc, req, socket, head, d);
        return true;
      },
      () => {
        writeUpgradeResponse(socket, textResponse(500, 'Internal Server Error', 'Error: Internal Server Error'));
        return true;
      },
    );
}

/**
 * 400 for an upgrade the API does not carry (an h2c connection, or a WebSocket on a plain HTTP
 * API): refused like a malformed request, and reported as one, since asking for it is a probe.
 */
function refuseUpgrade(tc: TunnelContext, d: Extract<Decision, { action: 'pass' | 'proxy' }>): Decision {
  if (d.action === 'proxy') d.release?.();
  if (d.request && tc.events.listenerCount('blocked') > 0) {
    tc.events.emit('blocked', blockedEvent('malformed', d.api?.id ?? null, { ip: d.request.ip, method: d.request.method, path: d.request.path }, undefined, true));
  }
  return { action: 'respond', reason: 'malformed', api: d.api, response: RESPONSES.malformed() };
}

function tunnel(tc: TunnelContext, req: IncomingMessage, socket: Duplex, head: Buffer, d: Extract<Decision, { action: 'proxy' }>): void {
  if (socket.destroyed) {
    d.release?.(); // the client left while waiting for a slot
    return;
  }
  const rt = tc.apis.get(d.api.id);
  if (!rt || d.api.meta.protocol !== 'ws') {
    // Only `protocol: ws` APIs carry WebSockets; an upgrade elsewhere is not a request they serve.
    d.release?.();
    writeUpgradeResponse(socket, RESPONSES.malformed());
    return;
  }
  const ip = d.request.ip;
  const scheme = d.request.protocol === 'wss' ? 'wss' : 'ws';
  // Metered per client, an IPv6 client by its network: moving inside it does not reset the count.
  const client = tc.clientKey(ip);
  const meter = (m: ByteMeter | undefined, kind: 'bytes_in' | 'bytes_out') =>
    m
      ? (n: number): boolean => {
          if (m.add(client, n)) return true;
          tc.events.emit('flow_control', { kind, api: d.api.id, ip });
          return false;
        }
      : undefined;
  const trusted = tc.trustedPeer(d.request.peer);
  // A chain is extended only when a trusted proxy sent it (as the HTTP forwarder does).
  const forwarded = trusted ? [req.headers['x-forwarded-for'], d.request.peer].flat().filter(Boolean).join(', ') : ip;
  const { omit, own } = wsForwarding(req.headers, rt.keptHeaders, trusted, {
    'x-forwarded-for': forwarded,
    'x-forwarded-proto': scheme === 'wss' ? 'https' : 'http',
    ...(d.request.host ? { 'x-forwarded-host': d.request.host } : {}),
  });
  const tunnel: WsTunnel = proxyWebSocket(
    req,
    socket,
    head,
    {
      host: d.upstream.host,
      port: d.upstream.port,
      ssl: rt.pool.ssl,
      ca: tc.ca,
      path: d.forwardPath,
      headers: own,
      omit,
      timeoutMs: tc.conf.backend_timeout,
    },
    {
      onOpen: () => void rt.tunnels.set(tunnel, scheme),
      onDone: () => {
        rt.tunnels.delete(tunnel);
        d.release?.();
      },
      onClientData: meter(rt.bytesIn, 'bytes_in'),
      onServerData: meter(rt.bytesOut, 'bytes_out'),
    },
  );
}

/** Ends every open WebSocket tunnel. */
export function endTunnels(apis: LiveApis): void {
  for (const rt of apis.runtimes.values()) for (const t of [...rt.tunnels.keys()]) t.close();
}
