import type { CompiledApi } from '../api/compiled-api';
import { typeIndex } from '../lists/client-list';
import type { DenyTag, ListEntry } from '../lists/entries';
import { type EntryMeta, MAX_HISTORY_TEXT } from '../lists/entry-records';
import { keyHash } from '../lists/presence-filter';
import type { ClientIdentifiers } from '../identity/identifiers';
import { type EventRequest, listEvent, securityEvent } from '../security-event';
import type { EnforcerRequest } from '../types';
import { type DecisionContext, clientKey } from './context';

/**
 * An ASE-detected attack: deny-list the identifier when enabled, and tell subscribers. An IP is
 * listed as its client key (an IPv6 client's network). A client address whose violations come
 * under `ip_rotation_threshold` distinct stronger identifiers is listed itself, with the same tag.
 */
export function recordAttack(ctx: DecisionContext, api: CompiledApi, req: EnforcerRequest, kind: DenyTag, identifier: ListEntry, blocked = api.enableBlocking, rotated = false): void {
  const { entry, listed } = listDetected(ctx, api.id, req, kind, identifier, blocked);
  if (ctx.dryRun) return;
  ctx.events.emit('attack', { kind, api: api.id, ip: req.ip, identifier: entry, listed, blocked });
  // The client address listed for rotating identifiers is the same violation: one event for it.
  const type = kind === 'decoy' ? 'decoy' : 'violation';
  if (!rotated && ctx.events.listenerCount(type) > 0) ctx.events.emit(type, securityEvent(type, api.id, kind, req, entry, blocked));
  if (ctx.aseDetected && identifier.type !== 'ip' && ctx.rotation.note(clientKey(ctx, req.ip), keyHash(typeIndex(identifier.type), identifier.name ?? '', identifier.value))) {
    recordAttack(ctx, api, req, kind, { type: 'ip', value: req.ip }, blocked, true);
  }
}

/**
 * Deny-lists a detected identifier when ASE-detected attacks are on (never a trusted proxy's
 * address, never an allow-listed identifier), with its `listed` event; a dry run only notes it.
 * `api` is null for a request no API matched (a honeytoken replayed anywhere).
 */
export function listDetected(ctx: DecisionContext, api: string | null, req: EnforcerRequest, kind: DenyTag, identifier: ListEntry, blocked: boolean): { entry: ListEntry; listed: boolean } {
  let listed = false;
  const protectedProxy = identifier.type === 'ip' && ctx.conf.enable_xff && ctx.trusted.has(identifier.value);
  const entry: ListEntry = identifier.type === 'ip' ? { type: 'ip', value: clientKey(ctx, identifier.value) } : identifier;
  if (ctx.dryRun) {
    const listable = ctx.aseDetected && !protectedProxy && !ctx.allowList.has(identifier.type, identifier.value, identifier.name);
    ctx.dryRun.detections.push({ kind, identifier: entry, listed: listable && !ctx.denyList.has(entry.type, entry.value, entry.name) });
    return { entry, listed: false };
  }
  if (ctx.aseDetected && !protectedProxy && !ctx.allowList.has(identifier.type, identifier.value, identifier.name)) {
    try {
      listed = ctx.denyList.add(entry, kind, { meta: detectionMeta(ctx, api, req, kind) });
      if (listed) {
        const stored = ctx.denyList.entry(entry)!;
        ctx.recordListChange({ list: 'blacklist', op: 'add', entry: stored });
        if (ctx.events.listenerCount('listed') > 0) ctx.events.emit('listed', listEvent('listed', 'deny', 'detection', stored, api, req, blocked));
      }
    } catch (err) {
      ctx.logger.error(`could not deny-list ${identifier.type} for ${kind}: ${(err as Error).message}`);
    }
  }
  return { entry, listed };
}

/**
 * A detection's history (API, request id) and expiry (`deny_list_ttl` of its tag). The request id
 * is the `X-Request-Id` the client or a proxy in front sent: kept for finding the request in other
 * logs, trusted for nothing, and only when it is short printable text.
 */
function detectionMeta(ctx: DecisionContext, api: string | null, req: EnforcerRequest, kind: DenyTag): EntryMeta {
  const now = Date.now();
  const meta: EntryMeta = { addedAt: now, via: 'detection' };
  if (api !== null) meta.api = api;
  const ttl = ctx.conf.deny_list_ttl[kind];
  if (ttl) meta.expiresAt = now + ttl;
  const rid = req.headers['x-request-id'];
  // eslint-disable-next-line no-control-regex
  if (typeof rid === 'string' && rid.length > 0 && rid.length <= MAX_HISTORY_TEXT && !/[\x00-\x1f\x7f]/.test(rid)) meta.requestId = rid;
  return meta;
}

/** Violations are pinned on the strongest identifier: token, else API key, else cookie, else IP. */
export function strongestIdentifier(ids: ClientIdentifiers): ListEntry {
  if (ids.token !== undefined) return { type: 'token', value: ids.token };
  if (ids.apiKey) return { type: 'api_key', name: ids.apiKey.name, value: ids.apiKey.value };
  if (ids.cookie) return { type: 'cookie', name: ids.cookie.name, value: ids.cookie.value };
  return { type: 'ip', value: ids.ip };
}
