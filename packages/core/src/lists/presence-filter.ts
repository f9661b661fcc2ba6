/**
 * A split-block Bloom filter in front of a list's maps: "certainly absent" answers without touching
 * the maps. Almost every request is a miss on every deny-list probe, and a miss in a Map of hundreds
 * of thousands of strings costs several cache misses (bucket, entry, key string), which made lookups
 * with a million entries ~2.5× slower than with a thousand. This filter is about 2 bytes per entry
 * (a million entries: 2 MB, in the CPU's last-level cache) and a probe reads one 32-byte block.
 *
 * False positives only send the lookup on to the map, so the answer is always the map's. Removals
 * leave their bits set (again: only a false positive until the next rebuild). The key is hashed
 * over at most {@link SAMPLED} of its characters (all of a short value; the ends and an even spread of
 * a long one, e.g. a JWT), so the cost per probe is bounded whatever a client sends.
 */

/** Bits per entry at the target load; ~16 bits and 8 probes give about 0.1–0.5 % false positives. */
const BITS_PER_ENTRY = 16;
/** 8 words of 32 bits per block: one bit per word is set for each key. */
const BLOCK_WORDS = 8;
const MIN_BLOCKS = 64;
/** Characters of a value that go into its hash at most. */
export const SAMPLED = 64;

// The salts of the Parquet split-block Bloom filter: one odd multiplier per word of a block.
const SALT = new Int32Array([0x47b6137b, 0x44974d91, 0x8824ad5b, 0xa2b7289d, 0x705495c7, 0x2df1424b, 0x9efc4947, 0x5c6bfb31]);

/** 32-bit hash of (kind, name, value), FNV-1a over sampled characters, murmur3-finalised. */
export function keyHash(kind: number, name: string, value: string): number {
  let h = Math.imul(0x811c9dc5 ^ kind, 0x01000193);
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 0xff, 0x01000193); // separates name from value
  const len = value.length;
  if (len <= SAMPLED) {
    for (let i = 0; i < len; i++) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193);
  } else {
    // 16 leading, 16 trailing (signatures and random tails differ there) and 32 spread in between.
    for (let i = 0; i < 16; i++) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193);
    for (let i = len - 16; i < len; i++) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193);
    const step = (len - 32) / 32;
    for (let j = 0; j < 32; j++) h = Math.imul(h ^ value.charCodeAt(16 + Math.floor(j * step)), 0x01000193);
    h = Math.imul(h ^ len, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** `top` of {@link keyHashAndTop16} for a value whose first 16 bits it could not tell: the caller parses it. */
export const TOP16_UNKNOWN = 0x20000;
/** Added to an IPv6 address's first 16 bits in `top` (an IPv4 address's are below it). */
export const TOP16_V6 = 0x10000;

/**
 * {@link keyHash}(kind, '', value) of an IP address and, from the same pass over its characters,
 * its first 16 bits (`top`): an IP lookup in a list with network entries needs both. Reading a
 * character costs several times the arithmetic done with it (the string's representation is checked
 * on every read), so a second pass for the networks cost as much as the hash itself.
 * Returns the hash and leaves `top` in {@link scanned}`.top`: the first two octets of a dotted quad
 * (`203.0.113.7` → 203 × 256 + 0), TOP16_V6 + the first group of an IPv6 address (`2001:db8::1` →
 * TOP16_V6 + 0x2001, `::1` → TOP16_V6), or TOP16_UNKNOWN for anything else. (Returning both in one
 * number, above 2^31, allocated a heap number per lookup: garbage on the request path.)
 */
export function keyHashAndTop16(kind: number, value: string): number {
  const len = value.length;
  if (len > SAMPLED) {
    scanned.top = TOP16_UNKNOWN;
    return keyHash(kind, '', value);
  }
  let h = Math.imul(Math.imul(0x811c9dc5 ^ kind, 0x01000193) ^ 0xff, 0x01000193); // keyHash's with name ''
  let top = TOP16_UNKNOWN;
  // The first field (at most 4 characters and its separator) in decimal and in hexadecimal at once.
  let i = 0;
  let c = 0;
  let dec = 0;
  let hex = 0;
  while (i < len && i < 5) {
    c = value.charCodeAt(i++);
    h = Math.imul(h ^ c, 0x01000193);
    let d = c - 0x30;
    if (d < 0 || d > 9) {
      d = (c | 0x20) - 0x57; // a–f, A–F → 10–15
      if (d < 10 || d > 15) break;
      dec = 256; // not a decimal octet
    }
    dec = dec * 10 + d;
    hex = (hex << 4) | d;
  }
  if (c === 0x2e && i >= 2 && i <= 4 && dec <= 255) {
    const start = i;
    let b = 0;
    while (i < len && i < start + 4) {
      c = value.charCodeAt(i++);
      h = Math.imul(h ^ c, 0x01000193);
      const d = c - 0x30;
      if (d < 0 || d > 9) break;
      b = b * 10 + d;
    }
    if (c === 0x2e && i >= start + 2 && b <= 255) top = (dec << 8) | b;
  } else if (c === 0x3a) {
    top = TOP16_V6 | hex;
  }
  for (; i < len; i++) h = Math.imul(h ^ value.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  scanned.top = top;
  return h;
}

/** The first 16 bits of the address {@link keyHashAndTop16} read last (the request path is synchronous). */
export const scanned = { top: TOP16_UNKNOWN };

export class PresenceFilter {
  private words: Int32Array;
  private mask: number;
  /** Entries the current size was chosen for; past it the owner rebuilds. */
  capacity: number;
  /** Keys added since the last rebuild (including ones removed since). */
  added = 0;

  constructor(capacity = 0) {
    const blocks = blocksFor(capacity);
    this.words = new Int32Array(blocks * BLOCK_WORDS);
    this.mask = blocks - 1;
    this.capacity = (blocks * BLOCK_WORDS * 32) / BITS_PER_ENTRY;
  }

  /** Bytes held by the bit array. */
  get bytes(): number {
    return this.words.byteLength;
  }

  add(h: number): void {
    const base = (h & this.mask) * BLOCK_WORDS;
    const k = h ^ (h >>> 15) ^ 0x5bd1e995; // bits from a different mix than the block index
    const w = this.words;
    for (let i = 0; i < BLOCK_WORDS; i++) w[base + i]! |= 1 << (Math.imul(k, SALT[i]!) >>> 27);
    this.added++;
  }

  mayContain(h: number): boolean {
    const base = (h & this.mask) * BLOCK_WORDS;
    const k = h ^ (h >>> 15) ^ 0x5bd1e995;
    const w = this.words;
    for (let i = 0; i < BLOCK_WORDS; i++) {
      if ((w[base + i]! & (1 << (Math.imul(k, SALT[i]!) >>> 27))) === 0) return false;
    }
    return true;
  }
}

function blocksFor(entries: number): number {
  const want = Math.ceil((Math.max(entries, 1) * BITS_PER_ENTRY) / (BLOCK_WORDS * 32));
  let blocks = MIN_BLOCKS;
  while (blocks < want) blocks *= 2;
  return blocks;
}
