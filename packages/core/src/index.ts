/**
 * @ase/core — the framework-neutral engine of the API Security Enforcer.
 * Adapters (`@ase/express`, `@ase/koa`, `@ase/fastify`) translate requests into `RawRequest`,
 * call `enforcer.decide()`, and apply the returned `Decision`.
 */
export { Enforcer, createEnforcer, startEnforcer } from './enforcer';
export type { EnforcerOptions, EnforcerEvents, AttackEvent, BlockedEvent, FlowControlEvent, SecurityEvent, SecurityEventType, ApiStats, EnforcerStats, TableSize } from './enforcer';
export type { Decision, EnforcerRequest, RawRequest, ResponseSpec, RespondReason, Protocol, Logger, Headers } from './types';
export { silentLogger } from './types';
export type { ExplainIdentifier, ExplainOutcome, ExplainStage, Explanation } from './pipeline/explain';
export { type ExplainRequest, parseExplainRequest } from './request/explain-request';
export { decisionSettler } from './http/decision-settler';
export { RESPONSES, textResponse } from './policy/responses';
export { fromNodeRequest } from './http/node-request';
export { canonicalIp, parseHost } from './request';
export { writeNodeResponse } from './http/node-response';
export { SIDEBAND_PROXIES, decisionHandler } from './http/decision-service';
export type { DecisionHandler, DecisionServiceOptions, SidebandProxy } from './http/decision-service';
export { PENDING_ANSWERS_MAX, PENDING_ANSWER_TTL_MS } from './http/pending-answers';
export { closeServer, listenOn } from './http/server-lifecycle';
export { aseUpgradeFor, guardUpgrades, upgradeListener, upgradePassed } from './http/upgrade-listener';
export type { UpgradeHandler, UpgradeServer } from './http/upgrade-listener';
export { AseError, AseConfigError, ERRORS, formatConfigProblem, invalidConfig, toAseError, wireAnswer } from './errors';
export type { AseErrorCode, ConfigProblem, WireAnswer } from './errors';
export type { CompiledApi } from './api/compiled-api';
export type { Upstream } from './upstream/server-pool';
export { loadUpstreamClient } from './upstream/agents';
export type { ApiJson, ApiJsonInput, ApiMetadata, AseConf, ServerJson } from './config/types';
export { ASE_CONF_DEFAULTS, API_DEFAULTS } from './config/defaults';
export { loadConfigDir, loadConfFile, loadApiDir, loadApiFile, apiIdFromFile } from './config/load';
export { readListFiles } from './persistence/file-list-store';
export { type ConfigDirCheck, checkConfigDir } from './setup/check-config-dir';
export { bindProblem, parseAseConf } from './config/ase-conf';
export { closest } from './config/suggest';
export { validateApiJson } from './config/api-schema';
export { decodeUtf8, firstDuplicateKey } from './config/json-data';
export { parseDuration, parseSize, parseRate } from './config/units';
export { ENTRY_TYPES, DENY_TAGS, ASE_DETECTED_TAGS, canonicalEntry, describeEntry } from './lists/entries';
export type { EntryType, DenyTag, ListEntry } from './lists/entries';
export type { StoredEntry } from './lists/client-list';
export { type EntryMeta, metaOf } from './lists/entry-records';
export { type AddOptions, checkTtl } from './management/list-operations';
// management (issue 4)
export { AdminCredentials, ADMIN_ACCESS_KEY, DEFAULT_ADMIN_SECRET, secretKeyProblem } from './management/credentials';
export { ManagementMounts, type ManagementHandler } from './management/management-mounts';
export type { ManagementAuthFailure, ManagementCounts } from './metrics/management-counts';
export { apiIdProblem, isValidApiId, readApiFile } from './config/load';
export { duplicateServer, unknownServer, storeUnavailable, isStoreUnavailable } from './errors';
export type { FlowControlJson } from './config/types';
export { RotatingFile, ROTATING_FILE_DEFAULTS } from './logs/rotating-file';
export { maskIdentifier } from './logs/mask';
export type { RotatingFileOptions } from './logs/rotating-file';
export type {
  ApiChange,
  ApiStore,
  CounterStore,
  EnforcerStores,
  HoneytokenStore,
  ListChange,
  ListHits,
  ListName,
  ListReplica,
  ListStore,
  LoadedApis,
  QuotaStore,
  RuntimeSwitches,
  SlotLease,
  StickyBudget,
  StickyStore,
  StoreHealth,
  StoreStatus,
  WindowCount,
} from './stores/types';
export type { MetricsOptions } from './metrics/enforcer-metrics';
export { MemoryListBacking, MemoryListStore } from './stores/memory-list-store';
export { HONEYTOKENS_MAX, HoneytokenTable, honeytokenOf } from './honeytokens/honeytoken-table';
export type { Honeytoken, HoneytokenKind } from './honeytokens/honeytoken-table';
export { FileHoneytokenStore } from './persistence/file-honeytoken-store';
export { MemoryApiBacking, MemoryApiStore } from './stores/memory-api-store';
export { MemoryCounterStore } from './stores/memory-counter-store';
export { MemoryQuotaStore } from './stores/memory-quota-store';
export { MemoryStickyStore } from './stores/memory-sticky-store';
