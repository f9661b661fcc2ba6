// ESM entry: re-exports the CommonJS build, so import and require share one instance (one enforcer
// state, one set of classes for instanceof) and Node finds the named exports in tsc's CJS output.
// Node's default import of a CJS module is its whole module.exports, so the default is named here.
import { adminExpress } from './express.js';
export * from './express.js';
export default adminExpress;
