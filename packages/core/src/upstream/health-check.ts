import * as http from 'node:http';
import * as https from 'node:https';

export interface HealthTarget {
  /** `host:port` (the pool's `Upstream.id`). */
  id: string;
  host: string;
  port: number;
}

export interface HealthCheckOptions {
  /** `health_check_interval` in ms. */
  intervalMs: number;
  /** `health_retry_count`: consecutive failures before a server is down (at least 1). */
  retryCount: number;
  /** `health_url`: path (and query) requested. */
  path: string;
  /** `health_check_headers`; `%{HOST}` in a value becomes the server's host. */
  headers: Record<string, string>;
  /** `server_ssl`: HTTPS with certificate verification. */
  ssl: boolean;
  /** PEM CA bundle (`server_ca_cert_path`); system CAs when undefined. */
  ca?: Buffer | undefined;
  /** Time a probe has to answer; default min(intervalMs, 5000). */
  timeoutMs?: number;
  /** Where a server starts (the checker this one replaces); up with no failures when undefined. */
  initial?: ((id: string) => HealthState | undefined) | undefined;
}

/** A server's standing in the checks: what a successor checker starts from. */
export interface HealthState {
  healthy: boolean;
  failures: number;
}

interface TargetState {
  target: HealthTarget;
  failures: number;
  healthy: boolean;
  running: Promise<void> | undefined;
}

/** Most response bytes read from a probe before the connection is dropped (the body is not needed). */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * Active health checks of one API's servers (`health_check: true`). Every `intervalMs`, `GET path`
 * to each server; a 2xx or 3xx status within the timeout is a success. `retryCount` consecutive
 * failures make a server down (`onChange(id, false)`, once); one success makes a down server up
 * again (`onChange(id, true)`). Servers start up. Probes use `agent: false` (a fresh connection,
 * closed after), follow no redirects, never throw, and are aborted by `stop()`. The first round
 * runs right after `start()`, the next ones `intervalMs` after the previous round ended (rounds
 * never overlap). The timer is unref'd.
 */
export class HealthChecker {
  private readonly states: TargetState[];
  private readonly inflight = new Set<http.ClientRequest>();
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  /** Bumped by stop(): probes of an older generation do not count. */
  private generation = 0;

  constructor(
    targets: readonly HealthTarget[],
    private readonly opts: HealthCheckOptions,
    private readonly onChange: (id: string, healthy: boolean) => void,
  ) {
    this.states = targets.map((target) => {
      const from = opts.initial?.(target.id);
      return { target, failures: from?.failures ?? 0, healthy: from?.healthy ?? true, running: undefined };
    });
  }

  state(id: string): HealthState | undefined {
    const s = this.states.find((t) => t.target.id === id);
    return s && { healthy: s.healthy, failures: s.failures };
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(0);
  }

  /** Stops the timer and aborts probes in flight. `start()` may be called again. */
  stop(): void {
    this.started = false;
    this.generation++;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const req of this.inflight) req.destroy();
    this.inflight.clear();
    for (const s of this.states) s.running = undefined;
  }

  /** Current view: false once a server has failed `retryCount` probes in a row. */
  isHealthy(id: string): boolean {
    return this.states.find((s) => s.target.id === id)?.healthy ?? true;
  }

  /** Probes every server once (a server whose probe is still running is not probed twice). */
  async checkOnce(): Promise<void> {
    await Promise.all(this.states.map((s) => (s.running ??= this.checkTarget(s))));
  }

  private schedule(delay: number): void {
    if (!this.started) return;
    const gen = this.generation;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.checkOnce().then(() => {
        if (this.started && gen === this.generation) this.schedule(Math.max(1, this.opts.intervalMs));
      });
    }, delay);
    this.timer.unref();
  }

  private async checkTarget(s: TargetState): Promise<void> {
    const gen = this.generation;
    let ok = false;
    try {
      ok = await this.probe(s.target);
    } catch {
      ok = false;
    }
    if (gen !== this.generation) return; // stopped meanwhile: an aborted probe says nothing
    s.running = undefined;
    if (ok) {
      s.failures = 0;
      if (!s.healthy) {
        s.healthy = true;
        this.notify(s.target.id, true);
      }
      return;
    }
    s.failures++;
    if (s.healthy && s.failures >= Math.max(1, this.opts.retryCount)) {
      s.healthy = false;
      this.notify(s.target.id, false);
    }
  }

  private notify(id: string, healthy: boolean): void {
    try {
      this.onChange(id, healthy);
    } catch {
      // a listener's failure must not stop the checks
    }
  }

  /** One GET; resolves true for 2xx/3xx within the timeout, false otherwise. Never rejects. */
  private probe(t: HealthTarget): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      let settled = false;
      let req: http.ClientRequest | undefined;
      let timer: NodeJS.Timeout | undefined;
      const done = (ok: boolean): void => {
        if (!settled) {
          settled = true;
          resolve(ok);
        }
      };
      const cleanup = (): void => {
        if (timer) clearTimeout(timer);
        if (req) {
          this.inflight.delete(req);
          req.destroy();
        }
      };
      try {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(this.opts.headers)) headers[k] = String(v).split('%{HOST}').join(t.host);
        const options: https.RequestOptions = {
          host: t.host,
          port: t.port,
          path: this.opts.path || '/',
          method: 'GET',
          headers,
          agent: false,
          ...(this.opts.ssl ? { rejectUnauthorized: true, ...(this.opts.ca ? { ca: this.opts.ca } : {}) } : {}),
        };
        req = (this.opts.ssl ? https : http).request(options);
        this.inflight.add(req);
        const timeoutMs = this.opts.timeoutMs ?? Math.min(this.opts.intervalMs, 5000);
        timer = setTimeout(() => {
          done(false);
          cleanup();
        }, Math.max(1, timeoutMs));
        timer.unref();
        req.on('response', (res) => {
          const status = res.statusCode ?? 0;
          done(status >= 200 && status < 400);
          let seen = 0;
          res.on('data', (chunk: Buffer) => {
            seen += chunk.length;
            if (seen > MAX_BODY_BYTES) cleanup();
          });
          res.on('end', cleanup);
          res.on('error', cleanup);
        });
        req.on('error', () => {
          done(false);
          cleanup();
        });
        req.on('close', () => {
          done(false);
          cleanup();
        });
        req.end();
      } catch {
        // invalid header value, bad host...: a failed probe, never an exception
        done(false);
        cleanup();
      }
    });
  }
}
