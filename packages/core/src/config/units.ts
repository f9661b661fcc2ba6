import type { Rate, RateUnit } from './types';

/**
 * The value forms of the configuration files: durations (`200m`), sizes (`128mb`) and rates
 * (`10/second`). Each form has one parser here and one JSON Schema `pattern` (a string source, as
 * ajv wants it) that accepts exactly the strings the parser accepts, so a value that passed the
 * schema always parses. The `*_FORM` strings describe each form in words for error messages.
 */

/** `[Aa][Bb]...`: a case-insensitive literal for JSON Schema patterns, which take no flags. */
export function caseInsensitive(word: string): string {
  return [...word].map((c) => (/[a-z]/i.test(c) ? `[${c.toUpperCase()}${c.toLowerCase()}]` : c)).join('');
}

const SECOND = 1000;
const DAY = 86_400 * SECOND;

/** Milliseconds per duration unit. `mnt` is 30 days and `yr` 365 days, as in the reference. */
export const DURATION_UNITS: Readonly<Record<'s' | 'm' | 'h' | 'd' | 'w' | 'mnt' | 'yr', number>> = Object.freeze({
  s: SECOND,
  m: 60 * SECOND,
  h: 3600 * SECOND,
  d: DAY,
  w: 7 * DAY,
  mnt: 30 * DAY,
  yr: 365 * DAY,
});

/** Bytes per size unit. */
export const SIZE_UNITS: Readonly<Record<'kb' | 'mb' | 'gb', number>> = Object.freeze({
  kb: 1024,
  mb: 1024 * 1024,
  gb: 1024 * 1024 * 1024,
});

/** Seconds per rate unit. */
export const RATE_UNITS: Readonly<Record<RateUnit, number>> = Object.freeze({ second: 1, minute: 60, hour: 3600 });

/** Unanchored bodies, for combining (ase.conf durations also take a plain number of milliseconds). */
export const DURATION_BODY = `[0-9]{1,12}(?:${caseInsensitive('mnt')}|${caseInsensitive('yr')}|[SsMmHhDdWw])`;
export const SIZE_BODY = `[0-9]{1,12} ?[KkMmGg][Bb]`;
export const RATE_BODY = `[0-9]{1,15}/(?:${caseInsensitive('second')}|${caseInsensitive('minute')}|${caseInsensitive('hour')})`;

/** JSON Schema `pattern` of a duration: `<int><unit>`, unit s, m, h, d, w, mnt or yr, any case. */
export const DURATION_PATTERN = `^${DURATION_BODY}$`;
/** JSON Schema `pattern` of a size: `<int>` then kb, mb or gb (any case), one optional space between. */
export const SIZE_PATTERN = `^${SIZE_BODY}$`;
/** JSON Schema `pattern` of a rate: `<int>/second|minute|hour` (any case). */
export const RATE_PATTERN = `^${RATE_BODY}$`;

/** The accepted forms in words, to follow "must be " in error messages. */
export const DURATION_FORM =
  'a duration like "30s", "200m", "12h", "7d", "1w", "2mnt" or "1yr" (a whole number and a unit: s, m, h, d, w, mnt = 30 days, yr = 365 days)';
export const SIZE_FORM = 'a size like "512kb", "128mb" or "1gb" (a whole number and a unit: kb, mb or gb)';
export const RATE_FORM = 'a rate like "10/second", "100/minute" or "1000/hour"';

const DURATION_RE = /^([0-9]{1,12})(mnt|yr|s|m|h|d|w)$/i;
const SIZE_RE = /^([0-9]{1,12}) ?(kb|mb|gb)$/i;
const RATE_RE = /^([0-9]{1,15})\/(second|minute|hour)$/i;

function product(n: string, factor: number): number | undefined {
  const v = Number(n) * factor;
  return Number.isSafeInteger(v) ? v : undefined;
}

/** The number and the lower-case unit of `s` when `re` (two groups) matches it. */
function numberAndUnit(re: RegExp, s: string): [number: string, unit: string] | undefined {
  if (typeof s !== 'string') return undefined;
  const m = re.exec(s);
  return m && m[1] !== undefined && m[2] !== undefined ? [m[1], m[2].toLowerCase()] : undefined;
}

/**
 * `200m` → 12 000 000. Units s, m (minutes), h, d, w, mnt (30 days), yr (365 days), any case, no
 * spaces. Undefined for anything else, and for values beyond Number.MAX_SAFE_INTEGER ms.
 */
export function parseDuration(s: string): number | undefined {
  const m = numberAndUnit(DURATION_RE, s);
  return m && product(m[0], DURATION_UNITS[m[1] as keyof typeof DURATION_UNITS]);
}

/** `128mb` → 134 217 728. Units kb, mb, gb (powers of 1024), any case, one optional space. */
export function parseSize(s: string): number | undefined {
  const m = numberAndUnit(SIZE_RE, s);
  return m && product(m[0], SIZE_UNITS[m[1] as keyof typeof SIZE_UNITS]);
}

/** `100/minute` → `{ points: 100, unit: 'minute', windowSeconds: 60 }`; `0/second` is valid (off). */
export function parseRate(s: string): Rate | undefined {
  const m = numberAndUnit(RATE_RE, s);
  if (!m) return undefined;
  const unit = m[1] as RateUnit;
  return { points: Number(m[0]), unit, windowSeconds: RATE_UNITS[unit] };
}
