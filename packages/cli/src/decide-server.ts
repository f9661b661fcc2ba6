import * as http from 'node:http';
import { type Logger, type SidebandProxy, closeServer, decisionHandler } from '@ase/core';
import { type Gateway, listenAndJoin, openEnforcer } from './gateway';

export interface DecideServerOptions {
  configDir: string;
  /** Port of the decision service; `http_ws_port` of ase.conf when undefined. 0 picks a free port. */
  port?: number | undefined;
  /** Address to listen on; `http_ws_bind` of ase.conf when undefined; `*` = every interface. */
  host?: string | undefined;
  proxy: SidebandProxy;
  /** Envoy's `path_prefix`. */
  pathPrefix?: string | undefined;
  logger: Logger;
  skipInvalidApis?: boolean;
}

/**
 * `ase start --mode decide`: the decision service for nginx, Envoy or Traefik (docs/sideband.md)
 * on the data port, the same configuration directory, lists and cluster as the gateway. The
 * enforcer runs as the middleware does (the proxy, not ASE, routes), and with enable_xff on:
 * every decision request comes from a proxy, so the client address is its X-Forwarded-For,
 * believed only from an address of xff_trusted_proxies (loopback unless ase.conf says otherwise).
 */
export async function startDecideServer(opts: DecideServerOptions): Promise<Gateway> {
  const { enforcer, cluster } = await openEnforcer(opts, { mode: 'middleware', conf: { enable_xff: true } });
  const leave = async (): Promise<void> => {
    await enforcer.close();
    await cluster?.close();
  };
  let server: http.Server;
  try {
    server = http.createServer(decisionHandler(enforcer, { proxy: opts.proxy, pathPrefix: opts.pathPrefix }));
  } catch (err) {
    await leave();
    throw err;
  }
  // Proxies keep connections to their auth service open: a longer keep-alive than Node's 5 s
  // default spares them reconnecting between bursts.
  server.keepAliveTimeout = 65_000;
  const { port: bound, address } = await listenAndJoin(server, opts, enforcer, cluster, async (listening) => {
    if (listening) await closeServer(server, 0);
    await leave();
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await closeServer(server, 5000);
      await leave();
    })());
  return { enforcer, server, port: bound, address, cluster, close };
}
