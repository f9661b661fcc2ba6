import { memberValues } from './json-members';

/** Longest JWT we look at; anything longer is ignored rather than decoded. */
export const MAX_JWT_LENGTH = 8192;

/**
 * Decodes a JWT's payload without verifying it. The result only *identifies* a client for lists
 * and logs: every claim is attacker-controlled, so it never grants anything. Returns undefined for
 * anything that is not a well-formed JWT with a JSON object payload; never throws.
 */
export function decodeJwtPayload(token: string): Record<string, unknown> | undefined {
  if (token.length > MAX_JWT_LENGTH) return undefined;
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (first <= 0 || second < 0 || token.indexOf('.', second + 1) >= 0) return undefined;
  const part = token.slice(first + 1, second);
  if (part.length === 0 || !/^[A-Za-z0-9_-]+={0,2}$/.test(part)) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return payload && typeof payload === 'object' && !Array.isArray(payload) ? (payload as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A claim as a string: the first element of an array claim, strings and finite numbers only. */
export function claimString(payload: Record<string, unknown>, claim: string): string | undefined {
  if (!Object.prototype.hasOwnProperty.call(payload, claim)) return undefined;
  let v = payload[claim];
  if (Array.isArray(v)) v = v[0];
  if (typeof v === 'string') return v.length > 0 && v.length <= 1024 ? v : undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/**
 * The claim's values when the payload names it more than once (`{"sub":"alice","sub":"mallory"}`):
 * `decodeJwtPayload` keeps the last, a receiver's parser may keep the first, so each is a copy of
 * the identity. [] in the usual case, where the claim appears once; never throws.
 */
export function repeatedClaimValues(token: string, claim: string): string[] {
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (token.length > MAX_JWT_LENGTH || second < 0) return [];
  const text = Buffer.from(token.slice(first + 1, second), 'base64url').toString('utf8');
  // A second spelling needs the name twice or an escape (`"s\u0075b"`); most payloads have neither.
  const quoted = `"${claim}"`;
  const at = text.indexOf(quoted);
  if (text.indexOf('\\') < 0 && (at < 0 || text.indexOf(quoted, at + 1) < 0)) return [];
  try {
    const values = memberValues(text, claim);
    if (values.length < 2) return [];
    const out: string[] = [];
    for (const v of values) {
      const s = claimString({ [claim]: v }, claim);
      if (s !== undefined) out.push(s);
    }
    return out;
  } catch {
    return [];
  }
}
