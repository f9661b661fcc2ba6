import type { DenyTag, ListEntry } from './lists/entries';
import type { BlockedEvent, SecurityEvent } from './security-event';

export type { BlockedEvent, SecurityEvent, SecurityEventType } from './security-event';

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

/** A request refused by flow control: over `client_spike_threshold`, or no server slot free. */
export interface FlowControlEvent {
  kind: 'client_spike' | 'server_busy' | 'queue_full' | 'queue_timeout' | 'bytes_in' | 'bytes_out';
  api: string;
  ip: string;
}

export interface EnforcerEvents {
  attack: [AttackEvent];
  blocked: [BlockedEvent];
  decoy: [SecurityEvent];
  honeytoken: [SecurityEvent];
  violation: [SecurityEvent];
  listed: [SecurityEvent];
  unlisted: [SecurityEvent];
  backend_down: [{ api: string; server: string; error: string }];
  backend_up: [{ api: string; server: string; error: string }];
  flow_control: [FlowControlEvent];
  warning: [string];
}

/** What the parts of an enforcer emit through: the Enforcer itself, seen only as an emitter. */
export interface EnforcerEventSink {
  emit<K extends keyof EnforcerEvents>(event: K, ...args: EnforcerEvents[K]): boolean;
  listenerCount(event: keyof EnforcerEvents): number;
}

/** What listens to an enforcer's detections (the access log), without knowing the Enforcer class. */
export interface EnforcerEventSource {
  on<K extends keyof EnforcerEvents>(event: K, listener: (...args: EnforcerEvents[K]) => void): unknown;
  off<K extends keyof EnforcerEvents>(event: K, listener: (...args: EnforcerEvents[K]) => void): unknown;
}
