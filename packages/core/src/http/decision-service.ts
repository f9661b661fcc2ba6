import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Enforcer } from '../enforcer';
import { extractIdentifiers } from '../identity/identifiers';
import { maskedClient } from '../identity/masked-client';
import { textResponse } from '../policy/responses';
import { TrustedProxies } from '../request/trusted-proxies';
import type { Decision, RawRequest, ResponseSpec } from '../types';
import { PendingAnswers } from './pending-answers';

/** The proxies whose "may this request pass?" question the decision service answers. */
export const SIDEBAND_PROXIES = ['nginx', 'envoy', 'traefik'] as const;
export type SidebandProxy = (typeof SIDEBAND_PROXIES)[number];

export interface DecisionServiceOptions {
  /** Which proxy asks, and so which headers carry the original request (default nginx). */
  proxy?: SidebandProxy;
  /** Envoy: the `path_prefix` of its `http_service`, removed from the path before deciding. */
  pathPrefix?: string;
}

/** A request listener with the tables it keeps, for the stats. */
export type DecisionHandler = ((req: IncomingMessage, res: ServerResponse) => void) & {
  readonly proxy: SidebandProxy;
  /** Refusals nginx has still to fetch (nginx only; bounded, see pending-answers.ts). */
  readonly pendingAnswers: PendingAnswers;
};

/**
 * Where each proxy puts the original request. A name is read only in the mode that names it:
 * behind nginx a client's own X-Forwarded-Uri is just another header. `undefined`: the decision
 * request's own method, target or Host is the original's (Envoy sends the request as it came).
 */
const SHAPES: Record<SidebandProxy, { method?: string; uri?: string; host?: string }> = {
  nginx: { method: 'x-original-method', uri: 'x-original-uri' },
  traefik: { method: 'x-forwarded-method', uri: 'x-forwarded-uri', host: 'x-forwarded-host' },
  envoy: {},
};

/** The header nginx's error page sends the ticket of a refusal back in. */
const ANSWER_HEADER = 'x-ase-answer';

const MISCONFIGURED = textResponse(500, 'Internal Server Error', 'Error: Decision Request Incomplete');
const FAILED = textResponse(500, 'Internal Server Error', 'Error: Internal Server Error');
const NO_ANSWER = textResponse(403, 'Forbidden', 'Error: Forbidden');

/**
 * The decision service (docs/sideband.md): a Node request listener answering the "may this
 * request pass?" question of nginx `auth_request`, Envoy `ext_authz` (HTTP service) and Traefik
 * `ForwardAuth` with the enforcer's own decision.
 *
 * - Pass (no API matched, or the API lets it through): 200, empty, with the identity headers
 *   `X-ASE-Decision: pass`, `X-ASE-API` (the API's id, empty when none matched),
 *   `X-ASE-Client-IP` (the client address the decision used; empty when none matched) and
 *   `X-ASE-Client` (the client's strongest identifier, masked: `token:eyJh****`, see
 *   masked-client.ts; empty when none matched). The firewall's reading of the identifiers rides
 *   on the decision; with the firewall off they are read here (no user name is then trusted).
 * - Any other decision (a block, a decoy's answer, a rate limit, ...), Envoy and Traefik: the
 *   answer itself (they serve it to the client), plus `X-ASE-Decision: block|decoy`. An answer
 *   with a 2xx status (a decoy answering 200) would read as "pass" to them: it goes out as 403,
 *   its status in `X-ASE-Status`.
 * - nginx reads only 2xx/401/403 and drops the body: 403 with `X-ASE-Status` and a one-time
 *   ticket `X-ASE-Answer`; nginx's error page asks again with that header and gets the answer.
 *
 * The client address is the enforcer's: X-Forwarded-For is walked only when the decision
 * request comes from an `xff_trusted_proxies` address with `enable_xff=true`; X-Forwarded-Proto
 * is read under the same condition. A decision request without the headers of its proxy, or
 * with two copies of one, is answered 500 (fail closed) and logged once.
 */
export function decisionHandler(enforcer: Enforcer, options: DecisionServiceOptions = {}): DecisionHandler {
  const proxy = options.proxy ?? 'nginx';
  if (!(SIDEBAND_PROXIES as readonly string[]).includes(proxy)) throw new TypeError(`decisionHandler: proxy must be one of ${SIDEBAND_PROXIES.join(', ')} (got "${String(proxy)}")`);
  const shape = SHAPES[proxy];
  const prefix = proxy === 'envoy' ? (options.pathPrefix ?? '').replace(/\/+$/, '') : '';
  const trusted = new TrustedProxies(enforcer.conf.xff_trusted_proxies);
  const enableXff = enforcer.conf.enable_xff;
  // Every decision request comes from the same few proxies: their trust is looked up once each.
  let lastPeer: string | undefined;
  let lastPeerTrusted = false;
  const fromTrustedProxy = (peer: string | undefined): boolean => {
    if (peer !== lastPeer) {
      lastPeerTrusted = enableXff && peer !== undefined && trusted.has(peer);
      lastPeer = peer;
    }
    return lastPeerTrusted;
  };
  if (!enableXff) {
    enforcer.logger.warn(
      'decision service: enable_xff is false, so every client shares the address of the proxy asking; one decoy hit would block them all. Set enable_xff=true (the proxy must be in xff_trusted_proxies).',
    );
  }
  const answers = new PendingAnswers();
  const warned = new Set<string>();
  const misconfigured = (res: ServerResponse, why: string): void => {
    if (!warned.has(why)) {
      warned.add(why);
      enforcer.logger.warn(`decision service (${proxy}): ${why}; answering 500 (docs/sideband.md has the configuration)`);
    }
    writeSpec(res, MISCONFIGURED, undefined);
  };

  const answer = (req: IncomingMessage, res: ServerResponse, decision: Decision): void => {
    if (decision.action !== 'respond') {
      if (decision.action === 'proxy') decision.release?.(); // the proxy routes; the slot only guarded the decision
      const api = decision.api;
      const request = decision.request;
      const ip = request?.ip ?? '';
      const client = api && request ? maskedClient(request.identifiers ?? extractIdentifiers(api, request)) : '';
      // A flat array: Node writes it as it is, without walking an object's keys.
      res.writeHead(200, ['x-ase-decision', 'pass', 'x-ase-api', api?.id ?? '', 'x-ase-client-ip', ip, 'x-ase-client', client, 'content-length', '0']);
      res.end();
      return;
    }
    const kind = decision.reason === 'decoy' ? 'decoy' : 'block';
    const spec = decision.response;
    if (proxy === 'nginx') {
      const ticket = answers.put(spec);
      const headers: Record<string, string> = { 'x-ase-decision': kind, 'x-ase-status': String(spec.status), [ANSWER_HEADER]: ticket, 'content-length': '0' };
      if (kind === 'decoy') headers['x-ase-decoy'] = '1';
      res.writeHead(403, headers);
      res.end();
      return;
    }
    const extra: Record<string, string> = { 'x-ase-decision': kind, 'x-ase-status': String(spec.status) };
    if (kind === 'decoy') extra['x-ase-decoy'] = '1';
    writeSpec(res, spec.status >= 200 && spec.status < 300 ? { ...spec, status: 403, reason: 'Forbidden' } : spec, extra, req.method);
  };

  const fail = (res: ServerResponse, err: unknown): void => {
    enforcer.logger.error(`decision service: decision failed: ${(err as Error)?.message ?? String(err)}`);
    if (!res.headersSent) writeSpec(res, FAILED, undefined);
    else res.end();
  };

  const handler = function decisionService(req: IncomingMessage, res: ServerResponse): void {
    if (proxy === 'nginx') {
      const ticket = req.headers[ANSWER_HEADER];
      if (typeof ticket === 'string' && ticket.length > 0) {
        writeSpec(res, answers.take(ticket) ?? NO_ANSWER, undefined);
        return;
      }
    }
    const raw = originalRequest(req, proxy, shape, prefix, fromTrustedProxy);
    if (typeof raw === 'string') return misconfigured(res, raw);
    let decision: Decision | Promise<Decision>;
    try {
      decision = enforcer.decide(raw);
    } catch (err) {
      return fail(res, err);
    }
    if (decision instanceof Promise) {
      // A throw while answering fails closed too, rather than leaving an unhandled rejection.
      decision.then((d) => answer(req, res, d)).catch((err: unknown) => fail(res, err));
    } else {
      answer(req, res, decision);
    }
  };
  return Object.assign(handler, { proxy, pendingAnswers: answers });
}

/** The original request as the proxy describes it, or why it cannot be read. */
function originalRequest(
  req: IncomingMessage,
  proxy: SidebandProxy,
  shape: (typeof SHAPES)[SidebandProxy],
  prefix: string,
  fromTrustedProxy: (peer: string | undefined) => boolean,
): RawRequest | string {
  const h = req.headers;
  let url = req.url ?? '/';
  let method = req.method ?? 'GET';
  let headers = h;
  if (shape.uri !== undefined) {
    const u = single(req, shape.uri);
    if (u === undefined) return `the decision request has no ${shape.uri} header`;
    if (u === null) return `the decision request has ${shape.uri} twice`;
    url = u;
  } else if (prefix.length > 0) {
    if (!url.startsWith(prefix) || (url.length > prefix.length && url[prefix.length] !== '/' && url[prefix.length] !== '?')) {
      return `the decision request's path does not start with the path prefix ${prefix}`;
    }
    url = url.slice(prefix.length);
    if (url.length === 0 || url[0] === '?') url = `/${url}`;
  }
  if (shape.method !== undefined) {
    const m = single(req, shape.method);
    if (m === undefined) return `the decision request has no ${shape.method} header`;
    if (m === null) return `the decision request has ${shape.method} twice`;
    method = m;
  }
  if (shape.host !== undefined) {
    const host = single(req, shape.host);
    if (host === null) return `the decision request has ${shape.host} twice`;
    // The decision request's own Host names the decision service: the original's replaces it.
    headers = { ...h, host };
  }
  const peer = req.socket.remoteAddress;
  const proto = fromTrustedProxy(peer) ? h['x-forwarded-proto'] : undefined;
  const encrypted = typeof proto === 'string' ? proto.toLowerCase() === 'https' : proxy === 'envoy' && (req.socket as TLSSocket).encrypted === true;
  return { method, url, headers, rawHeaders: req.rawHeaders, remoteAddress: peer, encrypted, upgrade: false };
}

/**
 * The one value of header `name` (lower case): undefined when absent, null when the request has
 * two lines of it (Node would join them; a proxy that appends instead of replacing lets the
 * client's copy through, so neither can be believed).
 */
function single(req: IncomingMessage, name: string): string | undefined | null {
  const v = req.headers[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') return null;
  const raw = req.rawHeaders;
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    if (n.length === name.length && n.toLowerCase() === name && ++seen > 1) return null;
  }
  return v;
}

function writeSpec(res: ServerResponse, spec: ResponseSpec, extra: Record<string, string> | undefined, method?: string): void {
  const body = Buffer.from(spec.body, 'utf8');
  const headers: Record<string, string> = { ...spec.headers, ...extra, 'content-length': String(body.length) };
  res.writeHead(spec.status, spec.reason || undefined, headers);
  res.end(method === 'HEAD' ? undefined : body);
}
