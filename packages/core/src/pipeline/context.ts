import type { CompiledApi } from '../api/compiled-api';
import type { LiveApis } from '../api/live-apis';
import type { AseConf } from '../config/types';
import type { EnforcerEventSink } from '../events';
import type { ClientList } from '../lists/client-list';
import { RotationTracker } from '../lists/rotation-tracker';
import { ClientIpResolver, type TrustedProxies, ipv6Prefix } from '../request/client-ip';
import type { ListChange } from '../stores/types';
import type { Decision, EnforcerRequest, Logger, RespondReason, ResponseSpec } from '../types';
import type { JwtCheck } from '../identity/jwt-verifier';
import type { DenyTag, EntryType, ListEntry } from '../lists/entries';
import { type EventRequest, blockedEvent } from '../security-event';
import type { Honeytoken, HoneytokenTable } from '../honeytokens/honeytoken-table';

/**
 * Everything the stages of a decision read, built once per enforcer: the hot path allocates no
 * context of its own. The switches are fields so that the management API changes them in place.
 */
export interface DecisionContext {
  readonly conf: AseConf;
  readonly mode: 'middleware' | 'gateway';
  readonly apis: LiveApis;
  readonly denyList: ClientList;
  readonly allowList: ClientList;
  readonly trusted: TrustedProxies;
  /** Client addresses that rotate identifiers under violations (`ip_rotation_threshold`). */
  readonly rotation: RotationTracker;
  readonly events: EnforcerEventSink;
  readonly logger: Logger;
  readonly ipResolver: ClientIpResolver;
  firewall: boolean;
  aseDetected: boolean;
  /** Makes a detection's list change durable in the background: the request does not wait for it. */
  recordListChange(change: ListChange): void;
  /** The honeytokens decoys planted (docs/honeytokens.md). */
  readonly honeytokens: HoneytokenTable;
  /** Stores a token just planted, in the background (and tells the other nodes of a cluster). */
  recordHoneytoken(token: Honeytoken): void;
  /**
   * Set only on the copy of the context `explain` decides with (explain.ts): the stages note here
   * what they would do instead of doing it (no list writes, no counters consumed, no slots taken).
   */
  readonly dryRun?: DryRun | undefined;
}

/** What a dry run of the stages saw, for explain.ts to describe. */
export interface DryRun {
  /** Why no API matched, when none did. */
  unmatched?: 'no_host' | 'no_api';
  request?: EnforcerRequest;
  jwt?: JwtCheck | undefined;
  /** The detections the stages would have recorded, and whether each would add a deny-list entry. */
  readonly detections: { kind: DenyTag; identifier: ListEntry; listed: boolean }[];
}

export type DecisionContextParts = Omit<DecisionContext, 'rotation' | 'ipResolver' | 'firewall' | 'aseDetected' | 'dryRun'> & {
  /** Reports a problem of the set-up (once, for a proxy's X-Forwarded-For the enforcer ignores). */
  warn(message: string): void;
};

/** The context of one enforcer; the switches start as `ase.conf` has them. */
export function createDecisionContext(parts: DecisionContextParts): DecisionContext {
  const { warn, ...rest } = parts;
  const { conf, trusted } = parts;
  let warnedXff = false;
  return {
    ...rest,
    rotation: new RotationTracker(conf.ip_rotation_threshold, conf.ip_rotation_window, conf.tracked_clients_max),
    ipResolver: new ClientIpResolver({
      enableXff: conf.enable_xff,
      trusted,
      onUntrustedXff: () => {
        if (warnedXff) return;
        warnedXff = true;
        warn(
          'requests carry X-Forwarded-For but enable_xff is false: behind a proxy every client shares the ' +
            "proxy's address, and one decoy hit or violation would block them all. Set enable_xff=true and xff_trusted_proxies.",
        );
      },
    }),
    firewall: conf.enable_firewall,
    aseDetected: conf.enable_ase_detected_attack,
  };
}

export function respond(
  reason: RespondReason,
  api: CompiledApi | undefined,
  response: ResponseSpec,
  listed?: { readonly type: EntryType; readonly tag: DenyTag },
): Decision {
  // Every answer has the same fields, so the code reading decisions sees one shape.
  return { action: 'respond', reason, api, response, listed };
}

/**
 * A refusal of the client's request (a policy block, a malformed request, a client over its rate
 * limit): the answer, reported first as a `blocked` event to whoever listens. The event is built
 * only when someone does.
 */
export function refuse(ctx: DecisionContext, reason: RespondReason, api: CompiledApi | undefined, req: EventRequest, response: ResponseSpec): Decision {
  if (ctx.events.listenerCount('blocked') > 0) ctx.events.emit('blocked', blockedEvent(reason, api ? api.id : null, req, undefined, true));
  return respond(reason, api, response);
}

/** Forwarding headers are believed from the peer only when it is a trusted proxy and enable_xff is on. */
export function trustedPeer(ctx: DecisionContext, peer: string): boolean {
  return ctx.conf.enable_xff && peer !== '' && ctx.trusted.has(peer);
}

/** The key a client is listed and rate-limited by: its IP, or for IPv6 its `ipv6_client_prefix` network. */
export function clientKey(ctx: DecisionContext, ip: string): string {
  if (ip.indexOf(':') < 0 || ctx.conf.ipv6_client_prefix >= 128) return ip;
  return ipv6Prefix(ip, ctx.conf.ipv6_client_prefix) || ip;
}
