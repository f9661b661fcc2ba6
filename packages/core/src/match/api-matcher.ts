import type { CompiledApi } from '../api/compiled-api';
import { type DecoyPaths, decoyPathsOf } from '../policy/decoy';

export type MatchResult =
  /** `decoy`: the API's decoy paths, prepared once with the result (see policy/decoy.ts). */
  | { kind: 'api'; api: CompiledApi; decoy: DecoyPaths | undefined }
  /** Some API serves this host (or `*` exists) but none has a matching url. */
  | { kind: 'no_api' }
  /** No API at all serves this host name. */
  | { kind: 'no_host' };

const NO_API: MatchResult = Object.freeze({ kind: 'no_api' });
const NO_HOST: MatchResult = Object.freeze({ kind: 'no_host' });

/**
 * Finds the API for a host and a matching path: exact host before `*`, then the longest `url`
 * prefix on whole segments. Built once per API-set change; a lookup is at most seven map probes
 * per host group (a url has at most six segments), whatever the number of APIs.
 */
export class ApiMatcher {
  private readonly byHost = new Map<string, Group>();
  private readonly wildcard: Group = { urls: new Map(), depth: 0 };
  /**
   * `hostLengths[n]` is true when some host group's name has n characters: most requests are for
   * `*` APIs, and a Map lookup with a host string that has just been read off the request costs
   * hashing it first.
   */
  private readonly hostLengths: boolean[] = [];
  /** The urls of every API bound to a host name, whatever the host: what a forged Host could step out of. */
  private readonly hostBound: Group = { urls: new Map(), depth: 0 };

  constructor(apis: Iterable<CompiledApi>) {
    for (const api of apis) {
      const group = api.hostname === '*' ? this.wildcard : this.groupFor(api.hostname);
      // Two APIs with the same host and url: the first loaded (ordered by id) wins, deterministically.
      if (!group.urls.has(api.matchUrl)) {
        // Built once and frozen: a match allocates nothing.
        group.urls.set(api.matchUrl, Object.freeze({ kind: 'api', api, decoy: decoyPathsOf(api) }));
        group.depth = Math.max(group.depth, segmentCount(api.matchUrl));
      }
      if (api.hostname !== '*' && !this.hostBound.urls.has(api.matchUrl)) {
        this.hostBound.urls.set(api.matchUrl, NO_API);
        this.hostBound.depth = Math.max(this.hostBound.depth, segmentCount(api.matchUrl));
      }
    }
    for (const host of this.byHost.keys()) this.hostLengths[host.length] = true;
  }

  private groupFor(host: string): Group {
    let g = this.byHost.get(host);
    if (!g) {
      g = { urls: new Map(), depth: 0 };
      this.byHost.set(host, g);
    }
    return g;
  }

  match(host: string, matchPath: string): MatchResult {
    const exact = this.hostLengths[host.length] === true ? this.byHost.get(host) : undefined;
    if (exact) {
      const m = longestPrefix(exact, matchPath);
      if (m) return m;
    }
    if (this.wildcard.urls.size > 0) return longestPrefix(this.wildcard, matchPath) ?? NO_API;
    return exact ? NO_API : NO_HOST;
  }

  /**
   * True when `matchPath` lies under the url of an API bound to some host name. In middleware mode
   * the app serves every host alike, so a request that names another Host (or none, or an IP) and
   * matches no API would reach that API's routes in the app unchecked.
   */
  guardsPath(matchPath: string): boolean {
    return this.hostBound.urls.size > 0 && longestPrefix(this.hostBound, matchPath) !== undefined;
  }
}

/** The APIs of one host (or of `*`) by matching url, and the most segments any of those urls has. */
interface Group {
  urls: Map<string, MatchResult>;
  depth: number;
}

/**
 * Probes `/a/b/c`, `/a/b`, `/a`, `/` in turn: prefixes only ever end on a segment boundary, and
 * none is longer than the group's deepest url (a longer one can never be a key).
 */
function longestPrefix(group: Group, path: string): MatchResult | undefined {
  let candidate = group.depth === 0 ? '/' : firstSegments(path, group.depth);
  for (;;) {
    const m = group.urls.get(candidate);
    if (m) return m;
    if (candidate === '/') return undefined;
    const cut = candidate.lastIndexOf('/');
    candidate = cut <= 0 ? '/' : candidate.slice(0, cut);
  }
}

/** True when `path` is `prefix` or lies under it (both in matching form). */
export function isUnder(path: string, prefix: string): boolean {
  if (prefix === '/') return true;
  return path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47 /* / */);
}

/** An API `url` has at most six segments, so deeper parts of a path can never decide a match. */
export const MAX_URL_SEGMENTS = 6;

/** Segments of a matching url: `/` has none, `/a/b` two. */
function segmentCount(matchUrl: string): number {
  if (matchUrl === '/') return 0;
  let n = 0;
  for (let i = 0; i < matchUrl.length; i++) if (matchUrl.charCodeAt(i) === 47) n++;
  return n;
}

function firstSegments(path: string, n: number): string {
  let seen = 0;
  for (let i = 1; i < path.length; i++) {
    if (path.charCodeAt(i) === 47 && ++seen === n) return path.slice(0, i);
  }
  return path;
}
