import { createHash, createHmac, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type AseError, persistFailed, secretKeyInvalid, stateFileUnusable } from '../errors';
import { writeFileAtomic } from '../persistence/atomic-file';

/** The only access key of the management API (`x-ase-access-key`), as in the reference product. */
export const ADMIN_ACCESS_KEY = 'admin';
/** The secret key until `update_password` changes it. */
export const DEFAULT_ADMIN_SECRET = 'admin';

/** scrypt cost: N=2^14, r=8, p=1 (16 MB, tens of milliseconds per check). */
const SCRYPT = { N: 16_384, r: 8, p: 1, keylen: 32 } as const;
const MAX_SECRET = 256;
/** Shortest new secret key: the management API faces password guessing (throttled, but still). */
const MIN_SECRET = 12;
/** Successful checks remembered (as keyed MACs, never the secret), so an admin's calls do not each pay scrypt. */
const VERIFIED_CACHE = 64;

/** On-disk shape of `data/credentials.json`. Only a salted hash is stored. */
interface CredentialsFile {
  version: 1;
  algorithm: 'scrypt';
  N: number;
  r: number;
  p: number;
  keylen: number;
  salt: string;
  hash: string;
  updated: string;
}

interface SecretRecord {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

/**
 * Why a new secret key is refused, or undefined. It travels in an HTTP header, so it must fit one;
 * and it must not be guessable in a few tries: 12 characters or more, of at least two kinds.
 */
export function secretKeyProblem(secret: unknown): string | undefined {
  if (typeof secret !== 'string' || secret.length === 0) return 'the new password must be a non-empty string';
  if (secret.length > MAX_SECRET) return `the new password must be at most ${MAX_SECRET} characters`;
  if (!/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(secret)) {
    return 'the new password must be printable ASCII (it is sent in the x-ase-secret-key header) without leading or trailing spaces';
  }
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((re) => re.test(secret)).length;
  if (secret.length < MIN_SECRET || classes < 2) {
    return `the new password must be at least ${MIN_SECRET} characters and mix at least two of: lower-case letters, upper-case letters, digits, other characters`;
  }
  return undefined;
}

function derive(secret: string, r: Omit<SecretRecord, 'hash'>, keylen: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, r.salt, keylen, { N: r.N, r: r.r, p: r.p, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Keyed MACs of (hash, secret) pairs that verified: process-wide, bounded, cleared on any change. */
const MAC_KEY = randomBytes(32);
const verified = new Set<string>();

let defaultHash: SecretRecord | undefined;
/** The default secret's record: the password is public, so one salted hash serves the whole process. */
function defaultRecord(): SecretRecord {
  if (!defaultHash) {
    const salt = randomBytes(16);
    defaultHash = { ...SCRYPT, salt, hash: scryptSync(DEFAULT_ADMIN_SECRET, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p }) };
  }
  return defaultHash;
}

/**
 * The management API's credentials: access key `admin`, secret key stored as a salted scrypt hash
 * in `<configDir>/data/credentials.json` (never in clear), compared in constant time. Without a
 * file the secret is the default `admin`. `setSecret` persists before it takes effect.
 */
export class AdminCredentials {
  private record: SecretRecord;

  constructor(readonly file: string | undefined) {
    this.record = (file ? AdminCredentials.load(file) : undefined) ?? defaultRecord();
  }

  /** The stored record, or undefined when there is no file. A file that cannot be used is an error. */
  private static load(file: string): SecretRecord | undefined {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw stateFileUnusable(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, err);
    }
    const bad = (why: string): AseError =>
      stateFileUnusable(`${file}: ${why}; fix it, or remove it to reset the management secret key to the default`);
    let f: Partial<CredentialsFile>;
    try {
      f = JSON.parse(text) as Partial<CredentialsFile>;
    } catch {
      throw bad('is not valid JSON');
    }
    const int = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
    if (!f || f.version !== 1 || f.algorithm !== 'scrypt') throw bad('is not a version 1 scrypt credentials file');
    if (!int(f.N, 2, 1 << 20) || (f.N & (f.N - 1)) !== 0 || !int(f.r, 1, 64) || !int(f.p, 1, 16)) throw bad('has invalid scrypt parameters');
    if (typeof f.salt !== 'string' || typeof f.hash !== 'string') throw bad('has no salt or hash');
    const salt = Buffer.from(f.salt, 'base64');
    const hash = Buffer.from(f.hash, 'base64');
    if (salt.length < 16 || hash.length < 16 || hash.length > 64) throw bad('has an invalid salt or hash');
    return { N: f.N, r: f.r, p: f.p, salt, hash };
  }

  /**
   * True when `accessKey` is `admin` and `secret` is the secret key. Both comparisons are constant
   * time over fixed-length digests; the secret is always hashed, whatever the access key.
   */
  async verify(accessKey: string, secret: string): Promise<boolean> {
    const accessOk = timingSafeEqual(sha256(accessKey), sha256(ADMIN_ACCESS_KEY));
    const rec = this.record;
    const mac = createHmac('sha256', MAC_KEY).update(rec.hash).update('\0').update(secret, 'utf8').digest('base64');
    let secretOk = verified.has(mac);
    if (!secretOk) {
      const derived = await derive(secret, rec, rec.hash.length);
      secretOk = timingSafeEqual(derived, rec.hash);
      if (secretOk && rec === this.record) {
        if (verified.size >= VERIFIED_CACHE) verified.clear();
        verified.add(mac);
      }
    }
    return accessOk && secretOk;
  }

  /** Replaces the secret key: hashed with a new salt, persisted, then in effect (no restart). */
  async setSecret(secret: string): Promise<void> {
    const problem = secretKeyProblem(secret);
    if (problem) throw secretKeyInvalid(problem);
    const salt = randomBytes(16);
    const next: SecretRecord = { ...SCRYPT, salt, hash: Buffer.alloc(0) };
    next.hash = await derive(secret, next, SCRYPT.keylen);
    if (this.file) {
      const file: CredentialsFile = {
        version: 1,
        algorithm: 'scrypt',
        N: next.N,
        r: next.r,
        p: next.p,
        keylen: SCRYPT.keylen,
        salt: salt.toString('base64'),
        hash: next.hash.toString('base64'),
        updated: new Date().toISOString(),
      };
      try {
        await writeFileAtomic(this.file, `${JSON.stringify(file, null, 1)}\n`);
      } catch (err) {
        throw persistFailed('the management credentials', err);
      }
    }
    this.record = next;
    verified.clear();
  }
}
