import type { CompiledApi } from '../api/compiled-api';
import type { Honeytoken } from '../honeytokens/honeytoken-table';
import { newHoneytokenValue, plannedKinds, plantedResponse } from '../honeytokens/planting';
import { basicCredentials, decodedForScan, findHoneytoken } from '../honeytokens/token-scan';
import { extractIdentifiers } from '../identity/identifiers';
import type { ListEntry } from '../lists/entries';
import type { MatchResult } from '../match/api-matcher';
import type { ResponseSpec } from '../policy/responses';
import type { NormalizedTarget } from '../request/normalize-path';
import { honeytokenEvent } from '../security-event';
import type { EnforcerRequest, RawRequest } from '../types';
import { listDetected } from './attack-recorder';
import { type DecisionContext, clientKey } from './context';
import { enforcerRequest } from './normalise';

/**
 * The decoy's answer with its honeytokens planted: the tokens this client already received from
 * this API's decoy when they are still remembered (hitting the decoy in a loop plants nothing new),
 * fresh ones otherwise, remembered and stored. A dry run plants nothing.
 */
export function plantHoneytokens(ctx: DecisionContext, api: CompiledApi, req: EnforcerRequest): ResponseSpec {
  const plan = api.decoy.honeytokens;
  if (!plan || ctx.dryRun) return api.decoy.response;
  const key = clientKey(ctx, req.ip);
  const known = ctx.honeytokens.plantedFor(api.id, key);
  const tokens: Honeytoken[] = [];
  for (const kind of plannedKinds(plan)) {
    let t = known?.find((k) => k.kind === kind);
    if (!t) {
      t = { value: newHoneytokenValue(kind), kind, api: api.id, plantedTo: key, plantedAt: Date.now() };
      ctx.honeytokens.add(t);
      ctx.recordHoneytoken(t);
    }
    tokens.push(t);
  }
  return plantedResponse(api.decoy.response, plan, tokens);
}

/**
 * The honeytoken stage, before anything else looks at the client, on every request while any
 * honeytoken is remembered (one size check otherwise): a request carrying one anywhere — any
 * header (a Basic credential decoded), the path or the query string, percent-escaped or not —
 * comes from someone who read it off a decoy. Its address and, on an API, its identifiers are
 * deny-listed with the tag `honeytoken`, and a `honeytoken` event names the token's planting.
 * The request then goes on: the deny-list stage refuses it where the API blocks, and a request no
 * API matched is answered (or passed to the app) as ever, its sender listed all the same.
 */
export function catchHoneytoken(ctx: DecisionContext, raw: RawRequest, target: Extract<NormalizedTarget, { ok: true }>, host: string, match: MatchResult): void {
  const token = findInRequest(ctx, raw);
  if (!token) return;
  const api = match.kind === 'api' ? match.api : undefined;
  const req = enforcerRequest(ctx, raw, target, host);
  // What the listed events say: the API refuses a listed client.
  const blocks = api !== undefined && api.enableBlocking && ctx.firewall;
  const apiId = api?.id ?? null;
  const { entry, listed } = listDetected(ctx, apiId, req, 'honeytoken', { type: 'ip', value: req.ip }, blocks);
  if (api) for (const id of identifiersOf(api, req)) if (id.value !== token.value) listDetected(ctx, apiId, req, 'honeytoken', id, blocks);
  if (ctx.dryRun) return;
  // Whether this request is refused: its address is listed now (nobody is with detection off) and not allow-listed.
  const blocked = blocks && ctx.denyList.get('ip', req.ip) !== undefined && ctx.allowList.get('ip', req.ip) === undefined;
  if (api) ctx.events.emit('attack', { kind: 'honeytoken', api: api.id, ip: req.ip, identifier: entry, listed, blocked });
  if (ctx.events.listenerCount('honeytoken') > 0) ctx.events.emit('honeytoken', honeytokenEvent(apiId, req, entry, token, blocked));
}

function findInRequest(ctx: DecisionContext, raw: RawRequest): Honeytoken | undefined {
  const table = ctx.honeytokens;
  const t = findHoneytoken(table, decodedForScan(raw.url));
  if (t) return t;
  const headers = raw.headers;
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined) continue;
    if (typeof v === 'string') {
      const found = inHeader(table, name, v);
      if (found) return found;
    } else {
      for (const value of v) {
        const found = inHeader(table, name, value);
        if (found) return found;
      }
    }
  }
  return undefined;
}

/** The header's value as sent, then the forms a client may have wrapped the token in: Basic credentials, escapes in a cookie. */
function inHeader(table: DecisionContext['honeytokens'], name: string, value: string): Honeytoken | undefined {
  const t = findHoneytoken(table, value);
  if (t) return t;
  if (name === 'authorization' || name === 'proxy-authorization') {
    const basic = basicCredentials(value);
    return basic === undefined ? undefined : findHoneytoken(table, basic);
  }
  if (name === 'cookie' && value.indexOf('%') >= 0) return findHoneytoken(table, decodedForScan(value));
  return undefined;
}

/** The identifiers the API reads, each one (every copy of each): an attacker's throwaway key goes on the list with its address. */
function identifiersOf(api: CompiledApi, req: EnforcerRequest): ListEntry[] {
  const ids = extractIdentifiers(api, req);
  const out: ListEntry[] = [];
  for (const v of [ids.token, ...(ids.otherTokens ?? [])]) if (v !== undefined) out.push({ type: 'token', value: v });
  for (const k of [ids.apiKey, ...(ids.otherApiKeys ?? [])]) if (k) out.push({ type: 'api_key', name: k.name, value: k.value });
  for (const v of ids.cookie ? [ids.cookie.value, ...(ids.otherCookies ?? [])] : []) out.push({ type: 'cookie', name: ids.cookie!.name, value: v });
  return out;
}
