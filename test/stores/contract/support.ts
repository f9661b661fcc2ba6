import { randomBytes } from 'node:crypto';

/** A key prefix no other test (or run, on a shared server) uses. */
export function uniqueKey(label: string): string {
  return `contract-${label}-${randomBytes(6).toString('hex')}`;
}

/** Resolves once `check` holds; fails naming `what` after `timeoutMs` (changes of a remote store arrive asynchronously). */
export async function eventually(what: string, check: () => boolean, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
