import { randomBytes } from 'node:crypto';
import type { ResponseSpec } from '../types';

/** How many answers wait for nginx to fetch them, and for how long. */
export const PENDING_ANSWERS_MAX = 10_000;
export const PENDING_ANSWER_TTL_MS = 10_000;

interface Pending {
  spec: ResponseSpec;
  expires: number;
}

/**
 * Answers the decision service gave and nginx has still to serve. nginx's auth_request reads only
 * the status of the decision (2xx, 401 or 403) and drops its body, so a refusal is handed over as
 * a one-time ticket: nginx's error page fetches the real answer (status, headers, body) with it.
 *
 * Bounded: at most {@link PENDING_ANSWERS_MAX} tickets (the oldest goes first), each valid for
 * {@link PENDING_ANSWER_TTL_MS} and served once. Tickets are 128 random bits: a client cannot
 * guess one, and one it saw (it never does: nginx keeps the decision's headers) is spent.
 */
export class PendingAnswers {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly max = PENDING_ANSWERS_MAX,
    private readonly ttlMs = PENDING_ANSWER_TTL_MS,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  /** Keeps `spec` for one fetch; returns its ticket. */
  put(spec: ResponseSpec, now = Date.now()): string {
    // Map order is insertion order, and every entry has the same lifetime: the oldest are first.
    for (const [ticket, p] of this.pending) {
      if (p.expires > now && this.pending.size < this.max) break;
      this.pending.delete(ticket);
    }
    const ticket = randomBytes(16).toString('base64url');
    this.pending.set(ticket, { spec, expires: now + this.ttlMs });
    return ticket;
  }

  /** The answer for `ticket`, once; undefined when unknown, spent or expired. */
  take(ticket: string, now = Date.now()): ResponseSpec | undefined {
    const p = this.pending.get(ticket);
    if (!p) return undefined;
    this.pending.delete(ticket);
    return p.expires > now ? p.spec : undefined;
  }
}
