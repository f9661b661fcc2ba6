// ESM entry: re-exports the CommonJS build, so import and require share one instance (one set of
// classes for instanceof) and Node finds the named exports in tsc's CJS output.
export * from './index.js';
