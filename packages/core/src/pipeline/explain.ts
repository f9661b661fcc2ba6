import type { CompiledApi } from '../api/compiled-api';
import type { EnforcerEventSink } from '../events';
import { type ClientIdentifiers, extractIdentifiers } from '../identity/identifiers';
import type { DenyTag, EntryType } from '../lists/entries';
import { maskIdentifier } from '../logs/mask';
import type { ExplainRequest } from '../request/explain-request';
import type { Decision, RawRequest, RespondReason } from '../types';
import { isAllowListed } from './client-lists';
import { type DecisionContext, type DryRun } from './context';
import { decide } from './decide';
import { usernameTrust } from './identify';


export type ExplainStage = 'normalise' | 'match' | 'decoy' | 'identify' | 'allow_list' | 'deny_list' | 'pattern' | 'flow_control' | 'route';
export type ExplainOutcome = 'pass' | 'block' | 'decoy' | 'redirect' | 'rate_limited' | 'refuse' | 'health';

export interface ExplainIdentifier {
  type: EntryType;
  name?: string;
  /** Masked as the access log masks it: tokens, API keys and cookies show their first 4 characters. */
  value: string;
  listed: 'deny' | 'allow' | null;
}

/** What the enforcer would do with a request (docs/explain.md). */
export interface Explanation {
  /** The API that matched; null when none did. */
  api: string | null;
  /** Why no API matched: no API serves the host, none has a matching url prefix, or the request was refused before matching. */
  match: 'no_host' | 'no_prefix' | 'not_reached' | null;
  stage: ExplainStage;
  outcome: ExplainOutcome;
  /** The enforcer's own reason for answering (as in the access log); null when the request goes on. */
  reason: RespondReason | null;
  /** The status the enforcer would answer; null when the app or a backend answers. */
  status: number | null;
  identifiers: ExplainIdentifier[];
  /** The detections this request would record, and whether each would add a deny-list entry. */
  would_list: { kind: DenyTag; identifier: { type: EntryType; name?: string; value: string }; listed: boolean }[];
  /** `app` (the host app's next handler), a backend server `host:port`, or null when the enforcer answers. */
  route: string | null;
}

const NO_EVENTS: EnforcerEventSink = { emit: () => false, listenerCount: () => 0 };

/**
 * Runs the decision stages on `input` in a dry run: the same code as a real request, with a copy of
 * the context whose stages note instead of act (no list writes, no events, no counters consumed,
 * no scheduler slots), and nothing reaches the access log since no adapter is involved.
 */
export async function explain(ctx: DecisionContext, input: ExplainRequest): Promise<Explanation> {
  const dryRun: DryRun = { detections: [] };
  const dry: DecisionContext = { ...ctx, events: NO_EVENTS, recordListChange: () => undefined, dryRun };
  const decision = await decide(dry, rawRequest(input));
  return describe(ctx, decision, dryRun);
}

function rawRequest(input: ExplainRequest): RawRequest {
  const headers = Object.create(null) as Record<string, string | string[]>;
  const rawHeaders: string[] = [];
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    const key = name.toLowerCase();
    const values = typeof value === 'string' ? [value] : [...value];
    for (const v of values) rawHeaders.push(name, v);
    const prior = headers[key];
    const all = prior === undefined ? values : [...(typeof prior === 'string' ? [prior] : prior), ...values];
    headers[key] = all.length === 1 ? all[0]! : all;
  }
  const absolute = /^(https?|wss?):\/\/([^/?#]*)/i.exec(input.url);
  if (absolute && headers['host'] === undefined) {
    headers['host'] = absolute[2]!;
    rawHeaders.push('Host', absolute[2]!);
  }
  const scheme = absolute?.[1]!.toLowerCase();
  return {
    method: input.method.toUpperCase(),
    url: input.url,
    headers,
    rawHeaders,
    remoteAddress: input.ip ?? '127.0.0.1',
    encrypted: scheme === 'https' || scheme === 'wss',
    upgrade: scheme === 'ws' || scheme === 'wss',
  };
}

const STAGE_OF: Readonly<Record<RespondReason, ExplainStage>> = {
  malformed: 'normalise',
  health: 'normalise',
  unknown_api: 'match',
  unknown_hostname: 'match',
  decoy: 'decoy',
  invalid_jwt: 'identify',
  deny_list: 'deny_list',
  invalid_protocol: 'pattern',
  invalid_method: 'pattern',
  invalid_content_type: 'pattern',
  cors_preflight: 'pattern',
  missing_token: 'pattern',
  redirect: 'pattern',
  rate_limited: 'flow_control',
  server_busy: 'flow_control',
  no_backend: 'route',
};

function outcomeOf(reason: RespondReason): ExplainOutcome {
  switch (reason) {
    case 'decoy':
    case 'redirect':
    case 'rate_limited':
    case 'health':
      return reason;
    case 'deny_list':
    case 'invalid_jwt':
    case 'invalid_protocol':
    case 'invalid_method':
    case 'invalid_content_type':
    case 'cors_preflight':
    case 'missing_token':
      return 'block';
    default:
      return 'refuse';
  }
}

function describe(ctx: DecisionContext, decision: Decision, dryRun: DryRun): Explanation {
  const api = decision.api;
  const ids = api && dryRun.request ? extractIdentifiers(api, dryRun.request, usernameTrust(ctx, api, dryRun.request, dryRun.jwt)) : undefined;
  const match = api ? null : dryRun.unmatched === 'no_host' ? 'no_host' : dryRun.unmatched === 'no_api' ? 'no_prefix' : 'not_reached';
  const base = {
    api: api?.id ?? null,
    match,
    identifiers: ids ? identifiersOf(ctx, ids) : [],
    would_list: dryRun.detections.map((d) => ({ kind: d.kind, identifier: masked(d.identifier.type, d.identifier.value, d.identifier.name), listed: d.listed })),
  } as const;
  if (decision.action === 'respond') {
    return { ...base, stage: STAGE_OF[decision.reason], outcome: outcomeOf(decision.reason), reason: decision.reason, status: decision.response.status, route: null };
  }
  return { ...base, stage: passStage(ctx, api, ids), outcome: 'pass', reason: null, status: null, route: decision.action === 'proxy' ? decision.upstream.id : 'app' };
}

/** The stage that let the request go on: no API to enforce, the allow list (which skips the checks), or the route. */
function passStage(ctx: DecisionContext, api: CompiledApi | undefined, ids: ClientIdentifiers | undefined): ExplainStage {
  if (!api) return 'match';
  return ctx.firewall && ids && ctx.allowList.size > 0 && isAllowListed(ctx, ids) ? 'allow_list' : 'route';
}

function masked(type: EntryType, value: string, name: string | undefined): { type: EntryType; name?: string; value: string } {
  return name === undefined ? { type, value: maskIdentifier(type, value) } : { type, name, value: maskIdentifier(type, value) };
}

/** Every identifier the API captures from the request (every copy), with the list it is on. */
function identifiersOf(ctx: DecisionContext, ids: ClientIdentifiers): ExplainIdentifier[] {
  const found: [EntryType, string, string | undefined][] = [['ip', ids.ip, undefined]];
  for (const t of [ids.token, ...(ids.otherTokens ?? [])]) if (t !== undefined) found.push(['token', t, undefined]);
  for (const k of [ids.apiKey, ...(ids.otherApiKeys ?? [])]) if (k) found.push(['api_key', k.value, k.name]);
  if (ids.cookie) for (const c of [ids.cookie.value, ...(ids.otherCookies ?? [])]) found.push(['cookie', c, ids.cookie.name]);
  for (const u of [ids.username, ...(ids.otherUsernames ?? [])]) if (u !== undefined) found.push(['username', u, undefined]);
  return found.map(([type, value, name]) => {
    const listed = ctx.denyList.get(type, value, name) ? 'deny' : ctx.allowList.get(type, value, name) ? 'allow' : null;
    return { ...masked(type, value, name), listed };
  });
}
