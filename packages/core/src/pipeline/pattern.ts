import type { CompiledApi } from '../api/compiled-api';
import type { ClientIdentifiers } from '../identity/identifiers';
import { checkPattern } from '../policy/pattern-enforcement';
import type { Decision, EnforcerRequest } from '../types';
import { recordAttack, strongestIdentifier } from './attack-recorder';
import { type DecisionContext, refuse, respond } from './context';

/**
 * The pattern stage: the API's method/path/header rules, then `is_token_mandatory`. A violation is
 * recorded against the client's strongest identifier and refused when the API blocks; undefined
 * when the request may go on.
 */
export function checkPatterns(ctx: DecisionContext, api: CompiledApi, req: EnforcerRequest, ids: ClientIdentifiers): Decision | undefined {
  const pattern = checkPattern(api, req);
  if (pattern?.kind === 'redirect') return respond('redirect', api, pattern.response);
  if (pattern?.kind === 'preflight_refused' && api.enableBlocking) return refuse(ctx, 'cors_preflight', api, req, api.blockResponse);
  if (pattern?.kind === 'violation') {
    recordAttack(ctx, api, req, pattern.tag, strongestIdentifier(ids));
    if (api.enableBlocking) return refuse(ctx, pattern.tag, api, req, api.blockResponse);
  }

  if (api.identity.tokenMandatory && api.identity.oauth2 && !ids.token) {
    recordAttack(ctx, api, req, 'missing_token', { type: 'ip', value: req.ip });
    if (api.enableBlocking) return refuse(ctx, 'missing_token', api, req, api.blockResponse);
  }
  return undefined;
}
