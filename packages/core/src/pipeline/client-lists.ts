import type { CompiledApi } from '../api/compiled-api';
import { type ClientIdentifiers, type UsernameTrust, apiKeysDisagree, readApiKey, readCookie, readToken, readUsername } from '../identity/identifiers';
import type { ClientList, StoredEntry } from '../lists/client-list';
import { blockedEvent } from '../security-event';
import type { ListEntry } from '../lists/entries';
import type { Decision, EnforcerRequest } from '../types';
import { type DecisionContext, clientKey, respond } from './context';

/** The allow-list stage: true when one of the client's identifiers is allow-listed. */
export function isAllowListed(ctx: DecisionContext, ids: ClientIdentifiers): boolean {
  return findListed(ctx.allowList, ids, false) !== undefined;
}

/** The client's first deny-listed identifier. */
export function findDenied(ctx: DecisionContext, ids: ClientIdentifiers): StoredEntry | undefined {
  return findListed(ctx.denyList, ids, true) ?? (ctx.dryRun ? wouldBeDenied(ctx, ids) : undefined);
}

/**
 * In a dry run, the entries its detections would have added so far: a replayed honeytoken lists its
 * sender before the deny-list stage, which then refuses the real request; explain must say so.
 */
function wouldBeDenied(ctx: DecisionContext, ids: ClientIdentifiers): StoredEntry | undefined {
  for (const d of ctx.dryRun!.detections) {
    if (d.listed && carries(ctx, ids, d.identifier)) return { ...d.identifier, tag: d.kind, via: 'detection' };
  }
  return undefined;
}

function carries(ctx: DecisionContext, ids: ClientIdentifiers, e: ListEntry): boolean {
  switch (e.type) {
    case 'ip':
      return clientKey(ctx, ids.ip) === e.value;
    case 'token':
      return ids.token === e.value || (ids.otherTokens?.includes(e.value) ?? false);
    case 'api_key':
      return [ids.apiKey, ...(ids.otherApiKeys ?? [])].some((k) => k !== undefined && k.name === e.name && k.value === e.value);
    case 'cookie':
      return ids.cookie !== undefined && ids.cookie.name === e.name && (ids.cookie.value === e.value || (ids.otherCookies?.includes(e.value) ?? false));
    case 'username':
      return ids.username === e.value || (ids.otherUsernames?.includes(e.value) ?? false);
  }
}

/**
 * The deny-list stage's outcome for `denied`, the client's entry: 403 when the API blocks (the
 * detection is reported either way), undefined when the request may go on.
 */
export function refuseDenied(ctx: DecisionContext, api: CompiledApi, req: EnforcerRequest, denied: StoredEntry | undefined): Decision | undefined {
  if (!denied) return undefined;
  if (ctx.events.listenerCount('blocked') > 0) ctx.events.emit('blocked', blockedEvent('deny_list', api.id, req, denied, api.enableBlocking));
  if (!api.enableBlocking) return undefined;
  // A dry run (explain) changes nothing, an entry's history included.
  if (!ctx.dryRun) ctx.denyList.hit(denied);
  // The decision names the entry's type and tag, never its value: decisions are not secrets.
  return respond('deny_list', api, api.blockResponse, { type: denied.type, tag: denied.tag });
}

/**
 * The first listed identifier. On the deny list every copy counts (`other*`: any listed copy
 * blocks); on the allow list an identifier whose copies disagree counts for nothing, since the
 * backend may read the copy that is not listed.
 */
function findListed(list: ClientList, ids: ClientIdentifiers, deny: boolean): StoredEntry | undefined {
  if (list.size === 0) return undefined;
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
 * `findDenied(ctx, ids)` while `ids` (holding the IP) is filled in, step by step in the same
 * order: reading stops at the first listed identifier. `ids` is complete when nothing is.
 */
export function readUntilDenied(ctx: DecisionContext, api: CompiledApi, req: EnforcerRequest, ids: ClientIdentifiers, trust: UsernameTrust | undefined): StoredEntry | undefined {
  const list = ctx.denyList;
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
  return ctx.dryRun ? wouldBeDenied(ctx, ids) : undefined;
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
