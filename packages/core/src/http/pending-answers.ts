import { randomFillSync } from 'node:crypto';
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
  /**
   * Tickets in the order they were given (a ring of `max`): every ticket lives as long, so the
   * oldest are the first to expire. Walking the Map itself from its start would step over every
   * entry deleted since it was last rebuilt, thousands of them under a flood of refusals.
   */
  private readonly order: (string | undefined)[];
  private head = 0;
  private count = 0;
  /** Random bytes drawn a few thousand tickets at a time: one draw per ticket costs a call into OpenSSL. */
  private readonly pool = Buffer.alloc(16 * 256);
  private poolAt = this.pool.length;

  constructor(
    private readonly max = PENDING_ANSWERS_MAX,
    private readonly ttlMs = PENDING_ANSWER_TTL_MS,
  ) {
    this.order = new Array<string | undefined>(max);
  }

  get size(): number {
    return this.pending.size;
  }

  /** Keeps `spec` for one fetch; returns its ticket. */
  put(spec: ResponseSpec, now = Date.now()): string {
    while (this.count > 0) {
      const oldest = this.order[this.head]!;
      const p = this.pending.get(oldest);
      // Taken already, expired, or the ring is full: that slot is free.
      if (p !== undefined && p.expires > now && this.count < this.max) break;
      if (p !== undefined) this.pending.delete(oldest);
      this.order[this.head] = undefined;
      this.head = (this.head + 1) % this.max;
      this.count--;
    }
    const ticket = this.nextTicket();
    this.pending.set(ticket, { spec, expires: now + this.ttlMs });
    this.order[(this.head + this.count) % this.max] = ticket;
    this.count++;
    return ticket;
  }

  /** The answer for `ticket`, once; undefined when unknown, spent or expired. */
  take(ticket: string, now = Date.now()): ResponseSpec | undefined {
    const p = this.pending.get(ticket);
    if (!p) return undefined;
    this.pending.delete(ticket);
    return p.expires > now ? p.spec : undefined;
  }

  private nextTicket(): string {
    if (this.poolAt === this.pool.length) {
      randomFillSync(this.pool);
      this.poolAt = 0;
    }
    const t = this.pool.toString('base64url', this.poolAt, this.poolAt + 16);
    this.poolAt += 16;
    return t;
  }
}
