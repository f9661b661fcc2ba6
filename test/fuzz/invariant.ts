import { readings } from './oracle';
import { DECOY_ANSWERS, GOOD_HOST, type Place } from './policy';
import type { Outcome } from './stand';

/** Where each receiver may legitimately take a request it got. */
const ALLOWED: Record<'backend' | 'app', readonly Place[]> = {
  backend: ['shop'],
  app: ['app', 'members', 'elsewhere'],
};

/** What the request carried that the policy judges, besides its target. */
export interface Sent {
  /** The host name a receiver reads (oracle.ts `hostOf`), undefined when it reads none. */
  host: string | undefined;
  /** The request carries a deny-listed copy of an identity (as some receiver reads it). */
  denied: boolean;
}

/**
 * The invariant, for one request and what became of it. When the request reached the backend or
 * the host app:
 * - the enforcer blocked nothing, and the answer is the receiver's;
 * - every reading of the target it got (oracle.ts), and the route the framework's own router chose
 *   (routed-apps.ts), leads to `elsewhere` (no API's path) or to one
 *   and the same API that receiver serves under this policy: never a decoy, `guarded`, or another
 *   receiver's API; `members` only for the one Host that API is bound to;
 * - from a client carrying a deny-listed identity, every reading leads `elsewhere`: any API's path
 *   would have meant a block.
 * When it reached nobody, the answer is the enforcer's own. Returns what is wrong, or [] when nothing is.
 */
export function violations(out: Outcome, sent: Sent): string[] {
  const wrong: string[] = [];
  if (out.reached === 'nobody') {
    if (out.status === 200 && !DECOY_ANSWERS.includes(out.body)) wrong.push(`answered 200 "${out.body.slice(0, 80)}" without reaching anybody`);
    return wrong;
  }
  const received = JSON.stringify(out.received);
  if (out.events.some((e) => e.startsWith('blocked:'))) wrong.push(`reached the ${out.reached} although the enforcer said ${out.events.join(', ')}`);
  if (out.status !== 200) wrong.push(`reached the ${out.reached} but answered ${out.status}`);
  const rs = readings(out.received ?? '');
  if (out.route !== undefined) rs.push({ how: "the framework's own router", path: out.received ?? '', place: out.route });
  const allowed = sent.denied ? [] : ALLOWED[out.reached];
  for (const r of rs) {
    if (r.place !== 'elsewhere' && !allowed.includes(r.place)) wrong.push(`the ${out.reached} received ${received}, which leads to ${r.place} (${r.how}: ${JSON.stringify(r.path.slice(0, 120))})`);
  }
  const places = new Set(rs.map((r) => r.place).filter((p) => p !== 'elsewhere'));
  if (places.size > 1) wrong.push(`the ${out.reached} received ${received}, read as ${rs.map((r) => `${r.place} (${r.how})`).join(', ')}`);
  if (out.reached === 'backend' && rs.some((r) => r.place !== 'shop')) wrong.push(`the backend received ${received}, read as ${rs.map((r) => `${r.place} (${r.how})`).join(', ')}`);
  if (places.has('members') && sent.host !== GOOD_HOST) wrong.push(`members was served for Host ${JSON.stringify(sent.host)}`);
  return wrong;
}
