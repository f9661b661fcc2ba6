import type { ServerJson } from '../config/types';

/** One backend server of an API. */
export interface Upstream {
  /** `host:port`, the identity the management API uses. */
  readonly id: string;
  readonly host: string;
  readonly port: number;
  /** Origin used for proxying (`http://127.0.0.1:8080`). */
  readonly origin: string;
  readonly json: ServerJson;
  /** Down until this time (epoch ms) after a connection error; 0 when not passively down. */
  passiveDownUntil: number;
  /** Set by health checks: false while the server fails them. */
  healthy: boolean;
}

export function serverId(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The servers of one API and the round-robin cursor over the usable ones. A server is usable when
 * health checks have not marked it down and no recent connection error did.
 */
export class ServerPool {
  readonly servers: Upstream[];
  private cursor = 0;

  constructor(
    servers: readonly ServerJson[],
    readonly ssl: boolean,
    private readonly downTimeMs: number,
  ) {
    const scheme = ssl ? 'https' : 'http';
    this.servers = servers.map((s) => ({
      id: serverId(s.host, s.port),
      host: s.host,
      port: s.port,
      origin: `${scheme}://${serverId(s.host, s.port)}`,
      json: s,
      passiveDownUntil: 0,
      healthy: true,
    }));
  }

  get size(): number {
    return this.servers.length;
  }

  isUsable(u: Upstream, now = Date.now()): boolean {
    return u.healthy && u.passiveDownUntil <= now;
  }

  /** Next usable server after the cursor, skipping `exclude`; undefined when none is usable. */
  pick(exclude?: Upstream): Upstream | undefined {
    const n = this.servers.length;
    const now = Date.now();
    for (let i = 0; i < n; i++) {
      const u = this.servers[(this.cursor + i) % n]!;
      if (u !== exclude && this.isUsable(u, now)) {
        this.cursor = (this.cursor + i + 1) % n;
        return u;
      }
    }
    return undefined;
  }

  /** A connection error: skip this server for `server_down_time`, unless health checks decide sooner. */
  markDown(u: Upstream): void {
    u.passiveDownUntil = Date.now() + this.downTimeMs;
  }

  find(id: string): Upstream | undefined {
    return this.servers.find((s) => s.id === id);
  }
}
