import { randomBytes } from 'node:crypto';
import type { ResponseSpec } from '../policy/responses';
import type { Honeytoken, HoneytokenKind } from './honeytoken-table';

/** Which credentials an API's decoy plants (`decoy_config.honeytokens`, compiled). */
export interface HoneytokenPlan {
  apiKey: boolean;
  bearerToken: boolean;
  /** The name of the cookie the decoy sets; undefined: none. */
  cookie: string | undefined;
}

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `n` base62 characters from the CSPRNG, without modulo bias (bytes 248 and above are drawn again). */
export function randomBase62(n: number): string {
  let out = '';
  while (out.length < n) {
    for (const b of randomBytes(n + 8)) {
      if (b < 248 && out.length < n) out += BASE62[b % 62];
    }
  }
  return out;
}

/**
 * A fresh credential of the realistic shape for its kind: an API key `sk_live_` + 32 characters, an
 * opaque bearer token of 40, a session cookie of 32; at least 190 random bits each, so none can be
 * guessed or made up by a client to get someone else listed.
 */
export function newHoneytokenValue(kind: HoneytokenKind): string {
  if (kind === 'api_key') return `sk_live_${randomBase62(32)}`;
  return randomBase62(kind === 'bearer_token' ? 40 : 32);
}

/** The kinds a plan plants, in a fixed order. */
export function plannedKinds(plan: HoneytokenPlan): HoneytokenKind[] {
  const kinds: HoneytokenKind[] = [];
  if (plan.apiKey) kinds.push('api_key');
  if (plan.bearerToken) kinds.push('bearer_token');
  if (plan.cookie !== undefined) kinds.push('cookie');
  return kinds;
}

/** The placeholder of each kind in `response_message`. */
export const PLACEHOLDERS: Readonly<Record<HoneytokenKind, string>> = { api_key: '${api_key}', bearer_token: '${bearer_token}', cookie: '${cookie}' };

/**
 * The decoy's answer with the planted values in it: each placeholder of `response_message`
 * replaced by its token, and the cookie set with `Set-Cookie` (HttpOnly, as a real session would be).
 */
export function plantedResponse(base: ResponseSpec, plan: HoneytokenPlan, tokens: readonly Honeytoken[]): ResponseSpec {
  let body = base.body;
  const headers = { ...base.headers };
  for (const t of tokens) {
    body = body.split(PLACEHOLDERS[t.kind]).join(t.value);
    if (t.kind === 'cookie' && plan.cookie !== undefined) headers['set-cookie'] = `${plan.cookie}=${t.value}; Path=/; HttpOnly`;
  }
  return { ...base, headers, body };
}
