import * as http from 'node:http';
import * as https from 'node:https';

/** Per backend (host:port): at most this many connections at once, and this many kept idle. */
const AGENT_OPTIONS = { keepAlive: true, maxSockets: 1024, maxFreeSockets: 256, scheduling: 'lifo' as const };

/**
 * Keep-alive connection pools to the backends, one per scheme, shared by every API of an enforcer.
 * Node's agents pool by host:port, so APIs served by the same backend reuse each other's connections.
 * With an agent per API, 50 APIs on one backend each kept a few sockets of their own; under load the
 * rarely used ones idled past the backend's keep-alive timeout and were reopened, one new TCP
 * connection for every six requests (docs/performance.md).
 */
export class BackendAgents {
  private plain: http.Agent | undefined;
  private tls: https.Agent | undefined;

  /** `ca`: PEM bundle for HTTPS backends (`server_ca_cert_path`); system CAs when undefined. */
  constructor(private readonly ca: Buffer | undefined) {}

  get(ssl: boolean): http.Agent {
    if (ssl) return (this.tls ??= new https.Agent({ ...AGENT_OPTIONS, ...(this.ca ? { ca: this.ca } : {}), rejectUnauthorized: true }));
    return (this.plain ??= new http.Agent(AGENT_OPTIONS));
  }

  /** Closes every pooled connection (enforcer shutdown). */
  destroy(): void {
    this.plain?.destroy();
    this.tls?.destroy();
  }
}
