import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Enforcer, closeServer, listenOn } from '@ase/core';
import { type AdminApi, hostPolicy, toAdmin } from './admin';
import { defaultAllowedHosts } from './allowed-hosts';
import type { AdminOptions } from './types';

export interface AdminServerOptions {
  /** Port; `management_port` of ase.conf (8010) when undefined. 0 picks a free port. */
  port?: number | undefined;
  /** Address to bind; `management_bind` of ase.conf (127.0.0.1) when undefined. */
  host?: string | undefined;
  /**
   * Host names and addresses answered to (421 for others, before authentication). Defaults to the
   * admin API's own `allowedHosts`, else `localhost`, 127.0.0.1, ::1, the bound address (every
   * interface's when bound to 0.0.0.0 or ::) and `management_allowed_hosts`. `false` or `['*']`: no check.
   */
  allowedHosts?: readonly string[] | false;
  /** Used when an enforcer (not an AdminApi) is given. */
  adminOptions?: AdminOptions;
}

export interface AdminServer {
  admin: AdminApi;
  server: http.Server;
  /** The port really listened on. */
  port: number;
  host: string;
  /** Stops listening, drops idle connections, and closes the admin API's audit file. */
  close(): Promise<void>;
}

/**
 * The standalone management listener: `/v4/ase/...` on its own port, bound to the loopback
 * interface unless `management_bind` (or `host`) says otherwise. Everything else gets 404. It answers
 * only to its own names (see `allowedHosts`), so a web page cannot reach it through DNS rebinding.
 */
export async function startAdminServer(target: AdminApi | Enforcer, opts: AdminServerOptions = {}): Promise<AdminServer> {
  const admin = toAdmin(target, opts.adminOptions);
  const conf = admin.enforcer.conf;
  const port = opts.port ?? conf.management_port;
  const host = opts.host ?? conf.management_bind;
  const hosts = hostPolicy(opts.allowedHosts) ?? admin.hostPolicy ?? hostPolicy(defaultAllowedHosts(host, conf.management_allowed_hosts));
  const server = http.createServer((req, res) => {
    admin.handleNode(req, res, { hosts }).catch((err: unknown) => {
      admin.enforcer.logger.error(`management API: ${(err as Error).message}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      res.end('{"status":"fail","status_message":"unknown error"}');
    });
  });
  // What Node refuses before a request exists (a head over 16 KB, a malformed one) is answered in the
  // management API's envelope too, not with Node's bare status line.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const [status, message] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? ['431 Request Header Fields Too Large', 'request head too large']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? ['408 Request Timeout', 'request timeout']
          : ['400 Bad Request', 'malformed request'];
    const body = JSON.stringify({ status: 'fail', status_message: message });
    socket.end(`HTTP/1.1 ${status}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  // Management calls are small: slow or idle clients do not get to hold sockets for long.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  await listenOn(server, port, host);
  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await closeServer(server, 2000);
      await admin.close();
    })());
  return { admin, server, port: bound, host, close };
}
