// The core does not export its store interfaces from its entry point yet, and this package must
// implement exactly those: they are read from the core's sources (tsc -b reads the core's built
// declarations through the project reference). Type-only, so nothing of it reaches the output.
export type {
  ApiChange,
  ApiStore,
  CounterStore,
  EnforcerStores,
  ListChange,
  ListName,
  ListReplica,
  ListStore,
  LoadedApis,
  QuotaStore,
  RuntimeSwitches,
  SlotLease,
  StickyStore,
  WindowCount,
} from '../../core/src/stores/types';
