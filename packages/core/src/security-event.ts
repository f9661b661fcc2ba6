import type { StoredEntry } from './lists/client-list';
import type { ListEntry } from './lists/entries';
import type { RespondReason } from './types';
import { maskIdentifier } from './logs/mask';
import type { Honeytoken, HoneytokenKind } from './honeytokens/honeytoken-table';

export type SecurityEventType = 'blocked' | 'decoy' | 'honeytoken' | 'listed' | 'unlisted' | 'violation';

/**
 * One shape for what an application follows: a refusal, a decoy hit, a policy violation, a list
 * entry added or removed. Identifier values are masked as the access log masks them, and the path
 * carries no query string, since either can hold a client's credentials.
 */
export interface SecurityEvent {
  type: SecurityEventType;
  /** ISO 8601. */
  time: string;
  /** The API's id; null for a list change made through management, or a request refused before any API could match (`malformed`). */
  api: string | null;
  /** The refusal reason (`deny_list`, `invalid_jwt`, ...) or the deny tag (`decoy`, `invalid_method`, `manual`, ...). */
  reason: string;
  client: { ip?: string; identifier?: { type: string; name?: string; value: string } };
  /** False when the request was served: a detect-only API, or a decoy's own answer. */
  blocked: boolean;
  method?: string;
  path?: string;
  /** `listed` / `unlisted` only: which list, and who changed it. */
  list?: 'deny' | 'allow';
  source?: 'detection' | 'management' | 'expiry';
  /** `honeytoken` only: the planted credential the request carried (its value masked), and where it was planted. */
  honeytoken?: { kind: HoneytokenKind; value: string; api: string; planted_to: string; planted_at: string };
}

/** The request fields an event reads: the pipeline's request, or nothing for a management change. */
export interface EventRequest {
  ip: string;
  method: string;
  /** Absent for a request whose target could not be read (`malformed`). */
  path?: string | undefined;
}

export function maskedIdentifier(e: ListEntry): NonNullable<SecurityEvent['client']['identifier']> {
  const value = maskIdentifier(e.type, e.value);
  return e.name === undefined ? { type: e.type, value } : { type: e.type, name: e.name, value };
}

/** Builds the event; callers check `listenerCount` first, so nobody pays for it unheard. */
export function securityEvent(
  type: SecurityEventType,
  api: string | null,
  reason: string,
  req: EventRequest | undefined,
  identifier: ListEntry | undefined,
  blocked: boolean,
): SecurityEvent {
  const client: SecurityEvent['client'] = {};
  if (req) client.ip = req.ip;
  if (identifier) client.identifier = maskedIdentifier(identifier);
  const e: SecurityEvent = { type, time: new Date().toISOString(), api, reason, client, blocked };
  if (req) {
    e.method = req.method;
    if (req.path !== undefined) e.path = req.path;
  }
  return e;
}

/** A list change as an event: `listed` or `unlisted`. */
export function listEvent(
  op: 'listed' | 'unlisted',
  list: 'deny' | 'allow',
  source: 'detection' | 'management' | 'expiry',
  entry: ListEntry & { tag?: string },
  api: string | null = null,
  req?: EventRequest,
  blocked = false,
): SecurityEvent {
  const e = securityEvent(op, api, entry.tag ?? 'manual', req, entry, blocked);
  e.list = list;
  e.source = source;
  return e;
}

/**
 * The `blocked` event: a {@link SecurityEvent}, with the fields listeners read before it had that
 * shape (`ip`, `entry`). They are not enumerable, so the event serialises as the documented shape:
 * `entry` holds the listed value unmasked (the access log masks it when it writes it), and must
 * stay out of `JSON.stringify` and spreads.
 */
export interface BlockedEvent extends SecurityEvent {
  type: 'blocked';
  /** null for a request refused before any API could match (`malformed`). */
  api: string | null;
  reason: RespondReason;
  ip: string;
  entry?: StoredEntry;
}

export function blockedEvent(reason: RespondReason, api: string | null, req: EventRequest, entry: StoredEntry | undefined, blocked: boolean): BlockedEvent {
  const e = securityEvent('blocked', api, reason, req, entry, blocked) as BlockedEvent;
  Object.defineProperty(e, 'ip', { value: req.ip, enumerable: false });
  if (entry) Object.defineProperty(e, 'entry', { value: entry, enumerable: false });
  return e;
}

/**
 * The `honeytoken` event: a request carried a credential a decoy planted. `client` is the sender
 * (its address as listed); `honeytoken` says which token and whom the decoy gave it to.
 */
export function honeytokenEvent(api: string | null, req: EventRequest, sender: ListEntry, token: Honeytoken, blocked: boolean): SecurityEvent {
  const e = securityEvent('honeytoken', api, 'honeytoken', req, sender, blocked);
  e.honeytoken = { kind: token.kind, value: maskIdentifier('token', token.value), api: token.api, planted_to: token.plantedTo, planted_at: new Date(token.plantedAt).toISOString() };
  return e;
}
