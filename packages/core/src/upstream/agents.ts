import { isIP } from 'node:net';
import type { Agent } from 'undici';

let undici: typeof import('undici') | undefined;

/**
 * undici, loaded on first use: its hundred modules were a tenth of `ase start`'s time to ready.
 * The gateway loads it just after its ready line, so the first proxied request does not wait for it.
 */
export function loadUpstreamClient(): typeof import('undici') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (undici ??= require('undici') as typeof import('undici'));
}

/** Per backend origin: at most this many connections at once. */
const MAX_CONNECTIONS_PER_ORIGIN = 1024;

/**
 * Keep-alive connection pools to the backends (undici's Agent: one pool per origin), shared by
 * every API of an enforcer, so APIs served by the same backend reuse each other's connections.
 * With a pool per API, 50 APIs on one backend each kept a few connections of their own; under load
 * the rarely used ones idled past the backend's keep-alive timeout and were reopened, one new TCP
 * connection for every six requests (docs/performance.md).
 */
export class BackendAgents {
  private agent: Agent | undefined;

  /**
   * `ca`: PEM bundle for HTTPS backends (`server_ca_cert_path`); system CAs when undefined.
   * `connectTimeoutMs`: a backend that does not accept the connection within it is a timeout (504).
   */
  constructor(
    private readonly ca: Buffer | undefined,
    private readonly connectTimeoutMs: number,
  ) {}

  get(): Agent {
    if (this.agent) return this.agent;
    const { Agent, buildConnector } = loadUpstreamClient();
    const connect = buildConnector({ timeout: this.connectTimeoutMs, rejectUnauthorized: true, ...(this.ca ? { ca: this.ca } : {}) });
    return (this.agent = new Agent({
      connections: MAX_CONNECTIONS_PER_ORIGIN,
      // An HTTPS backend is verified as the server configured, never as the Host a client names:
      // undici would take the TLS server name from the Host header (the forwarder passes the
      // client's). An IP address gets no server name (RFC 6066) and is checked against the address.
      connect: (opts, callback) => connect({ ...opts, servername: isIP(opts.hostname) ? undefined : opts.hostname }, callback),
    }));
  }

  /** Lets exchanges in flight finish, then closes every connection. */
  close(): Promise<void> {
    const a = this.agent;
    this.agent = undefined;
    return a ? a.close() : Promise.resolve();
  }

  /** Closes every pooled connection now (enforcer shutdown). */
  destroy(): void {
    const a = this.agent;
    this.agent = undefined;
    void a?.destroy().catch(() => undefined);
  }
}
