import type { CompiledApi } from '../api/compiled-api';

export type MatchResult =
  | { kind: 'api'; api: CompiledApi }
  /** Some API serves this host (or `*` exists) but none has a matching url. */
  | { kind: 'no_api' }
  /** No API at all serves this host name. */
  | { kind: 'no_host' };

/**
 * Finds the API for a host and a matching path: exact host before `*`, then the longest `url`
 * prefix on whole segments. Built once per API-set change; a lookup is at most seven map probes
 * per host group (a url has at most six segments), whatever the number of APIs.
 */
export class ApiMatcher {
  private readonly byHost = new Map<string, Group>();
  private readonly wildcard: Group = { urls: new Map(), depth: 0 };

  constructor(apis: Iterable<CompiledApi>) {
    for (const api of apis) {
      const group = api.hostname === '*' ? this.wildcard : this.groupFor(api.hostname);
      // Two APIs with the same host and url: the first loaded (ordered by id) wins, deterministically.
      if (!group.urls.has(api.matchUrl)) {
        group.urls.set(api.matchUrl, api);
        group.depth = Math.max(group.depth, segmentCount(api.matchUrl));
      }
    }
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
    const exact = this.byHost.get(host);
    if (exact) {
      const api = longestPrefix(exact, matchPath);
      if (api) return { kind: 'api', api };
    }
    if (this.wildcard.urls.size > 0) {
      const api = longestPrefix(this.wildcard, matchPath);
      if (api) return { kind: 'api', api };
      return { kind: 'no_api' };
    }
    return exact ? { kind: 'no_api' } : { kind: 'no_host' };
  }
}

/** The APIs of one host (or of `*`) by matching url, and the most segments any of those urls has. */
interface Group {
  urls: Map<string, CompiledApi>;
  depth: number;
}

/**
 * Probes `/a/b/c`, `/a/b`, `/a`, `/` in turn: prefixes only ever end on a segment boundary, and
 * none is longer than the group's deepest url (a longer one can never be a key).
 */
function longestPrefix(group: Group, path: string): CompiledApi | undefined {
  let candidate = group.depth === 0 ? '/' : firstSegments(path, group.depth);
  for (;;) {
    const api = group.urls.get(candidate);
    if (api) return api;
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
