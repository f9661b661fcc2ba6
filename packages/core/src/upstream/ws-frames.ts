/** WebSocket framing (RFC 6455 §5.2), only as much as the proxy needs to close a tunnel cleanly. */

/**
 * A server→client close frame (FIN + opcode 8, unmasked): 2-byte status code and a UTF-8 reason
 * of at most 123 bytes.
 */
export function closeFrame(code: number, reason = ''): Buffer {
  let r = Buffer.from(reason, 'utf8');
  if (r.length > 123) r = r.subarray(0, 123);
  const b = Buffer.alloc(4 + r.length);
  b[0] = 0x88;
  b[1] = 2 + r.length;
  b.writeUInt16BE(code & 0xffff, 2);
  r.copy(b, 4);
  return b;
}

/**
 * Follows WebSocket frame boundaries (RFC 6455 §5.2) in a byte stream without buffering payloads:
 * only header bytes are collected, payloads are counted.
 */
export class FrameTracker {
  private remaining = 0;
  private header: number[] = [];

  get atBoundary(): boolean {
    return this.remaining === 0 && this.header.length === 0;
  }

  /** Payload bytes of the current frame not seen yet (0 at a boundary or inside a header). */
  get pendingPayload(): number {
    return this.remaining;
  }

  /**
   * Consumes `chunk`. With `stopAtBoundary`, stops at the first frame end and returns the bytes
   * consumed up to it (> 0), or -1 when the chunk ends first (all of it consumed). Without it,
   * consumes everything and returns `chunk.length`.
   */
  feed(chunk: Buffer, stopAtBoundary = false): number {
    const len = chunk.length;
    let i = 0;
    while (i < len) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, len - i);
        this.remaining -= take;
        i += take;
        if (stopAtBoundary && this.remaining === 0) return i;
        continue;
      }
      this.header.push(chunk[i]!);
      i++;
      if (this.header.length >= headerLength(this.header)) {
        this.remaining = payloadLength(this.header);
        this.header = [];
        if (stopAtBoundary && this.remaining === 0) return i;
      }
    }
    return stopAtBoundary ? -1 : len;
  }
}

function headerLength(h: readonly number[]): number {
  const b1 = h[1];
  if (b1 === undefined) return 2;
  const l7 = b1 & 0x7f;
  return 2 + (l7 === 126 ? 2 : l7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}

function payloadLength(h: readonly number[]): number {
  const l7 = (h[1] ?? 0) & 0x7f;
  if (l7 < 126) return l7;
  if (l7 === 126) return ((h[2] ?? 0) << 8) | (h[3] ?? 0);
  let n = 0;
  for (let i = 2; i < 10; i++) n = n * 256 + (h[i] ?? 0);
  return n;
}
