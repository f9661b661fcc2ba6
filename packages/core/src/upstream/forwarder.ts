import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { RESPONSES } from '../policy/responses';
import { canonicalIp } from '../request/ip-address';
import type { EnforcerRequest, ResponseSpec } from '../types';
import { BackendAgents } from './agents';
import { CLIENT_FORWARDING, DEFAULT_KEPT, connectionDrops } from './header-hygiene';
import type { ServerPool, Upstream } from './server-pool';

/** The server could not be reached: it is marked down, and a bodiless request goes to the next server. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/**
 * The connection broke before an answer (undici says UND_ERR_SOCKET for a backend that closed it).
 * On a keep-alive connection this is usually the backend closing it while idle just as the
 * request went out: a bodiless request is sent once more on a new connection to the same server,
 * which is marked down only if that fails too.
 */
const BROKEN = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);
const TIMEOUT_ERRORS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * What happens to a client's request field, by lower-case name (absent: passed on).
 * DROP: hop-by-hop fields (RFC 9110 §7.6.1) belong to one connection and are never passed on
 * (undici also refuses most of them); `expect` is answered by node's server itself;
 * X-Forwarded-For is rebuilt by the forwarder.
 * FORWARDING: passed on from a trusted proxy only (header-hygiene.ts).
 */
const DROP = 1;
const FORWARDING = 2;
const REQUEST_RULE = new Map<string, number>([
  ...['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect', 'x-forwarded-for'].map((n) => [n, DROP] as const),
  ...[...CLIENT_FORWARDING].map((n) => [n, FORWARDING] as const),
]);
/** Framing of the backend's answer: node's server frames the answer to the client itself. */
const RESPONSE_DROPPED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

export interface ForwardJob {
  request: EnforcerRequest;
  upstream: Upstream;
  /** Path and query to send to the backend (after `internal_url` mapping). */
  forwardPath: string;
  /** Called with the backend's response headers (e.g. to start a sticky session). */
  onResponse?: ((upstream: Upstream, headers: IncomingHttpHeaders) => void) | undefined;
}

export interface ForwarderOptions {
  pool: ServerPool;
  timeoutMs: number;
  /** When true, the client's own X-Forwarded-For chain is passed on (enable_xff); else it is replaced. */
  keepForwardedFor: boolean;
  /** Fields a client's Connection header cannot remove (`policyHeaders(api)`); framing and credentials by default. */
  keptHeaders?: ReadonlySet<string> | undefined;
  /** Whether the socket peer is a trusted proxy, whose forwarding headers are passed on. */
  trustedPeer?: ((peer: string) => boolean) | undefined;
  /** Keep-alive pools shared with the enforcer's other APIs; without it the forwarder has its own. */
  agents?: BackendAgents | undefined;
  /** PEM CA bundle for HTTPS backends when the forwarder has its own pools. */
  ca?: Buffer | undefined;
  onServerDown?: (u: Upstream, error: string) => void;
  /** Seconds from sending to the backend's response headers, once per answered request (the metrics). */
  onTiming?: ((seconds: number) => void) | undefined;
  writeResponse: (res: ServerResponse, spec: ResponseSpec) => void;
}

/**
 * Proxies one API's traffic to its servers over undici's keep-alive pools, driven through its
 * low-level `dispatch` handler so that the backend's answer is written straight onto the client's
 * response (no intermediate stream, no header object unless a sticky session needs one;
 * docs/performance.md), with our own error mapping (502/503/504, no echo of the request) and one
 * retry on another server after a connection error.
 */
export class Forwarder {
  private readonly agents: BackendAgents;
  private readonly ownAgents: boolean;

  constructor(readonly opts: ForwarderOptions) {
    this.ownAgents = opts.agents === undefined;
    this.agents = opts.agents ?? new BackendAgents(opts.ca, opts.timeoutMs);
  }

  forward(req: IncomingMessage, res: ServerResponse, job: ForwardJob): void {
    const ex = new Exchange(this, req, res, job);
    res.once('close', () => ex.clientClosed());
    this.send(ex);
  }

  /** Closes the forwarder's own pools; shared pools belong to their owner. */
  close(): void {
    if (this.ownAgents) this.agents.destroy();
  }

  /** Drops idle keep-alive connections of its own pools; exchanges in flight finish on theirs. */
  closeIdle(): void {
    if (this.ownAgents) void this.agents.close();
  }

  /** One attempt of the exchange, to `ex.current`. */
  send(ex: Exchange): void {
    const u = ex.current;
    ex.reopen();
    const dispatcher: Dispatcher = this.agents.get();
    dispatcher.dispatch(
      {
        origin: u.origin,
        path: ex.job.forwardPath,
        method: ex.req.method ?? 'GET',
        headers: this.requestHeaders(ex),
        body: hasBody(ex.req) ? ex.req : null,
        headersTimeout: this.opts.timeoutMs,
        bodyTimeout: this.opts.timeoutMs,
        // One server name per backend: undici would derive it from each client's Host and, on
        // HTTPS, reconnect whenever it changes. The connector (agents.ts) decides the real one.
        servername: u.host,
      } as Dispatcher.DispatchOptions,
      ex,
    );
  }

  /**
   * The client's header fields as a flat name/value list, minus hop-by-hop ones (never those the
   * policy read) and, unless the peer is a trusted proxy, minus forwarding ones; plus ASE's own
   * X-Forwarded-For, and X-Forwarded-Proto/Host where a trusted proxy did not give them.
   */
  private requestHeaders(ex: Exchange): string[] {
    const raw = ex.req.rawHeaders;
    const r = ex.job.request;
    const dropAlso = connectionDrops(ex.req.headers.connection, this.opts.keptHeaders ?? DEFAULT_KEPT);
    const trusted = this.opts.trustedPeer !== undefined && this.opts.trustedPeer(r.peer);
    let proxyProto = false;
    let proxyHost = false;
    const out: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      const rule = REQUEST_RULE.get(name);
      if (rule === DROP || dropAlso?.has(name)) continue;
      if (rule === FORWARDING) {
        if (!trusted) continue;
        if (name === 'x-forwarded-proto') proxyProto = true;
        else if (name === 'x-forwarded-host') proxyHost = true;
      }
      out.push(raw[i]!, raw[i + 1]!);
    }
    // From a trusted proxy (enable_xff) the chain is extended by the hop we saw; from anyone else a
    // client-supplied chain is replaced, so backends that read the left-most entry cannot be fooled
    // through us.
    let xff = r.ip;
    if (this.opts.keepForwardedFor && trusted) {
      const h = ex.req.headers['x-forwarded-for'];
      const prior = typeof h === 'string' ? h : h?.join(', ');
      const hop = canonicalIp(ex.req.socket.remoteAddress);
      xff = prior ? (hop ? `${prior}, ${hop}` : prior) : hop;
    }
    out.push('x-forwarded-for', xff);
    if (!proxyProto) out.push('x-forwarded-proto', r.protocol === 'https' || r.protocol === 'wss' ? 'https' : 'http');
    if (!proxyHost && r.host) out.push('x-forwarded-host', r.host);
    return out;
  }

  onError(ex: Exchange, err: Error & { code?: string }): void {
    const { res } = ex;
    if (ex.clientGone) return; // nobody to answer; the abort was ours
    if (res.headersSent) {
      // The backend failed mid-answer: nothing sensible can be appended, cut the connection.
      res.destroy();
      return;
    }
    const code = err.code ?? '';
    if (TIMEOUT_ERRORS.has(code)) {
      this.opts.writeResponse(res, RESPONSES.gatewayTimeout());
      return;
    }
    const replayable = ex.attempts < 2 && !hasBody(ex.req);
    if (BROKEN.has(code)) {
      if (replayable) {
        ex.attempts++;
        this.send(ex);
        return;
      }
      if (ex.attempts > 1) {
        // It broke on a new connection too: the server itself fails.
        this.opts.pool.markDown(ex.current);
        this.opts.onServerDown?.(ex.current, code);
      }
      this.opts.writeResponse(res, RESPONSES.badGateway());
      return;
    }
    if (UNREACHABLE.has(code)) {
      this.opts.pool.markDown(ex.current);
      this.opts.onServerDown?.(ex.current, code);
      const next = replayable ? this.opts.pool.pick(ex.current) : undefined;
      if (next) {
        ex.attempts++;
        ex.current = next;
        this.send(ex);
        return;
      }
      this.opts.writeResponse(res, this.opts.pool.pick() ? RESPONSES.badGateway() : RESPONSES.noBackend());
      return;
    }
    this.opts.writeResponse(res, RESPONSES.badGateway());
  }
}

/** One request's way to a backend and back: undici's dispatch handler for it. */
class Exchange implements Dispatcher.DispatchHandler {
  attempts = 1;
  current: Upstream;
  clientGone = false;
  private complete = false;
  private abort: ((err?: Error) => void) | undefined;
  private resume: (() => void) | undefined;
  private readonly onDrain = (): void => this.resume?.();
  private readonly started = performance.now();

  constructor(
    private readonly forwarder: Forwarder,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly job: ForwardJob,
  ) {
    this.current = job.upstream;
  }

  /** A client that leaves (mid-answer too: SSE, long downloads) must not keep the backend busy. */
  clientClosed(): void {
    if (this.complete) return;
    this.clientGone = true;
    this.abort?.();
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abort = abort;
    if (this.clientGone) abort();
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200) return true; // 1xx interim answers: node's server sends its own 100-continue
    this.resume = resume;
    const out: (string | string[])[] = [];
    let setCookie: string[] | undefined;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!.toString('latin1');
      const lower = name.toLowerCase();
      if (RESPONSE_DROPPED.has(lower)) continue;
      const value = rawHeaders[i + 1]!.toString('latin1');
      if (lower === 'set-cookie') {
        // writeHead keeps only the last of repeated names once the framework has set a header.
        if (setCookie) setCookie.push(value);
        else out.push(name, (setCookie = [value]));
        continue;
      }
      out.push(name, value);
    }
    this.forwarder.opts.onTiming?.((performance.now() - this.started) / 1000);
    const { onResponse } = this.job;
    if (onResponse) onResponse(this.current, setCookie ? { 'set-cookie': setCookie } : {});
    this.res.writeHead(statusCode, statusText, out as string[]);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.onDrain);
    return false;
  }

  onComplete(): void {
    this.complete = true;
    this.res.end();
  }

  onError(err: Error): void {
    this.complete = true;
    this.forwarder.onError(this, err); // may dispatch it again (retry), which reopens it
  }

  /** Before each attempt: the exchange is open again and has no connection yet. */
  reopen(): void {
    this.complete = false;
    this.abort = undefined;
  }
}

/** Whether the client sends a body; only a request without one can be sent again after a failure. */
function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const cl = req.headers['content-length'];
  return cl !== undefined && cl !== '0';
}

