import type { CompiledApi } from '../api/compiled-api';
import type { LiveApis } from '../api/live-apis';
import type { AseConf } from '../config/types';
import type { EnforcerEventSink } from '../events';
import type { ClientList } from '../lists/client-list';
import type { RotationTracker } from '../lists/rotation-tracker';
import { type ClientIpResolver, type TrustedProxies, ipv6Prefix } from '../request/client-ip';
import type { ListChange } from '../stores/types';
import type { Decision, Logger, RespondReason, ResponseSpec } from '../types';

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
}

export function respond(reason: RespondReason, api: CompiledApi | undefined, response: ResponseSpec): Decision {
  return { action: 'respond', reason, api, response };
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
