import type { CompiledApi } from '../api/compiled-api';
import { type UsernameTrust, readJwtCopies } from '../identity/identifiers';
import type { JwtCheck } from '../identity/jwt-verifier';
import type { Decision, EnforcerRequest } from '../types';
import { type DecisionContext, refuse, trustedPeer } from './context';

const NO_JWT: JwtCheck = { ok: false, token: undefined };

/**
 * The request's JWT checked, for an API with jwt_verification while the firewall is on; undefined
 * otherwise. Only those APIs pay for it, and a token verified before comes from a cache
 * synchronously: a Promise only for a token not seen yet.
 */
export function checkJwt(ctx: DecisionContext, api: CompiledApi, req: EnforcerRequest): JwtCheck | Promise<JwtCheck> | undefined {
  const verifier = ctx.firewall ? api.jwtVerifier : undefined;
  if (!verifier) return undefined;
  // Two different tokens: the backend may read the one not verified, so neither counts.
  const tokens = readJwtCopies(api, req);
  return tokens.length === 0 ? NO_JWT : tokens.length > 1 ? { ok: false as const, token: tokens[0] } : verifier.check(tokens[0]!);
}

/** A required JWT is authentication: no list entry stands in for it, the allow list included. */
export function refuseInvalidJwt(ctx: DecisionContext, api: CompiledApi, req: EnforcerRequest, jwt: JwtCheck | undefined): Decision | undefined {
  if (!jwt || jwt.ok || !api.jwtVerifier?.required) return undefined;
  return refuse(ctx, 'invalid_jwt', api, req, api.blockResponse);
}

/** How far the user name may be believed: from a verified JWT, or a header a trusted proxy set. */
export function usernameTrust(ctx: DecisionContext, api: CompiledApi, req: EnforcerRequest, jwt: JwtCheck | undefined): UsernameTrust | undefined {
  return jwt || api.identity.usernameHeaderTrusted ? { jwt, headerFromTrustedProxy: api.identity.usernameHeaderTrusted && trustedPeer(ctx, req.peer) } : undefined;
}
