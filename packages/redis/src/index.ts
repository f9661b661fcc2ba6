/**
 * @ase/redis — the enforcer's stores over Redis, so that several instances share one state:
 * lists and API definitions (changes reach every instance through Redis streams), counters,
 * connection slots, sticky pins, and the cluster's membership.
 */
export { redisStores } from './redis-stores';
export type { RedisStores, RedisStoresOptions } from './redis-stores';
export { RedisListStore } from './list-store';
export { RedisApiStore } from './api-store';
export { RedisCounterStore } from './counter-store';
export { RedisQuotaStore } from './quota-store';
export { RedisStickyStore } from './sticky-store';
export { RedisHoneytokenStore } from './honeytoken-store';
export { ClusterMembership } from './membership';
export type { ClusterNode, ClusterNodeStatus } from './membership';
export { FailoverCounterStore, FailoverQuotaStore, FailoverStickyStore } from './failover-stores';
export type { FailureMode, RedisStatus } from './health';
