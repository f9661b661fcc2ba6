import type { MatchResult } from '../match/api-matcher';
import { isDecoyPath } from '../policy/decoy';
import type { Decision, EnforcerRequest } from '../types';
import { recordAttack } from './attack-recorder';
import { type DecisionContext, respond } from './context';
import { plantHoneytokens } from './honeytoken';

/**
 * A decoy path's answer, undefined elsewhere. Decoys answer before anything else, deny-listed or
 * not, so the trap never reveals itself. `literalMatchPath` (a target the host app will route with
 * its dot segments unresolved, see match.ts) is checked too: `/app/secret/../x` is a decoy to a
 * router that does not resolve `..`.
 */
export function answerDecoy(ctx: DecisionContext, match: Extract<MatchResult, { kind: 'api' }>, req: EnforcerRequest, literalMatchPath?: string): Decision | undefined {
  if (!match.decoy || !(isDecoyPath(match.decoy, req.matchPath) || (literalMatchPath !== undefined && isDecoyPath(match.decoy, literalMatchPath)))) return undefined;
  const { api } = match;
  recordAttack(ctx, api, req, 'decoy', { type: 'ip', value: req.ip }, false);
  return respond('decoy', api, api.decoy.honeytokens ? plantHoneytokens(ctx, api, req) : api.decoy.response);
}
