import type { IncomingMessage } from 'node:http';
import type { Server } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Enforcer } from '../enforcer';
import { textResponse } from '../policy/responses';
import { writeUpgradeResponse } from '../upstream/ws-proxy';

export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * A listener for the HTTP server's `upgrade` event. Upgrades never pass through Express, Koa or
 * Fastify middleware, so WebSockets are enforced here: the same pipeline decides at the upgrade.
 * An upgrade no API takes goes to `fallback` (the app's own WebSocket server, in `noServer` mode),
 * or is left to the server's other `upgrade` listeners; with neither, it is refused with 404.
 */
export function upgradeListener(enforcer: Enforcer, fallback?: UpgradeHandler): UpgradeHandler {
  return (req, socket, head) => {
    void enforcer.handleUpgrade(req, socket, head).then((handled) => {
      if (handled) return;
      if (fallback) return fallback(req, socket, head);
      const server = (req.socket as unknown as { server?: Server }).server;
      if (!server || server.listenerCount('upgrade') <= 1) {
        writeUpgradeResponse(socket, textResponse(404, 'Not Found', 'Error: Not Found'));
      }
    });
  };
}
