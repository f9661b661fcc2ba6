import { type KeyObject, createPublicKey, createSecretKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { JWTVerifyGetKey, JWTVerifyOptions } from 'jose';
import type { JwtVerificationJson } from '../config/types';
import { type AseConfigError, type ConfigProblem, invalidConfig } from '../errors';
import { MAX_JWT_LENGTH } from './jwt';

/** Algorithms `jwt_verification.algorithms` accepts; `none` is never one of them. */
export const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export const DEFAULT_CLOCK_TOLERANCE_S = 30;

/** The outcome of checking the JWT of one request. Only `ok` claims may grant anything. */
export type JwtCheck =
  | { readonly ok: true; readonly token: string; readonly payload: Record<string, unknown> }
  | { readonly ok: false; readonly token: string | undefined };

/** Verified tokens kept so a returning client costs a Map lookup; bounded, whatever clients send. */
const CACHE_MAX = 4096;
/** A verified token without `exp` is re-verified at least this often. */
const CACHE_TTL_MS = 5 * 60_000;

let joseLib: typeof import('jose') | undefined;
/** jose, loaded by the first API that verifies JWTs (at its load, not at its first request): most configurations never need it. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const jose = (): typeof import('jose') => (joseLib ??= require('jose') as typeof import('jose'));

export const isHmac = (alg: string): boolean => alg.startsWith('HS');

/** Key types each asymmetric algorithm family can verify with (node:crypto's `asymmetricKeyType`). */
function keyTypesFor(alg: string): readonly string[] {
  if (alg.startsWith('RS')) return ['rsa'];
  if (alg.startsWith('PS')) return ['rsa', 'rsa-pss'];
  if (alg.startsWith('ES')) return ['ec'];
  return ['ed25519', 'ed448'];
}

const HMAC_MIN_BYTES: Record<string, number> = { HS256: 32, HS384: 48, HS512: 64 };

/**
 * Verifies the JWTs of one API: signature (keys loaded once, here), `exp`/`nbf` with a clock
 * tolerance, and `iss`/`aud` when configured. Verification is asynchronous in jose; a token verified
 * before and not yet expired is answered synchronously from a bounded cache.
 */
export class JwtVerifier {
  readonly required: boolean;
  private readonly key: KeyObject | JWTVerifyGetKey;
  private readonly options: JWTVerifyOptions;
  private readonly cache = new Map<string, { payload: Record<string, unknown>; until: number }>();

  private constructor(conf: JwtVerificationJson, key: KeyObject | JWTVerifyGetKey) {
    jose(); // now, so that no request waits for it
    this.required = conf.required === true;
    this.key = key;
    this.options = {
      algorithms: [...conf.algorithms],
      clockTolerance: conf.clock_tolerance ?? DEFAULT_CLOCK_TOLERANCE_S,
      ...(conf.issuer ? { issuer: conf.issuer } : {}),
      ...(conf.audience ? { audience: conf.audience } : {}),
      ...(conf.required_claims?.length ? { requiredClaims: [...conf.required_claims] } : {}),
    };
  }

  /**
   * Loads the keys of an already schema-checked `jwt_verification`. Key files are read relative to
   * `baseDir`; a file that cannot be read or does not hold a usable key is a config error naming
   * `file` (the API's file) and the field. Never puts key material in a message.
   */
  static load(conf: JwtVerificationJson, baseDir: string, file: string): JwtVerifier {
    const field = conf.secret_file !== undefined ? 'secret_file' : conf.public_key_file !== undefined ? 'public_key_file' : 'jwks_file';
    const rel = conf[field] ?? '';
    const keyPath = path.resolve(baseDir, rel);
    const problem = (message: string): AseConfigError =>
      invalidConfig([{ file, path: `/api_metadata/jwt_verification/${field}`, value: rel, message } satisfies ConfigProblem]);
    let bytes: Buffer;
    try {
      bytes = readFileSync(keyPath);
    } catch (err) {
      throw problem(`cannot read ${keyPath} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (field === 'secret_file') {
      // One trailing newline is an editor's, not the secret's.
      const secret = stripNewline(bytes);
      const need = Math.max(...conf.algorithms.map((a) => HMAC_MIN_BYTES[a] ?? 32));
      if (secret.length < need) throw problem(`${keyPath} holds ${secret.length} bytes; ${conf.algorithms.join(', ')} needs a secret of at least ${need} bytes`);
      return new JwtVerifier(conf, createSecretKey(secret));
    }
    if (field === 'public_key_file') {
      let key: KeyObject;
      try {
        key = createPublicKey(bytes);
      } catch {
        throw problem(`${keyPath} does not hold a PEM public key or certificate`);
      }
      const kt = key.asymmetricKeyType ?? '';
      const misfit = conf.algorithms.find((a) => !keyTypesFor(a).includes(kt));
      if (misfit) throw problem(`${keyPath} holds a ${kt} key, which cannot verify ${misfit}`);
      return new JwtVerifier(conf, key);
    }
    let jwks: unknown;
    try {
      jwks = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw problem(`${keyPath} is not JSON`);
    }
    const keys = (jwks as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys) || keys.length === 0 || !keys.every((k) => k && typeof k === 'object')) {
      throw problem(`${keyPath} is not a JWKS (an object with a non-empty "keys" array)`);
    }
    // Public keys only: a shared secret here would reopen key confusion, a private key does not belong.
    if (keys.some((k: Record<string, unknown>) => k['kty'] === 'oct' || k['d'] !== undefined)) {
      throw problem(`${keyPath} must hold public keys only (no "oct" keys, no private "d" members)`);
    }
    try {
      return new JwtVerifier(conf, jose().createLocalJWKSet(jwks as Parameters<typeof import('jose').createLocalJWKSet>[0]));
    } catch (err) {
      throw problem(`${keyPath} is not a usable JWKS (${(err as Error).message})`);
    }
  }

  /** Verified tokens remembered now, and at most. */
  get cached(): { size: number; max: number } {
    return { size: this.cache.size, max: CACHE_MAX };
  }

  /** Synchronous for a token verified before (until its `exp`), a Promise otherwise. Never rejects. */
  check(token: string): JwtCheck | Promise<JwtCheck> {
    const hit = this.cache.get(token);
    if (hit) {
      if (hit.until > Date.now()) return { ok: true, token, payload: hit.payload };
      this.cache.delete(token);
    }
    if (token.length > MAX_JWT_LENGTH) return { ok: false, token };
    const verified = typeof this.key === 'function' ? jose().jwtVerify(token, this.key, this.options) : jose().jwtVerify(token, this.key, this.options);
    return verified.then(
      ({ payload }): JwtCheck => {
        this.remember(token, payload as Record<string, unknown>);
        return { ok: true, token, payload: payload as Record<string, unknown> };
      },
      (): JwtCheck => ({ ok: false, token }),
    );
  }

  private remember(token: string, payload: Record<string, unknown>): void {
    const now = Date.now();
    const exp = typeof payload['exp'] === 'number' ? payload['exp'] * 1000 : Infinity;
    // Until `exp` itself (the tolerance is for clocks, not for the cache); never longer than the TTL.
    const until = Math.min(exp, now + CACHE_TTL_MS);
    if (until <= now) return;
    if (this.cache.size >= CACHE_MAX) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(token, { payload, until });
  }
}

function stripNewline(b: Buffer): Buffer {
  let end = b.length;
  if (end > 0 && b[end - 1] === 0x0a) end--;
  if (end > 0 && b[end - 1] === 0x0d) end--;
  return b.subarray(0, end);
}
