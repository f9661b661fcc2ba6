/**
 * The contract every store must pass, as `describe` blocks built with jest's globals: call one
 * from a test file with a factory that opens the store under test (see
 * `test/stores/memory-stores.test.ts`, and `test/stores/file-stores.test.ts` for stores one
 * process owns). Keys and API ids are unique per test, so a shared server (Redis) may be used by
 * several runs at once.
 */
export { listStoreContract, newReplica, type ListStoreContractOptions, type ListStoreHandles } from './list-store.contract';
export { apiStoreContract, apiJson, type ApiStoreContractOptions, type ApiStoreHandles } from './api-store.contract';
export { counterStoreContract, type CounterStoreHandle } from './counter-store.contract';
export { quotaStoreContract, type QuotaStoreHandle } from './quota-store.contract';
export { stickyStoreContract, type StickyStoreHandle } from './sticky-store.contract';
export { eventually, uniqueKey } from './support';
