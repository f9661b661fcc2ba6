import * as http from 'node:http';
import * as https from 'node:https';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createProxyMiddleware, type RequestHandler } from 'http-proxy-middleware';
import { RESPONSES } from '../policy/responses';
import { canonicalIp } from '../request/client-ip';
import type { EnforcerRequest, ResponseSpec } from '../types';
import type { ServerPool, Upstream } from './server-pool';

/** Connection errors after which the server is marked down and a bodiless request is retried. */
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EPIPE']);

export interface ForwardJob {
  request: EnforcerRequest;
  upstream: Upstream;
  /** Path and query to send to the backend (after `internal_url` mapping). */
  forwardPath: string;
  /** Called once when the exchange is over, whatever the outcome. */
  onDone?: (outcome: ForwardOutcome) => void;
  /** Called with the backend's response headers (e.g. to start a sticky session). */
  onResponse?: ((upstream: Upstream, headers: IncomingMessage['headers']) => void) | undefined;
}

export type ForwardOutcome = { ok: true; upstream: Upstream; status: number } | { ok: false; upstream: Upstream; status: number; error: string };

/**
 * The exchange rides on the request object itself. A WeakMap keyed by request cost ~15 µs per
 * request under load (its ephemeron table grows and rehashes between collections; docs/performance.md).
 */
const EXCHANGE = Symbol('ase.exchange');
type WithExchange = IncomingMessage & { [EXCHANGE]?: Exchange };

interface Exchange extends ForwardJob {
  attempts: number;
  timedOut: boolean;
  /** The server actually connected to in this attempt (for events). */
  current: Upstream;
  done: boolean;
}

export interface ForwarderOptions {
  pool: ServerPool;
  timeoutMs: number;
  /** PEM CA bundle for HTTPS backends (`server_ca_cert_path`); system CAs when undefined. */
  ca?: Buffer | undefined;
  /** When true, the client's own X-Forwarded-For chain is passed on (enable_xff); else it is replaced. */
  keepForwardedFor: boolean;
  /** Keep-alive pool shared with other APIs (the enforcer's `BackendAgents`); without it the forwarder has its own. */
  agent?: http.Agent | undefined;
  onServerDown?: (u: Upstream, error: string) => void;
  writeResponse: (res: ServerResponse, spec: ResponseSpec) => void;
}

/**
 * Proxies one API's traffic to its servers through http-proxy-middleware (v3, the last line that
 * runs on Node 20), with keep-alive agents, our own error mapping (502/503/504, no echo of the
 * request) and one retry on another server after a connection error.
 */
export class Forwarder {
  private readonly agent: http.Agent;
  private readonly ownAgent: boolean;
  private readonly proxy: RequestHandler<IncomingMessage, ServerResponse>;

  constructor(private readonly opts: ForwarderOptions) {
    const agentOpts = { keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' as const };
    this.ownAgent = opts.agent === undefined;
    this.agent =
      opts.agent ??
      (opts.pool.ssl ? new https.Agent({ ...agentOpts, ...(opts.ca ? { ca: opts.ca } : {}), rejectUnauthorized: true }) : new http.Agent(agentOpts));

    this.proxy = createProxyMiddleware<IncomingMessage, ServerResponse>({
      // `target` is only a placeholder: `router` picks the server of each exchange.
      target: opts.pool.servers[0]?.origin ?? 'http://127.0.0.1:1',
      router: (req) => this.exchange(req).current.origin,
      pathRewrite: (_path, req) => this.exchange(req).forwardPath,
      changeOrigin: false,
      secure: true,
      agent: this.agent,
      ...(opts.ca ? { ca: opts.ca } : {}),
      on: {
        proxyReq: (proxyReq, req) => this.onProxyReq(proxyReq, req),
        proxyRes: (proxyRes, req) => {
          const ex = this.exchange(req);
          ex.onResponse?.(ex.current, proxyRes.headers);
          this.finish(ex, { ok: true, upstream: ex.current, status: proxyRes.statusCode ?? 0 });
        },
        error: (err, req, res) => this.onError(err as NodeJS.ErrnoException, req, res),
      },
    });
  }

  forward(req: IncomingMessage, res: ServerResponse, job: ForwardJob): void {
    (req as WithExchange)[EXCHANGE] = { ...job, attempts: 1, timedOut: false, current: job.upstream, done: false };
    void this.proxy(req, res, (err?: unknown) => {
      // Only reached when router/pathRewrite throw, which they do not; answer rather than hang.
      this.onError((err ?? new Error('proxy failed')) as NodeJS.ErrnoException, req, res);
    });
  }

  /** Closes the forwarder's own pool; a shared pool belongs to its owner. */
  close(): void {
    if (this.ownAgent) this.agent.destroy();
  }

  /** Drops idle keep-alive sockets only (of its own pool); exchanges in flight finish on theirs. */
  closeIdle(): void {
    if (!this.ownAgent) return;
    for (const sockets of Object.values(this.agent.freeSockets)) for (const s of sockets ?? []) s.destroy();
  }

  private exchange(req: IncomingMessage): Exchange {
    const ex = (req as WithExchange)[EXCHANGE];
    if (!ex) throw new Error('request was not prepared by the enforcer');
    return ex;
  }

  private onProxyReq(proxyReq: ClientRequest, req: IncomingMessage): void {
    const ex = this.exchange(req);
    // A client-supplied Trailer header on a request without trailers crashes node's client
    // (node-http-proxy #1647); hop-by-hop framing is the proxy's business, not the client's.
    proxyReq.removeHeader('trailer');
    // With enable_xff the chain is extended by the hop we saw; without it, a client-supplied
    // chain is replaced, so backends that read the left-most entry cannot be fooled through us.
    if (this.opts.keepForwardedFor) {
      const prior = req.headers['x-forwarded-for'];
      const hop = canonicalIp(req.socket.remoteAddress);
      proxyReq.setHeader('x-forwarded-for', [prior, hop].flat().filter(Boolean).join(', '));
    } else {
      proxyReq.setHeader('x-forwarded-for', ex.request.ip);
    }
    proxyReq.setHeader('x-forwarded-proto', ex.request.protocol === 'https' || ex.request.protocol === 'wss' ? 'https' : 'http');
    if (ex.request.host) proxyReq.setHeader('x-forwarded-host', ex.request.host);
    proxyReq.setTimeout(this.opts.timeoutMs, () => {
      ex.timedOut = true;
      proxyReq.destroy(new Error('backend timeout'));
    });
  }

  private onError(err: NodeJS.ErrnoException, req: IncomingMessage, res: ServerResponse | Socket): void {
    const ex = (req as WithExchange)[EXCHANGE];
    if (!ex || !('writeHead' in res)) {
      if (!('writeHead' in res)) res.destroy();
      return;
    }
    if (res.headersSent) {
      // The backend failed mid-answer: nothing sensible can be appended, cut the connection.
      this.finish(ex, { ok: false, upstream: ex.current, status: res.statusCode, error: err.code ?? err.message });
      res.destroy();
      return;
    }
    const code = err.code ?? '';
    if (ex.timedOut) {
      this.fail(ex, res, RESPONSES.gatewayTimeout(), 'timeout');
      return;
    }
    if (CONNECT_ERRORS.has(code)) {
      this.opts.pool.markDown(ex.current);
      this.opts.onServerDown?.(ex.current, code);
      const next = ex.attempts < 2 && replayable(req) ? this.opts.pool.pick(ex.current) : undefined;
      if (next) {
        ex.attempts++;
        ex.current = next;
        void this.proxy(req, res, () => this.fail(ex, res, RESPONSES.badGateway(), code));
        return;
      }
      this.fail(ex, res, this.opts.pool.pick() ? RESPONSES.badGateway() : RESPONSES.noBackend(), code);
      return;
    }
    this.fail(ex, res, RESPONSES.badGateway(), code || 'bad_response');
  }

  private fail(ex: Exchange, res: ServerResponse, spec: ResponseSpec, error: string): void {
    this.finish(ex, { ok: false, upstream: ex.current, status: spec.status, error });
    if (!res.headersSent) this.opts.writeResponse(res, spec);
  }

  private finish(ex: Exchange, outcome: ForwardOutcome): void {
    if (ex.done) return;
    ex.done = true;
    ex.onDone?.(outcome);
  }
}

/** A request can be sent again only if no body bytes were consumed by the failed attempt. */
function replayable(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return false;
  const cl = req.headers['content-length'];
  return cl === undefined || Number(cl) === 0;
}
