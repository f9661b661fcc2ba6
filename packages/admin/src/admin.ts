import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';
import { AseError, DENY_TAGS, type StoredEntry, type DenyTag, type Enforcer, type ListEntry, type Logger, type ManagementAuthFailure, canonicalEntry, checkTtl, decodeUtf8, firstDuplicateKey, maskIdentifier, wireAnswer } from '@ase/core';
import { AllowedHosts, HOST_NOT_ALLOWED } from './allowed-hosts';
import { AuditFile, type AuditRecord, MASK, formatAudit } from './audit-log';
import { basicCredentials, metricsPathOf, scrape } from './metrics-route';
import { BodyTooLargeError, readNodeBody } from './node-body';
import { LIST_SORTS, renderApi, renderFlowControl, renderListedEntry, renderServer, sortEntries } from './render';
import { FailureThrottle } from './throttle';
import type { AdminOptions, AdminRequest, AdminResponse, BodySource, ServiceInfo } from './types';

/** Every endpoint lives under this path. */
export const ADMIN_PREFIX = '/v4/ase';
/** Default largest request body: 1 MiB. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const TYPE_LABEL: Readonly<Record<string, string>> = { ip: 'IP', token: 'Token', username: 'Username', cookie: 'Cookie', api_key: 'API key' };

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** One call being served: what the handlers and the audit line need. */
interface Call {
  req: AdminRequest;
  path: string;
  params: URLSearchParams;
  /** Extra `key=value` pairs for the audit line (entry, server, changed keys); never secrets. */
  audit: [string, string][];
}

type Handler = (call: Call) => Promise<AdminResponse>;

/** Which Host check applies to a call: a mount's or listener's own list, `false` for none. */
export type HostPolicy = AllowedHosts | false;

/** An `allowedHosts` option as a policy; undefined when unset. */
export function hostPolicy(allowed: readonly string[] | false | undefined): HostPolicy | undefined {
  if (allowed === undefined) return undefined;
  return allowed === false ? false : new AllowedHosts(allowed);
}

/** Every `Host` line of the request: all of them from the raw lines when the mount has those. */
function hostValues(req: AdminRequest): string[] {
  if (req.rawHeaders) {
    const out: string[] = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === 'host') out.push(req.rawHeaders[i + 1]!);
    return out;
  }
  const h = req.headers['host'];
  return h === undefined ? [] : Array.isArray(h) ? h : [h];
}

/** A response decided early (missing parameter, bad body): thrown, then answered as is. */
class Answer extends Error {
  constructor(readonly response: AdminResponse) {
    super(response.body);
  }
}

class ForbiddenKey extends Error {}

const HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } as const;

function json(status: number, body: unknown, extra: Record<string, string> = {}): AdminResponse {
  return { status, headers: { ...HEADERS, ...extra }, body: JSON.stringify(body) };
}

/** `{"status": ..., "status_message": ...}`, the envelope of every answer that has no body of its own. */
function envelope(status: number, s: string, message: string, extra?: Record<string, string>): AdminResponse {
  return json(status, { status: s, status_message: message }, extra);
}

const success = (message = 'success'): AdminResponse => envelope(200, 'success', message);
const fail = (status: number, message: string, extra?: Record<string, string>): AdminResponse => envelope(status, 'fail', message, extra);
const validationError = (message: string): AdminResponse => envelope(403, 'validation_error', message);
const apiNotFound = (id: string): AdminResponse => envelope(404, 'api_not_found', `api ${id} does not exist`);

function header(headers: AdminRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  const s = Array.isArray(v) ? v.join(', ') : v;
  return s === undefined || s.trim() === '' ? undefined : s;
}

function isJsonType(contentType: string): boolean {
  const media = contentType.split(';')[0]!.trim().toLowerCase();
  return media === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(media);
}

function canonicalIp(ip: string | undefined): string {
  if (!ip) return 'unknown';
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

function describeEntry(e: ListEntry): string {
  return [TYPE_LABEL[e.type] ?? e.type, e.name, e.value].filter((x) => x !== undefined).join(' ');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Keys of a body object beyond `allowed`: a typo must fail, not be ignored. */
function onlyKeys(body: Record<string, unknown>, allowed: readonly string[], what: string): void {
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  if (extra.length > 0) throw new Answer(validationError(`${what}: unknown key \`${extra[0]}\`; known keys: ${allowed.join(', ')}`));
}

/**
 * The management REST API (`/v4/ase/...`) of one enforcer, as one framework-neutral handler:
 * `handle(AdminRequest) → AdminResponse`. Mounts (Express, Koa, Fastify, standalone) only carry
 * requests in and responses out. Every call is authenticated (`x-ase-access-key: admin`,
 * `x-ase-secret-key`), throttled on repeated failures, and written to the audit log.
 */
export class AdminApi extends EventEmitter<{ audit: [AuditRecord] }> {
  readonly bodyLimit: number;
  private readonly logger: Logger;
  private readonly throttle: FailureThrottle | undefined;
  /** `allowedHosts` given to this admin API; undefined when unset (each mount decides). */
  readonly hostPolicy: HostPolicy | undefined;
  private readonly auditFile: AuditFile | undefined;
  private readonly routes: Readonly<Record<string, Partial<Record<Method, Handler>>>>;
  /** Where the enforcer's metrics are served (relative to the mount), or false. */
  readonly metricsPath: string | false;
  /** Whether a scrape must carry the admin credentials (`metricsAuth`, else ase.conf's `metrics_auth`). */
  private readonly metricsAuth: boolean;

  constructor(
    readonly enforcer: Enforcer,
    private readonly options: AdminOptions = {},
  ) {
    super();
    this.logger = options.logger ?? enforcer.logger;
    this.bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
    if (!Number.isInteger(this.bodyLimit) || this.bodyLimit < 1) throw new TypeError(`bodyLimit must be a positive whole number of bytes (got ${String(options.bodyLimit)})`);
    this.throttle = options.throttle === false ? undefined : new FailureThrottle(options.throttle);
    this.hostPolicy = hostPolicy(options.allowedHosts);
    this.metricsPath = metricsPathOf(options.metricsPath);
    this.metricsAuth = options.metricsAuth ?? enforcer.conf.metrics_auth;
    const file = options.auditFile ?? (enforcer.configDir ? path.join(enforcer.configDir, 'logs', 'audit.log') : false);
    this.auditFile = file && enforcer.conf.enable_audit ? new AuditFile(file, this.logger) : undefined;
    // Loads data/credentials.json now: a broken file stops the start instead of every later call.
    void enforcer.adminCredentials;
    this.routes = this.routeTable();
  }

  // ------------------------------------------------------------------ entry points

  /**
   * Answers one request. Never throws: every failure is an answer. `opts.hosts` (a mount's or the
   * standalone listener's Host check) takes the place of this admin API's own `allowedHosts`.
   */
  async handle(req: AdminRequest, opts: { hosts?: HostPolicy | undefined } = {}): Promise<AdminResponse> {
    const q = req.url.indexOf('?');
    let p = q < 0 ? req.url : req.url.slice(0, q);
    if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
    const call: Call = { req, path: p, params: new URLSearchParams(q < 0 ? '' : req.url.slice(q + 1)), audit: [] };
    let res: AdminResponse;
    try {
      res = await this.serve(call, opts.hosts ?? this.hostPolicy ?? false);
    } catch (err) {
      res = this.errorAnswer(err);
    }
    this.record(call, res);
    this.enforcer.managementCalls.call(req.method, res.status);
    return res;
  }

  /** Serves a Node request/response pair (what every mount has underneath). */
  async handleNode(req: IncomingMessage, res: ServerResponse, opts: { url?: string; body?: BodySource; hosts?: HostPolicy | undefined } = {}): Promise<void> {
    const answer = await this.handle(
      {
        method: req.method ?? 'GET',
        url: opts.url ?? req.url ?? '/',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        ip: canonicalIp(req.socket.remoteAddress),
        body: opts.body ?? (() => readNodeBody(req, this.bodyLimit)),
      },
      { hosts: opts.hosts },
    );
    writeAdminResponse(res, answer, req.method);
  }

  /** Flushes and closes the audit file. */
  async close(): Promise<void> {
    await this.auditFile?.close();
  }

  // ------------------------------------------------------------------ pipeline

  private async serve(call: Call, hosts: HostPolicy): Promise<AdminResponse> {
    const { req } = call;
    // Before anything about the keys: a rebound page must learn nothing, not even whether a guess was right.
    if (hosts && !hosts.allows(hostValues(req))) return fail(421, HOST_NOT_ALLOWED);
    const metrics = call.path === this.metricsPath;
    if (!metrics || this.metricsAuth) {
      const refused = await this.authenticate(call, metrics);
      if (refused) return refused;
    }

    const methods = this.routes[call.path];
    if (!methods) return fail(404, 'unknown endpoint');
    const handler = methods[req.method as Method];
    if (!handler) return fail(405, `method ${req.method} is not allowed here`, { allow: Object.keys(methods).join(', ') });
    return handler(call);
  }

  /**
   * The admin keys checked, under the failed-login throttle: undefined when they are right, else
   * the answer. A scrape of the metrics path may carry them as `Authorization: Basic` instead.
   */
  private async authenticate(call: Call, metrics: boolean): Promise<AdminResponse | undefined> {
    const { req } = call;
    const locked = (wait: number): AdminResponse =>
      fail(429, `too many failed attempts from ${req.ip}; try again in ${wait} seconds`, { 'retry-after': String(wait) });
    const refuse = (reason: ManagementAuthFailure, answer: AdminResponse): AdminResponse => {
      this.enforcer.managementCalls.authFailure(reason);
      return answer;
    };
    const wait = this.throttle?.retryAfter(req.ip) ?? 0;
    if (wait > 0) return refuse('locked_out', locked(wait));

    let access = header(req.headers, 'x-ase-access-key');
    let secret = header(req.headers, 'x-ase-secret-key');
    const basic = metrics && access === undefined && secret === undefined ? basicCredentials(req.headers) : undefined;
    if (basic) {
      ({ access, secret } = basic);
      call.audit.push(['authorization', 'basic']);
    }
    if (access === undefined) return refuse('missing_key', fail(403, 'x-ase-access-key header missing'));
    if (secret === undefined) return refuse('missing_key', fail(403, 'x-ase-secret-key header missing'));
    // The attempt is counted before the slow comparison, so parallel guesses spend the budget too.
    const reserved = this.throttle?.begin(req.ip) ?? 0;
    if (reserved > 0) return refuse('locked_out', locked(reserved));
    if (!(await this.enforcer.adminCredentials.verify(access, secret))) {
      if (this.throttle?.failed(req.ip)) this.logger.warn(`management API: ${req.ip} locked out after repeated authorization failures`);
      return refuse('wrong_key', fail(403, 'authorization failure'));
    }
    this.throttle?.succeed(req.ip);
    return undefined;
  }

  /** True when a mount should hand this request target (path and query, relative to the mount) to the admin API. */
  serves(url: string): boolean {
    if (isAdminPath(url)) return true;
    if (this.metricsPath === false) return false;
    const q = url.indexOf('?');
    const p = q < 0 ? url : url.slice(0, q);
    return p === this.metricsPath || p === `${this.metricsPath}/`;
  }

  private errorAnswer(err: unknown): AdminResponse {
    if (err instanceof Answer) return err.response;
    if (err instanceof BodyTooLargeError) return fail(413, err.message, { connection: 'close' });
    const e = err as { message?: unknown };
    const message = typeof e?.message === 'string' ? e.message : String(err);
    const wire = err instanceof AseError ? wireAnswer(err.code) : undefined;
    if (wire) return envelope(wire.status, wire.label, wire.message ?? message);
    const cause = (err as { cause?: { message?: unknown } })?.cause?.message;
    this.logger.error(`management API: ${message}${typeof cause === 'string' ? ` (${cause})` : ''}`);
    return fail(500, 'unknown error');
  }

  /** The audit line of a call: secrets masked, identifier values cut to a prefix. */
  private record(call: Call, res: AdminResponse): void {
    if (!this.enforcer.conf.enable_audit) return;
    const { req } = call;
    const access = header(req.headers, 'x-ase-access-key');
    const secretGiven = header(req.headers, 'x-ase-secret-key') !== undefined;
    const cli = header(req.headers, 'x-ase-cli-command');
    const viaCli = cli !== undefined && /^[a-z_]{1,64}$/.test(cli);
    const accessShown = access === undefined ? '(missing)' : access === 'admin' ? access : MASK;
    const fields: [string, string][] = [];
    if (viaCli) fields.push(['username', accessShown]);
    for (const [k, v] of call.params) fields.push([k, v]);
    fields.push(...call.audit);
    if (!viaCli) {
      fields.push(['x-ase-access-key', accessShown]);
      fields.push(['x-ase-secret-key', secretGiven ? MASK : '(missing)']);
    }
    fields.push(['client', req.ip], ['result', String(res.status)]);
    const time = new Date();
    const subject = viaCli ? 'cli' : 'rest_api';
    const action = viaCli ? cli : `${req.method} ${call.path}`;
    const line = formatAudit(time, subject, action, fields);
    this.auditFile?.write(line);
    this.emit('audit', { time, subject, action, fields, line });
  }

  // ------------------------------------------------------------------ request helpers

  private param(call: Call, name: string): string {
    const all = call.params.getAll(name);
    if (all.length === 0 || all[0] === '') throw new Answer(validationError(`query parameter ${name} is required`));
    if (all.length > 1) throw new Answer(validationError(`query parameter ${name} is given more than once`));
    return all[0]!;
  }

  private api(call: Call): string {
    const id = this.param(call, 'api_id');
    if (!this.enforcer.getApi(id)) throw new Answer(apiNotFound(id));
    return id;
  }

  /**
   * The JSON body: content type checked, size capped, UTF-8 only (RFC 8259: other bytes are no JSON
   * text, and a U+FFFD in their place would not read back as sent), `__proto__`/`constructor`/`prototype`
   * and keys given twice in one object refused.
   * `typeless` lets a body without Content-Type through (still parsed as JSON): the reference's
   * flow-control requests send none. A browser cannot forge such a request cross-site anyway: the
   * access-key headers already force a CORS preflight.
   */
  private async body(call: Call, typeless = false): Promise<unknown> {
    const ct = header(call.req.headers, 'content-type');
    if (ct === undefined && !typeless) throw new Answer(fail(403, 'content-type header missing'));
    if (ct !== undefined && !isJsonType(ct)) throw new Answer(fail(415, 'content-type must be application/json'));
    const src = call.req.body;
    const raw = typeof src === 'function' ? await src() : src;
    const decoded = raw === undefined ? { ok: true as const, text: '' } : typeof raw === 'string' ? { ok: true as const, text: raw } : decodeUtf8(raw);
    if (!decoded.ok) throw new Answer(fail(403, 'json parsing error'));
    let text = decoded.text;
    if (Buffer.byteLength(text) > this.bodyLimit) throw new BodyTooLargeError(this.bodyLimit);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    let value: unknown;
    try {
      value = JSON.parse(text, (key, v: unknown) => {
        if (FORBIDDEN_KEYS.has(key)) throw new ForbiddenKey(key);
        return v;
      }) as unknown;
    } catch (err) {
      if (err instanceof ForbiddenKey) throw new Answer(validationError(`key \`${err.message}\` is not allowed`));
      throw new Answer(fail(403, 'json parsing error'));
    }
    const dup = firstDuplicateKey(text);
    if (dup) throw new Answer(validationError(`request body: ${dup.path}: duplicate key \`${dup.key.slice(0, 100)}\`; each key may appear once in an object`));
    return value;
  }

  /** A deny/allow-list entry body: `{type, value}` or `{type, name, value}`. */
  /** A list entry body; with `withTtl` (adds) it may carry `ttl`, the entry's lifetime in seconds. */
  private async entry(call: Call, withTtl = false): Promise<ListEntry & { ttl?: number }> {
    const body = await this.body(call);
    if (!isObject(body)) throw new Answer(validationError('the body must be an object like {"type": "ip", "value": "1.1.1.1"}'));
    onlyKeys(body, withTtl ? ['type', 'name', 'value', 'ttl'] : ['type', 'name', 'value'], 'entry');
    const ttl = body['ttl'];
    if (ttl !== undefined) call.audit.push(['ttl', String(ttl)]);
    if (body['name'] !== undefined && body['type'] !== 'cookie' && body['type'] !== 'api_key') {
      throw new Answer(validationError('name applies to cookie and api_key entries only'));
    }
    const e = canonicalEntry(body);
    call.audit.push(['type', e.type]);
    if (e.name !== undefined) call.audit.push(['name', e.name]);
    call.audit.push(['value', maskIdentifier(e.type, e.value)]);
    return ttl === undefined ? e : { ...e, ttl: checkTtl(ttl) };
  }

  /**
   * A list page's entries, with `?sort=` and paging (`?limit=`, `?offset=`) applied. Each
   * `<tag>_blacklist` array is sorted and paged on its own.
   */
  private page(call: Call, entries: StoredEntry[]): Record<string, unknown>[] {
    const sort = this.oneParam(call, 'sort', (v) => LIST_SORTS.some((f) => v === f || v === `-${f}`));
    const limit = this.oneParam(call, 'limit', (v) => /^[0-9]{1,6}$/.test(v) && Number(v) >= 1);
    const offset = this.oneParam(call, 'offset', (v) => /^[0-9]{1,9}$/.test(v));
    const sorted = sort === undefined ? entries : sortEntries(entries, sort);
    const from = offset === undefined ? 0 : Number(offset);
    const paged = limit === undefined && from === 0 ? sorted : sorted.slice(from, limit === undefined ? undefined : from + Number(limit));
    return paged.map(renderListedEntry);
  }

  private oneParam(call: Call, name: string, valid: (v: string) => boolean): string | undefined {
    const v = call.params.getAll(name);
    if (v.length === 0) return undefined;
    if (v.length > 1 || !valid(v[0]!)) throw new Answer(envelope(403, 'invalid_value', `query parameter ${name} contains invalid value`));
    return v[0];
  }

  /** `{"<key>": {...}}`: the one object a server or flow-control body carries. */
  private async wrapped(call: Call, key: string, example: string, typeless = false): Promise<Record<string, unknown>> {
    const body = await this.body(call, typeless);
    if (!isObject(body) || !isObject(body[key])) throw new Answer(validationError(`the body must be an object like ${example}`));
    onlyKeys(body, [key], 'body');
    return body[key] as Record<string, unknown>;
  }

  private switchParam(call: Call): boolean {
    const s = call.params.getAll('status');
    if (s.length !== 1 || (s[0] !== 'enable' && s[0] !== 'disable')) {
      throw new Answer(envelope(403, 'invalid_value', 'query parameter status contains invalid value'));
    }
    return s[0] === 'enable';
  }

  /** GET reads an on/off setting, POST `?status=enable|disable` sets it (`update` says whether it changed). */
  private switchRoutes(label: string, state: () => boolean, update: (on: boolean) => Promise<boolean>): Partial<Record<Method, Handler>> {
    return {
      GET: async () => envelope(200, state() ? 'enabled' : 'disabled', 'Ok'),
      POST: async (call) => {
        const on = this.switchParam(call);
        const changed = await update(on);
        const word = on ? 'enabled' : 'disabled';
        return envelope(200, word, `${label} is ${changed ? 'now' : 'already'} ${word}`);
      },
    };
  }

  private tagParam(call: Call, allowed: readonly string[], readOnly = false): string {
    const t = call.params.getAll('tag');
    if (t.length === 0) return 'all';
    // The reference's examples read the list with `?tag=`: empty means the default when reading only.
    if (t.length === 1 && t[0] === '' && readOnly) return 'all';
    if (t.length > 1 || !allowed.includes(t[0]!)) throw new Answer(envelope(403, 'invalid_value', 'query parameter tag contains invalid value'));
    return t[0]!;
  }

  private info(): ServiceInfo & { http_ws_port: number; management_port: number } {
    const given = this.options.info?.() ?? {};
    return {
      http_ws_port: given.http_ws_port ?? this.enforcer.conf.http_ws_port,
      management_port: given.management_port ?? this.enforcer.conf.management_port,
      ...(given.framework !== undefined ? { framework: given.framework } : {}),
    };
  }

  // ------------------------------------------------------------------ endpoints

  private routeTable(): Record<string, Partial<Record<Method, Handler>>> {
    const e = this.enforcer;
    const P = ADMIN_PREFIX;
    const SERVER_EXAMPLE = '{"server": {"host": "127.0.0.1", "port": 8080}}';
    return {
      // Prometheus's text format (docs/metrics.md), beside the JSON endpoints.
      ...(this.metricsPath === false ? {} : { [this.metricsPath]: { GET: () => scrape(e) } }),

      [`${P}/api`]: {
        GET: async (call) => {
          if (!call.params.has('api_id')) {
            const ids = e.listApis().map((a) => a.id).sort();
            return json(200, { api_count: String(ids.length), api: ids.map((api_id) => ({ api_id, status: 'loaded' })) });
          }
          const id = this.api(call);
          return json(200, renderApi(e.getApi(id)!.json));
        },
        POST: async (call) => {
          const id = this.param(call, 'api_id');
          await e.createApi(id, await this.body(call));
          return success();
        },
        PUT: async (call) => {
          const id = this.api(call);
          await e.updateApi(id, await this.body(call));
          return success();
        },
        DELETE: async (call) => {
          await e.deleteApi(this.api(call));
          return success();
        },
      },

      [`${P}/server`]: {
        GET: async (call) => {
          const id = this.api(call);
          const api = e.getApi(id)!;
          const pool = e.serverPool(id);
          const servers = api.json.api_metadata.servers.map((s) => {
            const u = pool?.servers.find((x) => x.host === s.host && x.port === s.port);
            return { ...renderServerForList(renderServer(s, api.meta.protocol)), health_status: u && pool?.isUsable(u) ? 'Up' : 'Down' };
          });
          return json(200, { api_id: id, server_count: servers.length, server: servers });
        },
        POST: async (call) => {
          const id = this.api(call);
          const server = await this.wrapped(call, 'server', SERVER_EXAMPLE);
          call.audit.push(['server', `${String(server['host'])}:${String(server['port'])}`]);
          await e.addServer(id, server);
          return success();
        },
        DELETE: async (call) => {
          const id = this.api(call);
          const server = await this.wrapped(call, 'server', SERVER_EXAMPLE);
          onlyKeys(server, ['host', 'port'], 'server');
          call.audit.push(['server', `${String(server['host'])}:${String(server['port'])}`]);
          await e.deleteServer(id, server);
          return success();
        },
      },

      // A dry run of the decision (docs/explain.md). The target may carry credentials in its
      // query: the audit line names only what was decided.
      [`${P}/explain`]: {
        POST: async (call) => {
          const x = await e.explain(await this.body(call));
          call.audit.push(['api', x.api ?? '(none)'], ['outcome', x.outcome]);
          return json(200, x);
        },
      },

      [`${P}/cluster`]: {
        GET: async () => {
          const cluster = await this.options.cluster?.();
          if (!cluster) return envelope(404, 'no_cluster_mode', 'ase is not in cluster mode');
          const redis = cluster.redis === undefined ? {} : { redis: cluster.redis };
          return json(200, { cluster_id: cluster.cluster_id, node_count: cluster.node.length, node: cluster.node, ...redis });
        },
      },

      [`${P}/persistentconnection`]: {
        GET: async (call) => {
          const id = this.api(call);
          return json(200, { api_id: id, persistent_connection_count: e.persistentConnections(id) });
        },
      },

      [`${P}/firewall`]: this.switchRoutes('Firewall', () => e.firewallEnabled, (on) => e.updateFirewall(on)),

      [`${P}/firewall/blacklist`]: {
        GET: async (call) => {
          const tag = this.tagParam(call, ['all', ...DENY_TAGS], true);
          const tags = tag === 'all' ? DENY_TAGS : [tag as DenyTag];
          await e.refreshListHits();
          const out: Record<string, Record<string, unknown>[]> = {};
          for (const t of tags) out[`${t}_blacklist`] = this.page(call, e.denyList.list(t, true));
          return json(200, out);
        },
        POST: async (call) => {
          const { ttl, ...entry } = await this.entry(call, true);
          return (await e.addDeny(entry, 'manual', { ttl })) ? success(`${describeEntry(entry)} added to blacklist`) : fail(403, `${describeEntry(entry)} already exist`);
        },
        DELETE: async (call) => {
          if (call.params.has('tag')) {
            const tag = this.tagParam(call, ['all', ...DENY_TAGS]);
            await e.clearDeny(tag === 'all' ? undefined : (tag as DenyTag));
            return success(tag === 'all' ? 'Blacklist cleared' : `Blacklist cleared of ${tag} entries`);
          }
          const entry = await this.entry(call);
          return (await e.removeDeny(entry)) ? success(`${describeEntry(entry)} deleted from blacklist`) : fail(404, `${describeEntry(entry)} does not exist`);
        },
      },

      [`${P}/firewall/whitelist`]: {
        GET: async (call) => {
          this.tagParam(call, ['all', 'manual'], true);
          return json(200, { whitelist: this.page(call, e.allowList.list(undefined, true)) });
        },
        POST: async (call) => {
          const { ttl, ...entry } = await this.entry(call, true);
          return (await e.addAllow(entry, { ttl })) ? success(`${describeEntry(entry)} added to whitelist`) : fail(403, `${describeEntry(entry)} already exist`);
        },
        DELETE: async (call) => {
          if (call.params.has('tag')) {
            this.tagParam(call, ['all', 'manual']);
            await e.clearAllow();
            return success('Whitelist cleared');
          }
          const entry = await this.entry(call);
          return (await e.removeAllow(entry)) ? success(`${describeEntry(entry)} deleted from whitelist`) : fail(404, `${describeEntry(entry)} does not exist`);
        },
      },

      [`${P}/firewall/flowcontrol`]: {
        GET: async (call) => {
          const id = this.api(call);
          return json(200, { api_id: id, flow_control: renderFlowControl(e.getFlowControl(id), e.getApi(id)!.meta.protocol) });
        },
        POST: async (call) => {
          const id = this.api(call);
          const changes = await this.wrapped(call, 'flow_control', '{"flow_control": {"client_spike_threshold": "100/second"}}', true);
          for (const [k, v] of Object.entries(changes)) call.audit.push([k, String(v)]);
          const fc = await e.updateFlowControl(id, changes);
          return json(200, { api_id: id, flow_control: renderFlowControl(fc, e.getApi(id)!.meta.protocol) });
        },
      },

      [`${P}/firewall/flowcontrol/server`]: {
        POST: async (call) => {
          const id = this.api(call);
          const server = await this.wrapped(call, 'server', '{"server": {"host": "127.0.0.1", "port": 8080, "server_connection_quota": 100}}', true);
          for (const [k, v] of Object.entries(server)) call.audit.push([k, String(v)]);
          await e.updateServerFlowControl(id, server);
          return success('server updated successfully');
        },
      },

      // Beyond the reference's REST pages: what the CLI's status, enable/disable_ase_detected_attack
      // and update_password commands need.
      [`${P}/status`]: {
        GET: async () => {
          const info = this.info();
          const mem = e.attackListMemory;
          return json(200, {
            status: 'started',
            mode: 'inline',
            framework: info.framework,
            http_ws_port: info.http_ws_port,
            management_port: info.management_port,
            firewall: e.firewallEnabled ? 'enabled' : 'disabled',
            audit: e.conf.enable_audit ? 'enabled' : 'disabled',
            ase_detected_attack: e.aseDetectedAttacksEnabled ? 'enabled' : 'disabled',
            attack_list_memory: { configured: mem.configured, used: mem.used, free: Math.max(0, mem.configured - mem.used) },
            api_count: e.listApis().length,
            admin_log_level: e.conf.admin_log_level,
            timezone: 'UTC',
          });
        },
      },

      [`${P}/asedetectedattack`]: this.switchRoutes('ASE detected attack', () => e.aseDetectedAttacksEnabled, (on) => e.updateAseDetectedAttacks(on)),

      [`${P}/password`]: {
        POST: async (call) => {
          const body = await this.body(call);
          if (!isObject(body)) throw new Answer(validationError('the body must be an object like {"new_password": "..."}'));
          onlyKeys(body, ['new_password'], 'body');
          call.audit.push(['new_password', MASK]);
          await e.adminCredentials.setSecret(body['new_password'] as string);
          return success('password updated successfully');
        },
      },
    };
  }
}

/** Read server lists the reference's way: host, port, quota, then spike threshold. */
function renderServerForList(s: Record<string, unknown>): Record<string, unknown> {
  const { host, port, server_connection_quota, ...rest } = s;
  return { host, port, server_connection_quota, ...rest };
}

/** Writes an AdminResponse to a Node response (no body for HEAD). */
export function writeAdminResponse(res: ServerResponse, answer: AdminResponse, method?: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(answer.status, { ...answer.headers, 'content-length': String(Buffer.byteLength(answer.body)) });
  res.end(method === 'HEAD' ? undefined : answer.body);
}

/** An admin API for an enforcer. Create one per enforcer and give it to every mount. */
export function createAdmin(enforcer: Enforcer, options?: AdminOptions): AdminApi {
  return new AdminApi(enforcer, options);
}

/** Mounts accept an AdminApi or an enforcer (for which they make one). */
export function toAdmin(x: AdminApi | Enforcer, options?: AdminOptions): AdminApi {
  if (x instanceof AdminApi) return x;
  // Duck-typed too: a second copy of this package (or of core) must not make an AdminApi an enforcer.
  const maybe = x as unknown as Partial<AdminApi>;
  if (typeof maybe.handle === 'function' && typeof maybe.handleNode === 'function') return x as unknown as AdminApi;
  return new AdminApi(x as Enforcer, options);
}

/** True when a mount should hand this path to the admin API. */
export function isAdminPath(urlPath: string): boolean {
  return urlPath === ADMIN_PREFIX || urlPath.startsWith(`${ADMIN_PREFIX}/`) || urlPath.startsWith(`${ADMIN_PREFIX}?`);
}

/**
 * Puts a framework mount of the management API outside the enforcer's data path: the enforcer's
 * middleware hands it the requests under `mountPath` + `/v4/ase` before deciding. `seenAt(path)`
 * is told where the framework actually mounted it; a different path (a forgotten `mountPath`)
 * moves the hand-over there, with a warning, so the admin is not also answered where it was not mounted.
 */
export function outsideDataPath(a: AdminApi, mountPath: string, hosts: HostPolicy | undefined): { seenAt(actual: string): void } {
  const handler = (req: IncomingMessage, res: ServerResponse, url: string): Promise<void> => a.handleNode(req, res, { url, hosts });
  let current = mountPath === '/' ? '' : mountPath;
  let remove = a.enforcer.managementMounts.add(current, handler);
  let warned = false;
  return {
    seenAt(actual) {
      if (actual === current) return;
      remove();
      if (!warned) a.enforcer.logger.warn(
        `the management API is mounted at "${actual}" but its mountPath is "${current}": pass mountPath: '${actual}' so operators reach it even when the lists block them`,
      );
      warned = true;
      current = actual;
      try {
        remove = a.enforcer.managementMounts.add(actual, handler);
      } catch {
        remove = () => undefined; // a path that is not plain (route parameters): left to the app's order
      }
    },
  };
}
