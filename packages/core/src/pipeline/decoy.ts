import type { MatchResult } from '../match/api-matcher';
import { isDecoyPath } from '../policy/decoy';
import type { Decision, EnforcerRequest } from '../types';
import { recordAttack } from './attack-recorder';
import { type DecisionContext, respond } from './context';

/**
 * A decoy path's answer, undefined elsewhere. Decoys answer before anything else, deny-listed or
 * not, so the trap never reveals itself.
 */
export function answerDecoy(ctx: DecisionContext, match: Extract<MatchResult, { kind: 'api' }>, req: EnforcerRequest): Decision | undefined {
  if (!match.decoy || !isDecoyPath(match.decoy, req.matchPath)) return undefined;
  const { api } = match;
  recordAttack(ctx, api, req, 'decoy', { type: 'ip', value: req.ip }, false);
  return respond('decoy', api, api.decoy.response);
}
