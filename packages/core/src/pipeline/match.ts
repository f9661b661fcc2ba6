import type { MatchResult } from '../match/api-matcher';
import { RESPONSES } from '../policy/responses';
import type { Decision } from '../types';
import { type DecisionContext, respond } from './context';

/** A request no API matched: the app's in middleware mode, 503 in gateway mode. */
export function unmatched(ctx: DecisionContext, match: Exclude<MatchResult, { kind: 'api' }>, matchPath: string): Decision {
  if (ctx.mode === 'middleware') {
    // The app answers every Host alike: a path under a host-bound API's url must not be reachable
    // by naming another Host (docs/security.md).
    if (!ctx.conf.pass_unmatched_hosts && ctx.apis.matcher.guardsPath(matchPath)) return respond('unknown_api', undefined, RESPONSES.unknownApi());
    return passUnmatched();
  }
  return match.kind === 'no_host' ? respond('unknown_hostname', undefined, RESPONSES.unknownHostname()) : respond('unknown_api', undefined, RESPONSES.unknownApi());
}

/** A fresh pass decision: adapters may keep it, so it is not shared. */
export function passUnmatched(): Decision {
  return { action: 'pass', api: undefined, request: undefined };
}

/**
 * The literal spelling of a target with dot segments (`literalMatchPath`) when it matters: in
 * middleware mode, for a request the host app gets (no API, or an API without servers). The app
 * receives the target as it was sent, and its router may match it with the dot segments
 * unresolved: `/members/../x` lies under `/members` for Express, Koa's routers and find-my-way,
 * while the policy resolved it to `/x`. Undefined otherwise (a backend gets the resolved path).
 */
export function literalForApp(ctx: DecisionContext, match: MatchResult, literalMatchPath: string | undefined): string | undefined {
  if (literalMatchPath === undefined || ctx.mode !== 'middleware') return undefined;
  if (match.kind === 'api' && (ctx.apis.get(match.api.id)?.pool.size ?? 0) > 0) return undefined;
  return literalMatchPath;
}

/**
 * True when the literal spelling leads to another API, or into or out of a host-bound API's url,
 * than the resolved one: such a request is refused (docs/security.md, "Dot segments cannot step
 * out of an API"). Within one API, its decoys are checked on both spellings (decoy.ts).
 */
export function dotSegmentsStepAside(ctx: DecisionContext, host: string, match: MatchResult, matchPath: string, literalMatchPath: string): boolean {
  const literal = ctx.apis.matcher.match(host, literalMatchPath);
  if (literal.kind === 'api' || match.kind === 'api') return literal.kind !== 'api' || match.kind !== 'api' || literal.api !== match.api;
  return ctx.apis.matcher.guardsPath(literalMatchPath) !== ctx.apis.matcher.guardsPath(matchPath);
}
