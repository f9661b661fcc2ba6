import * as http from 'node:http';
import * as https from 'node:https';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { type UrlWithStringQuery, parse as parseUrl } from 'node:url';
import httpProxy from 'http-proxy';
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

/** The per-call options handed to http-proxy; it passes them back with its `proxyReq` event. */
interface CallOptions extends httpProxy.ServerOptions {
  aseExchange: Exchange;
}

/**
 * Proxies one API's traffic to its servers with node-http-proxy (the engine of
 * http-proxy-middleware, used directly: per-call options carry the exchange, so nothing is attached
 * to the request and no per-request router runs; docs/performance.md), over keep-alive agents, with
 * our own error mapping (502/503/504, no echo of the request) and one retry on another server after
 * a connection error.
 */
export class Forwarder {
  private readonly agent: http.Agent;
  private readonly ownAgent: boolean;
  private readonly proxy: httpProxy<IncomingMessage, ServerResponse>;
  /** Parsed once per server: http-proxy would parse a string target on every request. */
  private readonly targets = new Map<string, UrlWithStringQuery>();

  constructor(private readonly opts: ForwarderOptions) {
    const agentOpts = { keepAlive: true, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' as const };
    this.ownAgent = opts.agent === undefined;
    this.agent =
      opts.agent ??
      (opts.pool.ssl ? new https.Agent({ ...agentOpts, ...(opts.ca ? { ca: opts.ca } : {}), rejectUnauthorized: true }) : new http.Agent(agentOpts));

    this.proxy = httpProxy.createProxyServer<IncomingMessage, ServerResponse>({
      changeOrigin: false,
      secure: true,
      agent: this.agent,
      ...(opts.ca ? { ca: opts.ca } : {}),
    });
    this.proxy.on('proxyReq', (proxyReq, req, _res, options) => this.onProxyReq(proxyReq, req, (options as CallOptions).aseExchange));
    this.proxy.on('proxyRes', (proxyRes, _req, res) => {
      // A client that leaves mid-answer (SSE, long downloads) must not keep the backend stream open.
      res.once('close', () => {
        if (!res.writableEnded) proxyRes.destroy();
      });
    });
  }

  forward(req: IncomingMessage, res: ServerResponse, job: ForwardJob): void {
    this.send(req, res, { ...job, attempts: 1, timedOut: false, current: job.upstream, done: false });
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

  /** One attempt of the exchange, to `ex.current`. */
  private send(req: IncomingMessage, res: ServerResponse, ex: Exchange): void {
    req.url = ex.forwardPath; // http-proxy sends req.url
    const options: CallOptions = { target: this.target(ex.current), aseExchange: ex };
    this.proxy.web(req, res, options, (err) => this.onError(err as NodeJS.ErrnoException, req, res, ex));
  }

  private target(u: Upstream): UrlWithStringQuery {
    let t = this.targets.get(u.origin);
    if (!t) this.targets.set(u.origin, (t = parseUrl(u.origin)));
    return t;
  }

  private onProxyReq(proxyReq: ClientRequest, req: IncomingMessage, ex: Exchange): void {
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
    if (ex.onResponse || ex.onDone) {
      proxyReq.once('response', (proxyRes: IncomingMessage) => {
        ex.onResponse?.(ex.current, proxyRes.headers);
        this.finish(ex, { ok: true, upstream: ex.current, status: proxyRes.statusCode ?? 0 });
      });
    }
  }

  private onError(err: NodeJS.ErrnoException, req: IncomingMessage, res: ServerResponse, ex: Exchange): void {
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
        this.send(req, res, ex);
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
