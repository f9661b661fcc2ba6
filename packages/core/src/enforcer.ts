import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';
import { type CompiledApi, compileApi } from './api/compiled-api';
import { ASE_CONF_DEFAULTS } from './config/defaults';
import { loadConfigDir, fromObjects } from './config/load';
import { normaliseAseConf } from './config/ase-conf';
import { validateApiJson } from './config/api-schema';
import type { ApiJson, ApiJsonInput, AseConf } from './config/types';
import { duplicateApi, persistFailed, stateFileUnusable, unknownApi } from './errors';
import { writeNodeResponse } from './http/node-response';
import { fromNodeRequest } from './http/node-request';
import { isWebSocketUpgrade, proxyWebSocket, writeUpgradeResponse, type WsTunnel } from './upstream/ws-proxy';
import { wsForwarding } from './upstream/header-hygiene';
import type { ByteMeter } from './flow/byte-meter';
import type { Duplex } from 'node:stream';
import { AccessLog } from './logs/access-log';
import { type ClientIdentifiers, type UsernameTrust, apiKeysDisagree, extractIdentifiers, readApiKey, readCookie, readJwtCopies, readToken, readUsername } from './identity/identifiers';
import { type JwtCheck, JwtVerifier } from './identity/jwt-verifier';
import { ListBudget, ClientList, type StoredEntry, typeIndex } from './lists/client-list';
import { ASE_DETECTED_TAGS, type DenyTag, type ListEntry, canonicalEntry } from './lists/entries';
import { RotationTracker } from './lists/rotation-tracker';
import { keyHash } from './lists/presence-filter';
import { ApiMatcher } from './match/api-matcher';
import { isDecoyPath } from './policy/decoy';
import { removeStaleTempFiles, writeFileAtomic } from './persistence/atomic-file';
import { ListJournal, type ListOp } from './lists/list-journal';
import { checkPattern } from './policy/pattern-enforcement';
import { RESPONSES, textResponse } from './policy/responses';
import { type LimitResult, type RateLimiter, rateLimitHeaders, retryAfterSeconds } from './flow/rate-limit';
import { ClientIpResolver, TrustedProxies, canonicalIp, ipv6Prefix } from './request/client-ip';
import { hasRepeatedHost, parseHost } from './request/host';
import { normalizeTarget } from './request/normalize-path';
import { parseCookies } from './request/cookies';
import { readSetCookie } from './upstream/sticky-sessions';
import { mapToInternal } from './upstream/path-mapping';
import { BackendAgents } from './upstream/agents';
import type { ServerPool } from './upstream/server-pool';
import { ApiRuntime, type RuntimeStores } from './api/api-runtime';
import { MemoryCounterStore } from './stores/memory-counter-store';
import { MemoryQuotaStore } from './stores/memory-quota-store';
import { MemoryStickyStore } from './stores/memory-sticky-store';
import { isPromise } from './stores/maybe-async';
import type { EnforcerStores } from './stores/types';
import type { Decision, EnforcerRequest, Logger, Protocol, RawRequest, RespondReason, ResponseSpec } from './types';
// management (issue 4)
import { routeConflict, withFlowControl, withServerAdded, withServerFlowControl, withServerRemoved } from './management/api-edits';
import { AdminCredentials } from './management/credentials';
import { ManagementMounts } from './management/management-mounts';
import { type RuntimeState, readRuntimeState, removeFileDurable, serializeRuntimeState } from './management/runtime-state';
import { apiIdProblem } from './config/load';
import type { FlowControlJson, ServerJson } from './config/types';
import { invalidConfig } from './errors';

export interface EnforcerOptions {
  /**
   * Config directory as the reference product has it: `ase.conf`, `api/<id>.json`, and `data/`
   * where lists are persisted. Omit it to run purely from objects (nothing persisted).
   */
  configDir?: string;
  /** `ase.conf` keys given in code; they override the file. */
  conf?: Partial<Record<keyof AseConf, unknown>>;
  /** API definitions given in code, by api_id; they are added to those of the directory. */
  apis?: Record<string, ApiJsonInput | ApiJson>;
  /**
   * `middleware` (default): requests no API matches, and APIs without servers, go to the host app.
   * `gateway`: the standalone product: those get 503 `Unknown API` / `No Backend Available`.
   */
  mode?: 'middleware' | 'gateway';
  /** Defaults to warnings and errors on the console, prefixed `[ase]`. */
  logger?: Logger;
  /**
   * false (default): an API file of `configDir` that does not load makes createEnforcer throw
   * (an AseConfigError naming every bad file, field and value), since that API's routes would
   * otherwise reach the app unprotected. true: bad files are reported in `warnings` and skipped.
   */
  skipInvalidApis?: boolean;
  /** Where counters, connection slots and sticky pins are held; those not given are in this process. */
  stores?: EnforcerStores;
}

/** Emitted for every detection, so applications, the access log and metrics can follow them. */
export interface AttackEvent {
  kind: DenyTag;
  api: string;
  ip: string;
  /** The identifier that was (or would have been) deny-listed. */
  identifier: ListEntry;
  /** True when a deny-list entry was added (ASE-detected attacks enabled). */
  listed: boolean;
  /** True when this request was blocked (the API has enable_blocking). */
  blocked: boolean;
}

export interface BlockedEvent {
  reason: RespondReason;
  api: string;
  ip: string;
  entry?: StoredEntry;
  /** False when the API only detects (`enable_blocking: false`): the request was served. */
  blocked: boolean;
}

/** A request refused by flow control: over `client_spike_threshold`, or no server slot free. */
export interface FlowControlEvent {
  kind: 'client_spike' | 'server_busy' | 'queue_full' | 'queue_timeout' | 'bytes_in' | 'bytes_out';
  api: string;
  ip: string;
}

export interface EnforcerEvents {
  attack: [AttackEvent];
  blocked: [BlockedEvent];
  backend_down: [{ api: string; server: string; error: string }];
  backend_up: [{ api: string; server: string; error: string }];
  flow_control: [FlowControlEvent];
  warning: [string];
}

const consoleLogger: Logger = {
  info() {},
  warn: (m) => console.warn(`[ase] ${m}`),
  error: (m) => console.error(`[ase] ${m}`),
};

/**
 * The engine: holds the configuration, the lists and the backend pools, and decides what happens
 * to each request. Framework adapters only translate requests in and decisions out.
 */
export class Enforcer extends EventEmitter<EnforcerEvents> {
  readonly conf: AseConf;
  readonly mode: 'middleware' | 'gateway';
  readonly configDir: string | undefined;
  readonly logger: Logger;
  /** Problems found while loading (skipped API files, ignored keys). */
  readonly warnings: string[] = [];

  readonly denyList: ClientList;
  readonly allowList: ClientList;

  private readonly apis = new Map<string, ApiRuntime>();
  private matcher = new ApiMatcher([]);
  private readonly trusted: TrustedProxies;
  private readonly ca: Buffer | undefined;
  /** Keep-alive connections to backends, shared by all APIs (docs/performance.md). */
  private readonly agents: BackendAgents;
  private readonly stores: RuntimeStores;
  private readonly listWriter: ListJournal | undefined;
  private accessLog: AccessLog | undefined;
  private firewall: boolean;
  private aseDetected: boolean;
  private warnedXff = false;
  private ipResolver: ClientIpResolver | undefined;
  /** Client addresses that rotate identifiers under violations (`ip_rotation_threshold`). */
  private readonly rotation: RotationTracker;
  private closed = false;

  constructor(options: EnforcerOptions = {}) {
    super();
    this.logger = options.logger ?? consoleLogger;
    this.mode = options.mode ?? 'middleware';
    this.configDir = options.configDir ? path.resolve(options.configDir) : undefined;

    const fromDir = this.configDir ? loadConfigDir(this.configDir, { skipInvalidApis: options.skipInvalidApis === true }) : undefined;
    const fromCode = fromObjects({ apis: (options.apis ?? {}) as Record<string, ApiJsonInput> });
    const conf = options.conf
      ? normaliseAseConf({ ...(fromDir?.conf ?? ASE_CONF_DEFAULTS), ...options.conf }, '<options.conf>')
      : { ...(fromDir?.conf ?? ASE_CONF_DEFAULTS) };
    this.conf = conf;
    this.firewall = conf.enable_firewall;
    this.aseDetected = conf.enable_ase_detected_attack;
    this.trusted = new TrustedProxies(conf.xff_trusted_proxies);
    this.ca = conf.server_ca_cert_path ? readFileSync(conf.server_ca_cert_path) : undefined;
    this.agents = new BackendAgents(this.ca, this.conf.backend_timeout);
    this.stores = {
      counters: options.stores?.counters ?? new MemoryCounterStore(),
      quotas: options.stores?.quotas ?? new MemoryQuotaStore(),
      sticky: options.stores?.sticky ?? new MemoryStickyStore(),
    };

    const budget = new ListBudget(conf.attack_list_memory, conf.attack_list_shares);
    this.denyList = new ClientList('blacklist', budget);
    this.allowList = new ClientList('whitelist', budget);
    this.rotation = new RotationTracker(conf.ip_rotation_threshold, conf.ip_rotation_window);

    for (const w of [...(fromDir?.warnings ?? []), ...fromCode.warnings]) this.warn(w);
    for (const [id, json] of [...(fromDir?.apis ?? []), ...fromCode.apis]) this.installApi(id, json);
    this.rebuildMatcher();

    if (this.configDir) {
      for (const dir of ['data', 'api']) {
        for (const name of removeStaleTempFiles(path.join(this.configDir, dir))) this.logger.info(`removed ${dir}/${name}, left by a write that was interrupted`);
      }
      const journal = new ListJournal(path.join(this.configDir, 'data'), this.denyList, this.allowList);
      const listsFile = journal.snapshotFile;
      try {
        for (const w of journal.load()) this.warn(w);
        if (budget.shareUsed('manual') > budget.shareLimit('manual')) {
          this.warn(
            `${listsFile}: the manual entries and the allow list take ${budget.shareUsed('manual')} bytes, more than their share of ` +
              `attack_list_memory (${budget.shareLimit('manual')}); all were loaded, but new manual entries are refused (507) until ` +
              'some are removed or attack_list_memory / attack_list_shares give the manual share more room',
          );
        }
      } catch (err) {
        // Starting with empty lists would silently unblock every listed client: refuse instead.
        throw stateFileUnusable(`${listsFile}: cannot be read (${(err as Error).message}); fix or remove it`, err);
      }
      this.listWriter = journal;
      if (conf.enable_access_log) this.accessLog = new AccessLog(this, path.join(this.configDir, 'logs', 'access.log'));
      this.loadRuntimeState(); // management (issue 4): switches changed at run time survive a restart
    }
    this.warnIdleDecoys();
  }

  /** The reference keeps decoy detection off by default: a decoy then answers but lists nobody, which looks like protection. */
  private warnIdleDecoys(): void {
    if (this.aseDetected) return;
    const ids = [...this.apis.values()].filter((rt) => rt.api.decoy.enabled).map((rt) => rt.api.id).sort();
    if (ids.length === 0) return;
    this.warn(
      `decoys are configured (api ${ids.join(', ')}) but enable_ase_detected_attack is false: a decoy hit answers and lists nobody. ` +
        'Set enable_ase_detected_attack=true in ase.conf (conf: { enable_ase_detected_attack: true } in code) for decoy hits to deny-list the client.',
    );
  }

  // ---------------------------------------------------------------- request path

  /**
   * Decides what happens to one request. Stages 0–6 are synchronous (every table they consult is in
   * memory); a Promise comes back only for a client rate limit kept in a shared store (the default
   * in-process counters answer at once) and for server quotas or spike rates (the scheduler's
   * queue), and for an API with `jwt_verification` when the request's JWT was not verified before
   * (jose verifies asynchronously; verified tokens are cached). Adapters handle both (see `decisionSettler`).
   * Stage order: normalise → match → decoy → allow list → deny list → pattern → token → client flow
   * control → route.
   */
  decide(raw: RawRequest): Decision | Promise<Decision> {
    const target = normalizeTarget(raw.url);
    if (!target.ok) return this.respond('malformed', undefined, RESPONSES.malformed());
    // Node keeps the first of two Host lines: whoever reads the other would route another request.
    if (raw.rawHeaders !== undefined && hasRepeatedHost(raw.rawHeaders)) return this.respond('malformed', undefined, RESPONSES.malformed());
    // enable_strict_request_parser=false only relaxes the Host header (an unusable one matches as
    // absent, i.e. only `*` APIs); path problems are bypass vectors and always get 400.
    const parsedHost = parseHost(raw.headers['host']);
    if (!parsedHost.ok && this.conf.enable_strict_request_parser) return this.respond('malformed', undefined, RESPONSES.malformed());
    const host = parsedHost.ok ? parsedHost : { ok: true as const, host: '' };

    if (this.conf.enable_ase_health && target.matchPath === '/ase' && (raw.method === 'GET' || raw.method === 'HEAD')) {
      return this.respond('health', undefined, RESPONSES.health());
    }

    const match = this.matcher.match(host.host, target.matchPath);
    if (match.kind !== 'api') {
      if (this.mode === 'middleware') {
        // The app answers every Host alike: a path under a host-bound API's url must not be reachable
        // by naming another Host (docs/security.md).
        if (!this.conf.pass_unmatched_hosts && this.matcher.guardsPath(target.matchPath)) return this.respond('unknown_api', undefined, RESPONSES.unknownApi());
        return { action: 'pass', api: undefined, request: undefined };
      }
      return match.kind === 'no_host'
        ? this.respond('unknown_hostname', undefined, RESPONSES.unknownHostname())
        : this.respond('unknown_api', undefined, RESPONSES.unknownApi());
    }
    const api = match.api;
    const req: EnforcerRequest = {
      method: raw.method,
      path: target.path,
      matchPath: target.matchPath,
      query: target.query,
      host: host.host,
      protocol: protocolOf(raw),
      ip: this.clientIp(raw),
      headers: raw.headers,
      rawHeaders: raw.rawHeaders,
      peer: canonicalIp(raw.remoteAddress),
    };

    // Decoys answer before anything else, deny-listed or not, so the trap never reveals itself.
    if (match.decoy && isDecoyPath(match.decoy, req.matchPath)) {
      this.recordDecoy(api, req);
      return this.respond('decoy', api, api.decoy.response);
    }

    // Only APIs with jwt_verification pay for it, and a token verified before comes from a cache
    // synchronously: a Promise only for a token not seen yet.
    const verifier = this.firewall ? api.jwtVerifier : undefined;
    if (verifier) {
      // Two different tokens: the backend may read the one not verified, so neither counts.
      const tokens = readJwtCopies(api, req);
      const jwt = tokens.length === 0 ? NO_JWT : tokens.length > 1 ? { ok: false as const, token: tokens[0] } : verifier.check(tokens[0]!);
      return jwt instanceof Promise ? jwt.then((c) => this.screen(api, req, c)) : this.screen(api, req, jwt);
    }
    return this.screen(api, req, undefined);
  }

  /** Stages 3–8 once the API's JWT, if it verifies them, has been checked (`jwt`). */
  private screen(api: CompiledApi, req: EnforcerRequest, jwt: JwtCheck | undefined): Decision | Promise<Decision> {
    if (this.firewall) {
      // A required JWT is authentication: no list entry stands in for it, the allow list included.
      if (jwt && !jwt.ok && api.jwtVerifier?.required) {
        this.emit('blocked', { reason: 'invalid_jwt', api: api.id, ip: req.ip, blocked: true });
        return this.respond('invalid_jwt', api, api.blockResponse);
      }
      const trust: UsernameTrust | undefined =
        jwt || api.identity.usernameHeaderTrusted ? { jwt, headerFromTrustedProxy: api.identity.usernameHeaderTrusted && this.trustedPeer(req.peer) } : undefined;
      let blocked: Decision | undefined;
      if (this.allowList.size === 0) {
        // Nothing can be allow-listed, so the deny list comes first: each identifier is looked up
        // as it is read, and with blocking on, those after the first listed one are never needed.
        const ids: ClientIdentifiers = { ip: req.ip };
        const denied = this.readUntilListed(api, req, ids, trust);
        blocked = this.checkClient(api, req, denied && !api.enableBlocking ? extractIdentifiers(api, req, trust) : ids, denied);
      } else {
        const ids = extractIdentifiers(api, req, trust);
        if (!this.findListed(this.allowList, ids)) blocked = this.checkClient(api, req, ids, this.findListed(this.denyList, ids));
      }
      if (blocked) return blocked;
    }
    const rt = this.apis.get(api.id);
    // Deleted while its JWT was being verified: answered as if no API had matched.
    if (!rt) return this.mode === 'middleware' ? { action: 'pass', api: undefined, request: undefined } : this.respond('unknown_api', undefined, RESPONSES.unknownApi());
    const limiter = this.firewall ? rt.clientLimiter : undefined;
    if (limiter) {
      // In-process counters answer at once; only a shared store costs a Promise.
      // Keyed by client (an IPv6 client by its network), so moving inside one's own /64 does not reset it.
      const key = this.clientKey(req.ip);
      if (limiter.consumeSync) return this.afterClientLimit(rt, req, limiter, limiter.consumeSync(key));
      return limiter.consume(key).then((r) => this.afterClientLimit(rt, req, limiter, r));
    }
    return this.route(rt, req);
  }

  /** Stage 7's outcome: route, or 429 with the rate-limit headers. */
  private afterClientLimit(rt: ApiRuntime, req: EnforcerRequest, limiter: RateLimiter, r: LimitResult): Decision | Promise<Decision> {
    if (r.ok) return this.route(rt, req);
    this.emit('flow_control', { kind: 'client_spike', api: rt.api.id, ip: req.ip });
    return this.respond('rate_limited', rt.api, textResponse(429, 'Too Many Requests', 'Error: Too Many Requests', rateLimitHeaders(r, limiter)));
  }

  /**
   * Stages 4–6 for a client that is not allow-listed, `denied` being its deny-list entry; undefined
   * when the request may go on. `ids` may stop short of the identifiers after `denied` when the
   * API blocks: they are not read then.
   */
  private checkClient(api: CompiledApi, req: EnforcerRequest, ids: ClientIdentifiers, denied: StoredEntry | undefined): Decision | undefined {
    if (denied) {
      this.emit('blocked', { reason: 'deny_list', api: api.id, ip: req.ip, entry: denied, blocked: api.enableBlocking });
      if (api.enableBlocking) return this.respond('deny_list', api, api.blockResponse);
    }

    const pattern = checkPattern(api, req);
    if (pattern?.kind === 'redirect') return this.respond('redirect', api, pattern.response);
    if (pattern?.kind === 'preflight_refused' && api.enableBlocking) return this.respond('cors_preflight', api, api.blockResponse);
    if (pattern?.kind === 'violation') {
      this.recordAttack(api, req, pattern.tag, strongestIdentifier(ids));
      if (api.enableBlocking) return this.respond(pattern.tag, api, api.blockResponse);
    }

    if (api.identity.tokenMandatory && api.identity.oauth2 && !ids.token) {
      this.recordAttack(api, req, 'missing_token', { type: 'ip', value: req.ip });
      if (api.enableBlocking) return this.respond('missing_token', api, api.blockResponse);
    }
    return undefined;
  }

  private route(rt: ApiRuntime, req: EnforcerRequest): Decision | Promise<Decision> {
    const { api } = rt;
    if (rt.pool.size === 0) {
      if (this.mode === 'middleware') return { action: 'pass', api, request: req };
      return this.respond('no_backend', api, RESPONSES.noBackend());
    }
    const stickyKey = rt.sticky ? parseCookies(req.headers['cookie']).get(api.identity.cookie) : undefined;
    const pinned = stickyKey !== undefined ? rt.sticky!.get(stickyKey) : undefined;
    if (isPromise(pinned)) return pinned.then((p) => this.routeTo(rt, req, stickyKey, p));
    return this.routeTo(rt, req, stickyKey, pinned);
  }

  private routeTo(rt: ApiRuntime, req: EnforcerRequest, stickyKey: string | undefined, pinned: string | undefined): Decision | Promise<Decision> {
    const { api } = rt;
    const forwardPath = mapToInternal(api, req.path) + req.query;
    if (rt.scheduler && this.firewall) {
      return rt.scheduler.acquire({ preferred: pinned }).then((slot): Decision => {
        const upstream = slot.ok ? rt.pool.find(slot.id) : undefined;
        if (slot.ok && upstream) return { action: 'proxy', api, request: req, upstream, forwardPath, stickyKey, release: slot.release };
        if (slot.ok) slot.release();
        if (!slot.ok && slot.reason !== 'no_backend') {
          this.emit('flow_control', { kind: slot.reason, api: api.id, ip: req.ip });
          return this.respond('server_busy', api, RESPONSES.busy(retryAfterSeconds(slot.retryAfterMs)));
        }
        return this.respond('no_backend', api, RESPONSES.noBackend());
      });
    }
    const pinnedUp = pinned !== undefined ? rt.pool.find(pinned) : undefined;
    const upstream = pinnedUp && rt.pool.isUsable(pinnedUp) ? pinnedUp : rt.pool.pick();
    if (!upstream) return this.respond('no_backend', api, RESPONSES.noBackend());
    return { action: 'proxy', api, request: req, upstream, forwardPath, stickyKey };
  }

  /** Sends a `proxy` decision's request to its backend. Adapters give it Node's req/res. */
  forward(req: IncomingMessage, res: ServerResponse, decision: Extract<Decision, { action: 'proxy' }>): void {
    const rt = this.apis.get(decision.api.id);
    if (!rt?.forwarder) {
      writeNodeResponse(res, RESPONSES.noBackend(), req.method);
      return;
    }
    const { sticky } = rt;
    const { stickyKey, release } = decision;
    if (res.destroyed || req.socket.destroyed) {
      // The client left while the request waited for a server slot: 'close' has already fired,
      // so the slot would never come back. Give it back now and send nothing.
      release?.();
      return;
    }
    if (release) res.once('close', release);
    const logout = sticky && stickyKey !== undefined && rt.api.meta.logout_api_enabled && decision.request.matchPath.endsWith('/logout');
    if (logout) res.once('close', () => sticky.delete(stickyKey));
    rt.forwarder.forward(req, res, {
      request: decision.request,
      upstream: decision.upstream,
      forwardPath: decision.forwardPath,
      // Stickiness starts when a backend sets the API's cookie: later requests with it come back here.
      onResponse: sticky
        ? (u, headers) => {
            const set = readSetCookie(headers['set-cookie'], rt.api.identity.cookie);
            if (set?.kind === 'set') sticky.set(set.value, u.id);
            else if (set?.kind === 'delete' && stickyKey !== undefined) sticky.delete(stickyKey);
            else if (stickyKey !== undefined && !logout) sticky.keep(stickyKey, u.id);
          }
        : undefined,
    });
  }

  /**
   * A WebSocket upgrade (the HTTP server's `upgrade` event, which bypasses every framework's
   * middleware): the same pipeline decides, at the upgrade. Resolves true when the socket was
   * answered or tunnelled, false when no API took it (middleware mode), so another upgrade
   * handler of the app may have it.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: string = req.url ?? '/'): Promise<boolean> {
    socket.on('error', () => socket.destroy());
    return Promise.resolve()
      .then(() => this.decide({ ...fromNodeRequest(req, true), url }))
      .then(
        (d) => {
          // On an API's path only a WebSocket of a `protocol: ws` API reaches the app, as only those are
          // proxied: an h2c connection would carry HTTP/2 requests that no check sees.
          if (d.action === 'pass' && d.api && (d.api.meta.protocol !== 'ws' || !isWebSocketUpgrade(req.headers.upgrade))) {
            d = this.respond('malformed', d.api, RESPONSES.malformed());
          }
          if (d.action === 'pass') return false;
          if (d.action === 'respond') writeUpgradeResponse(socket, d.response);
          else this.tunnel(req, socket, head, d);
          return true;
        },
        () => {
          writeUpgradeResponse(socket, textResponse(500, 'Internal Server Error', 'Error: Internal Server Error'));
          return true;
        },
      );
  }

  private tunnel(req: IncomingMessage, socket: Duplex, head: Buffer, d: Extract<Decision, { action: 'proxy' }>): void {
    if (socket.destroyed) {
      d.release?.(); // the client left while waiting for a slot
      return;
    }
    const rt = this.apis.get(d.api.id);
    if (!rt || d.api.meta.protocol !== 'ws') {
      // Only `protocol: ws` APIs carry WebSockets; an upgrade elsewhere is not a request they serve.
      d.release?.();
      writeUpgradeResponse(socket, RESPONSES.malformed());
      return;
    }
    const ip = d.request.ip;
    const scheme = d.request.protocol === 'wss' ? 'wss' : 'ws';
    // Metered per client, an IPv6 client by its network: moving inside it does not reset the count.
    const client = this.clientKey(ip);
    const meter = (m: ByteMeter | undefined, kind: 'bytes_in' | 'bytes_out') =>
      m
        ? (n: number): boolean => {
            if (m.add(client, n)) return true;
            this.emit('flow_control', { kind, api: d.api.id, ip });
            return false;
          }
        : undefined;
    const trusted = this.trustedPeer(d.request.peer);
    // A chain is extended only when a trusted proxy sent it (as the HTTP forwarder does).
    const forwarded = trusted ? [req.headers['x-forwarded-for'], d.request.peer].flat().filter(Boolean).join(', ') : ip;
    const { omit, own } = wsForwarding(req.headers, rt.keptHeaders, trusted, {
      'x-forwarded-for': forwarded,
      'x-forwarded-proto': scheme === 'wss' ? 'https' : 'http',
      ...(d.request.host ? { 'x-forwarded-host': d.request.host } : {}),
    });
    const tunnel: WsTunnel = proxyWebSocket(
      req,
      socket,
      head,
      {
        host: d.upstream.host,
        port: d.upstream.port,
        ssl: rt.pool.ssl,
        ca: this.ca,
        path: d.forwardPath,
        headers: own,
        omit,
        timeoutMs: this.conf.backend_timeout,
      },
      {
        onOpen: () => void rt.tunnels.set(tunnel, scheme),
        onDone: () => {
          rt.tunnels.delete(tunnel);
          d.release?.();
        },
        onClientData: meter(rt.bytesIn, 'bytes_in'),
        onServerData: meter(rt.bytesOut, 'bytes_out'),
      },
    );
  }

  private respond(reason: RespondReason, api: CompiledApi | undefined, response: ResponseSpec): Decision {
    return { action: 'respond', reason, api, response };
  }

  /** Forwarding headers are believed from the peer only when it is a trusted proxy and enable_xff is on. */
  private trustedPeer(peer: string): boolean {
    return this.conf.enable_xff && peer !== '' && this.trusted.has(peer);
  }

  private clientIp(raw: RawRequest): string {
    // Bound once: the options used to be a new object and closure for every request.
    this.ipResolver ??= new ClientIpResolver({
      enableXff: this.conf.enable_xff,
      trusted: this.trusted,
      onUntrustedXff: () => {
        if (this.warnedXff) return;
        this.warnedXff = true;
        this.warn(
          'requests carry X-Forwarded-For but enable_xff is false: behind a proxy every client shares the ' +
            "proxy's address, and one decoy hit or violation would block them all. Set enable_xff=true and xff_trusted_proxies.",
        );
      },
    });
    return this.ipResolver.resolve(raw.remoteAddress, raw.headers['x-forwarded-for']);
  }

  /**
   * The first listed identifier. On the deny list every copy counts (`other*`: any listed copy
   * blocks); on the allow list an identifier whose copies disagree counts for nothing, since the
   * backend may read the copy that is not listed.
   */
  private findListed(list: ClientList, ids: ClientIdentifiers): StoredEntry | undefined {
    if (list.size === 0) return undefined;
    const deny = list === this.denyList;
    return (
      list.get('ip', ids.ip) ??
      (ids.token !== undefined && (deny || !ids.otherTokens) ? list.get('token', ids.token) : undefined) ??
      (deny && ids.otherTokens ? firstListed(list, 'token', ids.otherTokens) : undefined) ??
      (ids.apiKey && (deny || !apiKeysDisagree(ids)) ? list.get('api_key', ids.apiKey.value, ids.apiKey.name) : undefined) ??
      (ids.otherApiKeys && (deny || !apiKeysDisagree(ids)) ? firstListedKey(list, ids.otherApiKeys) : undefined) ??
      (ids.cookie && (deny || !ids.otherCookies) ? list.get('cookie', ids.cookie.value, ids.cookie.name) : undefined) ??
      (deny && ids.otherCookies && ids.cookie ? firstListed(list, 'cookie', ids.otherCookies, ids.cookie.name) : undefined) ??
      // A user name a client can forge (unverified JWT, header from anyone) only counts against it.
      (ids.username !== undefined && (deny || ids.usernameTrusted) ? list.get('username', ids.username) : undefined) ??
      (deny && ids.otherUsernames ? firstListed(list, 'username', ids.otherUsernames) : undefined)
    );
  }

  /**
   * `findListed(this.denyList, ids)` while `ids` (holding the IP) is filled in, step by step in the
   * same order: reading stops at the first listed identifier. `ids` is complete when nothing is.
   */
  private readUntilListed(api: CompiledApi, req: EnforcerRequest, ids: ClientIdentifiers, trust: UsernameTrust | undefined): StoredEntry | undefined {
    const list = this.denyList;
    const probe = list.size > 0;
    let e = probe ? list.get('ip', ids.ip) : undefined;
    if (e) return e;
    readToken(api, req, ids);
    if (probe && ids.token !== undefined) {
      if ((e = list.get('token', ids.token))) return e;
      if (ids.otherTokens && (e = firstListed(list, 'token', ids.otherTokens))) return e;
    }
    readApiKey(api, req, ids);
    if (probe && ids.apiKey) {
      if ((e = list.get('api_key', ids.apiKey.value, ids.apiKey.name))) return e;
      if (ids.otherApiKeys && (e = firstListedKey(list, ids.otherApiKeys))) return e;
    }
    readCookie(api, req, ids);
    if (probe && ids.cookie) {
      if ((e = list.get('cookie', ids.cookie.value, ids.cookie.name))) return e;
      if (ids.otherCookies && (e = firstListed(list, 'cookie', ids.otherCookies, ids.cookie.name))) return e;
    }
    readUsername(api, req, ids, trust);
    if (probe && ids.username !== undefined) {
      if ((e = list.get('username', ids.username))) return e;
      if (ids.otherUsernames && (e = firstListed(list, 'username', ids.otherUsernames))) return e;
    }
    return undefined;
  }

  private recordDecoy(api: CompiledApi, req: EnforcerRequest): void {
    this.recordAttack(api, req, 'decoy', { type: 'ip', value: req.ip }, false);
  }

  /**
   * An ASE-detected attack: deny-list the identifier when enabled, and tell subscribers. An IP is
   * listed as its client key (an IPv6 client's network). A client address whose violations come
   * under `ip_rotation_threshold` distinct stronger identifiers is listed itself, with the same tag.
   */
  private recordAttack(api: CompiledApi, req: EnforcerRequest, kind: DenyTag, identifier: ListEntry, blocked = api.enableBlocking): void {
    let listed = false;
    const protectedProxy = identifier.type === 'ip' && this.conf.enable_xff && this.trusted.has(identifier.value);
    const entry: ListEntry = identifier.type === 'ip' ? { type: 'ip', value: this.clientKey(identifier.value) } : identifier;
    if (this.aseDetected && !protectedProxy && !this.allowList.has(identifier.type, identifier.value, identifier.name)) {
      try {
        listed = this.denyList.add(entry, kind);
        if (listed) this.persistLists({ list: 'blacklist', op: 'add', entry: this.denyList.entry(entry)! });
      } catch (err) {
        this.logger.error(`could not deny-list ${identifier.type} for ${kind}: ${(err as Error).message}`);
      }
    }
    this.emit('attack', { kind, api: api.id, ip: req.ip, identifier: entry, listed, blocked });
    if (this.aseDetected && identifier.type !== 'ip' && this.rotation.note(this.clientKey(req.ip), keyHash(typeIndex(identifier.type), identifier.name ?? '', identifier.value))) {
      this.recordAttack(api, req, kind, { type: 'ip', value: req.ip }, blocked);
    }
  }

  /** The key a client is listed and rate-limited by: its IP, or for IPv6 its `ipv6_client_prefix` network. */
  private clientKey(ip: string): string {
    if (ip.indexOf(':') < 0 || this.conf.ipv6_client_prefix >= 128) return ip;
    return ipv6Prefix(ip, this.conf.ipv6_client_prefix) || ip;
  }

  // ---------------------------------------------------------------- lists (in-process API)

  /** Adds a deny-list entry (tag `manual` unless given); resolves once persisted. */
  async addDeny(input: ListEntry, tag: DenyTag = 'manual'): Promise<boolean> {
    const entry = canonicalEntry(input); // same form as requests are matched in (IPs, api_key names)
    const added = this.denyList.add(entry, tag);
    if (added) await this.persistOrUndo({ list: 'blacklist', op: 'add', entry: this.denyList.entry(entry)! }, () => this.denyList.remove(entry));
    return added;
  }

  async removeDeny(input: ListEntry): Promise<boolean> {
    const entry = canonicalEntry(input); // same form as requests are matched in (IPs, api_key names)
    const was = this.denyList.entry(entry);
    const removed = this.denyList.remove(entry);
    if (removed && was) await this.persistOrUndo({ list: 'blacklist', op: 'remove', entry: was }, () => this.denyList.add(entry, was.tag));
    return removed;
  }

  /** Clears the deny list, or only entries with the given tag. */
  async clearDeny(tag?: DenyTag): Promise<number> {
    const n = this.denyList.clear(tag ? (t) => t === tag : undefined);
    await this.persistListsOrThrow({ list: 'blacklist', op: 'clear', ...(tag ? { tags: [tag] } : {}) });
    return n;
  }

  async addAllow(input: ListEntry): Promise<boolean> {
    const entry = canonicalEntry(input); // same form as requests are matched in (IPs, api_key names)
    const added = this.allowList.add(entry, 'manual');
    if (added) await this.persistOrUndo({ list: 'whitelist', op: 'add', entry: this.allowList.entry(entry)! }, () => this.allowList.remove(entry));
    return added;
  }

  async removeAllow(input: ListEntry): Promise<boolean> {
    const entry = canonicalEntry(input); // same form as requests are matched in (IPs, api_key names)
    const was = this.allowList.entry(entry);
    const removed = this.allowList.remove(entry);
    if (removed && was) await this.persistOrUndo({ list: 'whitelist', op: 'remove', entry: was }, () => this.allowList.add(entry, 'manual'));
    return removed;
  }

  /** A change that cannot be persisted is taken back, so what is live always matches what is on disk. */
  private async persistOrUndo(op: ListOp, undo: () => unknown): Promise<void> {
    try {
      await this.persistListsOrThrow(op);
    } catch (err) {
      undo();
      throw err;
    }
  }

  async clearAllow(): Promise<number> {
    const n = this.allowList.clear();
    await this.persistListsOrThrow({ list: 'whitelist', op: 'clear' });
    return n;
  }

  private persistLists(op: ListOp): void {
    this.listWriter?.record(op).catch((err: unknown) => this.logger.error(`could not persist lists: ${(err as Error).message}`));
  }

  private async persistListsOrThrow(op: ListOp): Promise<void> {
    if (!this.listWriter) return;
    try {
      await this.listWriter.write(op);
    } catch (err) {
      throw persistFailed('lists', err);
    }
  }

  // ---------------------------------------------------------------- switches

  get firewallEnabled(): boolean {
    return this.firewall;
  }

  setFirewall(enabled: boolean): void {
    this.firewall = enabled;
  }

  get aseDetectedAttacksEnabled(): boolean {
    return this.aseDetected;
  }

  /** Disabling removes every ASE-detected deny-list entry, as the reference product does. */
  async setAseDetectedAttacks(enabled: boolean): Promise<void> {
    this.aseDetected = enabled;
    if (!enabled && this.denyList.clear((t) => ASE_DETECTED_TAGS.has(t)) > 0) await this.persistListsOrThrow({ list: 'blacklist', op: 'clear', tags: [...ASE_DETECTED_TAGS] });
  }

  // ---------------------------------------------------------------- APIs

  listApis(): CompiledApi[] {
    return [...this.apis.values()].map((r) => r.api);
  }

  getApi(id: string): CompiledApi | undefined {
    return this.apis.get(id)?.api;
  }

  serverPool(id: string): ServerPool | undefined {
    return this.apis.get(id)?.pool;
  }

  /**
   * Adds (or with `replace`, updates) an API. Validated first; persisted to `api/<id>.json` before
   * it goes live, so an acknowledged change survives a restart.
   */
  async putApi(id: string, input: unknown, opts: { replace?: boolean; persist?: boolean } = {}): Promise<CompiledApi> {
    const exists = this.apis.has(id);
    if (exists && !opts.replace) throw duplicateApi(id);
    if (!exists && opts.replace) throw unknownApi(id);
    const { api: json, warnings } = validateApiJson(input, `api ${id}`);
    for (const w of warnings) this.warn(w);
    const verifier = this.loadJwtVerifier(id, json); // a key file that cannot be read refuses the change
    if (this.configDir && opts.persist !== false) {
      try {
        await writeFileAtomic(path.join(this.configDir, 'api', `${id}.json`), `${JSON.stringify(json, null, 2)}\n`);
      } catch (err) {
        throw persistFailed(`api ${id}`, err);
      }
    }
    const compiled = this.installApi(id, json, verifier);
    this.rebuildMatcher();
    return compiled;
  }

  /** Keys are read once, here, when the API is installed; relative paths from the config directory. */
  private loadJwtVerifier(id: string, json: ApiJson): JwtVerifier | undefined {
    const conf = json.api_metadata.jwt_verification;
    if (!conf) return undefined;
    const file = this.configDir ? path.join(this.configDir, 'api', `${id}.json`) : `api ${id}`;
    return JwtVerifier.load(conf, this.configDir ?? process.cwd(), file);
  }

  private installApi(id: string, json: ApiJson, verifier = this.loadJwtVerifier(id, json)): CompiledApi {
    const api = compileApi(id, json, verifier);
    const old = this.apis.get(id);
    const rt = new ApiRuntime(api, {
      conf: this.conf,
      ca: this.ca,
      agents: this.agents,
      onServerDown: (apiId, u, error) => this.emit('backend_down', { api: apiId, server: u.id, error }),
      onHealthChange: (apiId, u, healthy) => this.emit(healthy ? 'backend_up' : 'backend_down', { api: apiId, server: u.id, error: healthy ? '' : 'health_check' }),
      writeResponse: (res, spec) => writeNodeResponse(res, spec),
      trustedPeer: (peer) => this.trustedPeer(peer),
      stores: this.stores,
    }, old);
    this.apis.set(id, rt);
    old?.retire(rt);
    return api;
  }

  private rebuildMatcher(): void {
    const ordered = [...this.apis.keys()].sort().map((id) => this.apis.get(id)!.api);
    this.matcher = new ApiMatcher(ordered);
  }

  // ---- management (issue 4) ------------------------------------------------------------------
  // The operations behind @ase/admin and the `ase` CLI. Each one validates first, persists, and only
  // then changes what the request path sees. They run one at a time, so two concurrent edits of one
  // API cannot lose each other's change.

  private mgmtQueue: Promise<unknown> = Promise.resolve();
  private mgmtCredentials: AdminCredentials | undefined;
  /**
   * Management APIs mounted in the app (@ase/admin's framework mounts add themselves): the
   * middleware adapters hand their requests over before deciding, so no list entry locks the
   * operator out of the API that removes it.
   */
  readonly managementMounts = new ManagementMounts();
  private runtimeState: RuntimeState = {};

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.mgmtQueue.then(fn, fn);
    this.mgmtQueue = run.catch(() => undefined);
    return run;
  }

  private managedApi(id: string): CompiledApi {
    const api = this.apis.get(id)?.api;
    if (!api) throw unknownApi(id);
    return api;
  }

  /** Validates an API definition and checks that no other API has the same hostname and url. */
  private checkedApiJson(id: string, input: unknown): ApiJson {
    const { api: json } = validateApiJson(input, `api ${id}`);
    const other = routeConflict(this.listApis(), id, json);
    if (other !== undefined) {
      throw invalidConfig([{ file: `api ${id}`, path: '/api_metadata/url', value: json.api_metadata.url, message: `api \`${other}\` already has the same hostname and url` }]);
    }
    return json;
  }

  /** The management API's credentials (`data/credentials.json`), shared by every admin mount. */
  get adminCredentials(): AdminCredentials {
    return (this.mgmtCredentials ??= new AdminCredentials(this.configDir ? path.join(this.configDir, 'data', 'credentials.json') : undefined));
  }

  /** Adds an API. The id must be valid and free; the hostname and url must not belong to another API. */
  createApi(id: string, input: unknown): Promise<CompiledApi> {
    return this.serialized(async () => {
      const idProblem = apiIdProblem(id);
      if (idProblem) throw invalidConfig([{ file: 'api_id', path: '', value: id, message: idProblem }]);
      if (this.apis.has(id)) throw duplicateApi(id);
      return this.putApi(id, this.checkedApiJson(id, input));
    });
  }

  /** Replaces an existing API's definition (persisted to `api/<id>.json` first). */
  updateApi(id: string, input: unknown): Promise<CompiledApi> {
    return this.serialized(async () => {
      this.managedApi(id);
      return this.putApi(id, this.checkedApiJson(id, input), { replace: true });
    });
  }

  /** Removes an API: `api/<id>.json` is deleted first, then the API stops matching. */
  deleteApi(id: string): Promise<void> {
    return this.serialized(async () => {
      this.managedApi(id);
      if (this.configDir) {
        try {
          await removeFileDurable(path.join(this.configDir, 'api', `${id}.json`));
        } catch (err) {
          throw persistFailed(`api ${id}`, err);
        }
      }
      const rt = this.apis.get(id);
      this.apis.delete(id);
      this.rebuildMatcher();
      rt?.close();
    });
  }

  /** Adds a backend server (`{host, port, server_spike_threshold?, server_connection_quota?}`) to an API. */
  addServer(apiId: string, server: unknown): Promise<ServerJson> {
    return this.serialized(async () => {
      const edit = withServerAdded(this.managedApi(apiId), server);
      await this.putApi(apiId, edit.json, { replace: true });
      return edit.server;
    });
  }

  /** Removes the server `{host, port}` from an API. */
  deleteServer(apiId: string, server: unknown): Promise<void> {
    return this.serialized(async () => {
      await this.putApi(apiId, withServerRemoved(this.managedApi(apiId), server), { replace: true });
    });
  }

  /** The API's `flow_control` (values only: enforcement is the flow-control stage's business). */
  getFlowControl(apiId: string): FlowControlJson {
    return { ...this.managedApi(apiId).json.api_metadata.flow_control };
  }

  /** Changes keys of an API's `flow_control`; returns the whole new `flow_control`. */
  updateFlowControl(apiId: string, changes: unknown): Promise<FlowControlJson> {
    return this.serialized(async () => {
      const edit = withFlowControl(this.managedApi(apiId), changes);
      await this.putApi(apiId, edit.json, { replace: true });
      return { ...edit.flowControl };
    });
  }

  /** Changes `server_connection_quota` / `server_spike_threshold` of the server `{host, port}` of an API. */
  updateServerFlowControl(apiId: string, server: unknown): Promise<ServerJson> {
    return this.serialized(async () => {
      const edit = withServerFlowControl(this.managedApi(apiId), server);
      await this.putApi(apiId, edit.json, { replace: true });
      return edit.server;
    });
  }

  /** Enables or disables the firewall, persisted in `data/runtime.json`; false when it already was. */
  updateFirewall(enabled: boolean): Promise<boolean> {
    return this.serialized(async () => {
      if (this.firewall === enabled) return false;
      await this.persistRuntimeState({ ...this.runtimeState, enable_firewall: enabled });
      this.setFirewall(enabled);
      return true;
    });
  }

  /** Enables or disables ASE-detected attacks (disabling purges their entries), persisted; false when unchanged. */
  updateAseDetectedAttacks(enabled: boolean): Promise<boolean> {
    return this.serialized(async () => {
      if (this.aseDetected === enabled) return false;
      await this.persistRuntimeState({ ...this.runtimeState, enable_ase_detected_attack: enabled });
      await this.setAseDetectedAttacks(enabled);
      return true;
    });
  }

  /** `attack_list_memory` configured and in use (bytes, both lists together). */
  get attackListMemory(): { configured: number; used: number } {
    return { configured: this.conf.attack_list_memory, used: this.denyList.memoryUsed };
  }

  /** Open WebSocket connections of an API, as `/v4/ase/persistentconnection` reports them; unknown APIs throw. */
  persistentConnections(apiId: string): { ws: number; wss: number } {
    this.managedApi(apiId);
    return this.apis.get(apiId)!.openConnections();
  }

  private loadRuntimeState(): void {
    if (!this.configDir) return;
    const file = path.join(this.configDir, 'data', 'runtime.json');
    this.runtimeState = readRuntimeState(file);
    const { enable_firewall: fw, enable_ase_detected_attack: detected } = this.runtimeState;
    if (fw !== undefined && fw !== this.firewall) {
      this.firewall = fw;
      this.logger.info(`firewall ${fw ? 'enabled' : 'disabled'} by ${file} (changed at run time; it overrides ase.conf)`);
    }
    if (detected !== undefined && detected !== this.aseDetected) {
      this.aseDetected = detected;
      this.logger.info(`ASE-detected attacks ${detected ? 'enabled' : 'disabled'} by ${file} (changed at run time; it overrides ase.conf)`);
    }
  }

  private async persistRuntimeState(next: RuntimeState): Promise<void> {
    if (this.configDir) {
      try {
        await writeFileAtomic(path.join(this.configDir, 'data', 'runtime.json'), serializeRuntimeState(next));
      } catch (err) {
        throw persistFailed('data/runtime.json', err);
      }
    }
    this.runtimeState = next;
  }
  // ---- end of management (issue 4) -----------------------------------------------------------

  private warn(msg: string): void {
    this.warnings.push(msg);
    this.logger.warn(msg);
    if (this.listenerCount('warning') > 0) this.emit('warning', msg);
  }

  /**
   * Ends every open WebSocket tunnel. Upgraded sockets keep an HTTP server's close() waiting, so a
   * graceful shutdown calls this right after it stops accepting connections.
   */
  endWebSockets(): void {
    for (const rt of this.apis.values()) for (const t of [...rt.tunnels.keys()]) t.close();
  }

  /** Stops background work and waits for pending writes. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const rt of this.apis.values()) rt.close();
    this.agents.destroy();
    await this.listWriter?.close();
    await this.accessLog?.close();
  }
}

const NO_JWT: JwtCheck = { ok: false, token: undefined };

function protocolOf(raw: RawRequest): Protocol {
  if (raw.upgrade) return raw.encrypted ? 'wss' : 'ws';
  return raw.encrypted ? 'https' : 'http';
}

/** Violations are pinned on the strongest identifier: token, else API key, else cookie, else IP. */
function strongestIdentifier(ids: ClientIdentifiers): ListEntry {
  if (ids.token !== undefined) return { type: 'token', value: ids.token };
  if (ids.apiKey) return { type: 'api_key', name: ids.apiKey.name, value: ids.apiKey.value };
  if (ids.cookie) return { type: 'cookie', name: ids.cookie.name, value: ids.cookie.value };
  return { type: 'ip', value: ids.ip };
}

export function createEnforcer(options: EnforcerOptions = {}): Enforcer {
  return new Enforcer(options);
}

function firstListed(list: ClientList, type: 'token' | 'cookie' | 'username', values: readonly string[], name?: string): StoredEntry | undefined {
  for (const v of values) {
    const e = list.get(type, v, name);
    if (e) return e;
  }
  return undefined;
}

function firstListedKey(list: ClientList, keys: readonly { name: string; value: string }[]): StoredEntry | undefined {
  for (const k of keys) {
    const e = list.get('api_key', k.value, k.name);
    if (e) return e;
  }
  return undefined;
}
