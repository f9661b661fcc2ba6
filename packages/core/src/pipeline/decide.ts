import type { CompiledApi } from '../api/compiled-api';
import { type ClientIdentifiers, extractIdentifiers } from '../identity/identifiers';
import type { JwtCheck } from '../identity/jwt-verifier';
import { RESPONSES } from '../policy/responses';
import { normalizeTarget } from '../request/normalize-path';
import type { Decision, EnforcerRequest, RawRequest } from '../types';
import { findDenied, isAllowListed, readUntilDenied, refuseDenied } from './client-lists';
import { type DecisionContext, respond } from './context';
import { blockedEvent } from '../security-event';
import { answerDecoy } from './decoy';
import { limitClient } from './flow-control';
import { catchHoneytoken } from './honeytoken';
import { checkJwt, refuseInvalidJwt, usernameTrust } from './identify';
import { dotSegmentsStepAside, literalForApp, passUnmatched, unmatched } from './match';
import { enforcerRequest, isHealthProbe, normaliseHost } from './normalise';
import { checkPatterns } from './pattern';

/**
 * Decides what happens to one request. Every stage up to flow control is synchronous (every table
 * they consult is in memory); a Promise comes back only for a client rate limit kept in a shared
 * store (the default in-process counters answer at once) and for server quotas or spike rates (the
 * scheduler's queue), and for an API with `jwt_verification` when the request's JWT was not
 * verified before (jose verifies asynchronously; verified tokens are cached). Adapters handle both
 * (see `decisionSettler`).
 */
export function decide(ctx: DecisionContext, raw: RawRequest): Decision | Promise<Decision> {
  const target = normalizeTarget(raw.url);
  if (!target.ok) return refuseMalformed(ctx, raw);
  const host = normaliseHost(ctx, raw);
  if (host === undefined) return refuseMalformed(ctx, raw);
  if (isHealthProbe(ctx, raw, target.matchPath)) return respond('health', undefined, RESPONSES.health());

  const match = ctx.apis.matcher.match(host, target.matchPath);
  // Before anything that may answer: a honeytoken lists its sender whatever the request asks for.
  if (ctx.honeytokens.size !== 0) catchHoneytoken(ctx, raw, target, host, match);
  const literal = literalForApp(ctx, match, target.literalMatchPath);
  if (literal !== undefined && dotSegmentsStepAside(ctx, host, match, target.matchPath, literal)) return refuseMalformed(ctx, raw);
  if (match.kind !== 'api') {
    if (ctx.dryRun) ctx.dryRun.unmatched = match.kind;
    return unmatched(ctx, match, target.matchPath);
  }
  const { api } = match;
  const req = enforcerRequest(ctx, raw, target, host);
  if (ctx.dryRun) ctx.dryRun.request = req;

  const decoy = answerDecoy(ctx, match, req, literal);
  if (decoy) return decoy;

  const jwt = checkJwt(ctx, api, req);
  return jwt instanceof Promise ? jwt.then((c) => screen(ctx, api, req, c)) : screen(ctx, api, req, jwt);
}

/** 400 for a target or Host the enforcer cannot read: reported without an API or a path (neither could be read). */
function refuseMalformed(ctx: DecisionContext, raw: RawRequest): Decision {
  if (ctx.events.listenerCount('blocked') > 0) {
    const ip = ctx.ipResolver.resolve(raw.remoteAddress, raw.headers['x-forwarded-for']);
    ctx.events.emit('blocked', blockedEvent('malformed', null, { ip, method: raw.method }, undefined, true));
  }
  return respond('malformed', undefined, RESPONSES.malformed());
}

/** The stages after the JWT check (`jwt`, when the API verifies them). */
function screen(ctx: DecisionContext, api: CompiledApi, req: EnforcerRequest, jwt: JwtCheck | undefined): Decision | Promise<Decision> {
  if (ctx.dryRun) ctx.dryRun.jwt = jwt;
  if (ctx.firewall) {
    const refused = refuseInvalidJwt(ctx, api, req, jwt) ?? checkClient(ctx, api, req, jwt);
    if (refused) return refused;
  }
  const rt = ctx.apis.get(api.id);
  // Deleted while its JWT was being verified: answered as if no API had matched.
  if (!rt) return ctx.mode === 'middleware' ? passUnmatched() : respond('unknown_api', undefined, RESPONSES.unknownApi());
  return limitClient(ctx, rt, req);
}

/** Identify → allow list → deny list → pattern checks; undefined when the request may go on. */
function checkClient(ctx: DecisionContext, api: CompiledApi, req: EnforcerRequest, jwt: JwtCheck | undefined): Decision | undefined {
  const trust = usernameTrust(ctx, api, req, jwt);
  if (ctx.allowList.size === 0) {
    // Nothing can be allow-listed, so the deny list comes first: each identifier is looked up as
    // it is read, and with blocking on, those after the first listed one are never needed.
    const ids: ClientIdentifiers = { ip: req.ip };
    const denied = readUntilDenied(ctx, api, req, ids, trust);
    const refused = refuseDenied(ctx, api, req, denied);
    if (refused) return refused;
    // Listed on a detect-only API: reading stopped at the listed identifier, the rest is read now.
    const all = denied ? extractIdentifiers(api, req, trust) : ids;
    req.identifiers = all;
    return checkPatterns(ctx, api, req, all);
  }
  const ids = extractIdentifiers(api, req, trust);
  req.identifiers = ids;
  if (isAllowListed(ctx, ids)) return undefined;
  return refuseDenied(ctx, api, req, findDenied(ctx, ids)) ?? checkPatterns(ctx, api, req, ids);
}
