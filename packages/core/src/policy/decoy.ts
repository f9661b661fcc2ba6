import type { CompiledApi } from '../api/compiled-api';

/**
 * An API's decoy paths in the form every request of the API is checked against. Each path also
 * has a key (its length and last character), so that a request that is not a decoy, nearly all of
 * them, is told apart without reading the path strings: with dozens of APIs those are cold in the
 * CPU's caches by the time a request for their API comes (docs/performance.md).
 */
export interface DecoyPaths {
  /** An out-of-context decoy: the whole API is a trap. */
  readonly wholeApi: boolean;
  /** Matching forms of the decoy paths. */
  readonly paths: readonly string[];
  /** `paths[i].length`. */
  readonly lengths: readonly number[];
  /** The last character code of `paths[i]`. */
  readonly lastChars: readonly number[];
}

/** The decoy paths of an API, or undefined when it has no decoys. */
export function decoyPathsOf(api: CompiledApi): DecoyPaths | undefined {
  if (!api.decoy.enabled) return undefined;
  const paths = api.decoy.matchPaths;
  // Plain arrays, not frozen ones: optimised code reads frozen elements through a slower path.
  return { wholeApi: api.decoy.wholeApi, paths, lengths: paths.map((p) => p.length), lastChars: paths.map((p) => p.charCodeAt(p.length - 1)) };
}

/**
 * Whether `matchPath` is a decoy path or lies under one: the same answer as
 * `paths.some((p) => matchPath === p || (matchPath.startsWith(p) && matchPath.charCodeAt(p.length) === 47))`.
 */
export function isDecoyPath(decoy: DecoyPaths, matchPath: string): boolean {
  if (decoy.wholeApi) return true;
  const { lengths, lastChars } = decoy;
  const len = matchPath.length;
  for (let i = 0; i < lengths.length; i++) {
    const n = lengths[i]!;
    if (len < n || (len > n && matchPath.charCodeAt(n) !== 47) || (n > 0 && matchPath.charCodeAt(n - 1) !== lastChars[i])) continue;
    if (isPathOrUnder(matchPath, decoy.paths[i]!)) return true;
  }
  return false;
}

/** `path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47)`, compared from the end. */
export function isPathOrUnder(path: string, prefix: string): boolean {
  const n = prefix.length;
  if (path.length < n || (path.length > n && path.charCodeAt(n) !== 47)) return false;
  for (let i = n - 1; i >= 0; i--) if (path.charCodeAt(i) !== prefix.charCodeAt(i)) return false;
  return true;
}
