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
