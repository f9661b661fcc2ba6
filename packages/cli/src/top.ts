import { maskIdentifier } from '@ase/core';
import { type AdminClient, CliError } from './admin-client';
import { parsePromText } from './prom-text';

/** One count of `ase_decisions_total`. */
export interface DecisionRow {
  api: string;
  outcome: string;
  reason: string;
  /** Deny-list blocks: the identifier type and the entry's tag; '' otherwise. */
  listType: string;
  tag: string;
  value: number;
}

export interface DenyRow {
  tag: string;
  type: string;
  name?: string | undefined;
  value: string;
}

/** What one refresh read from the management API. */
export interface TopSample {
  /** Milliseconds (Date.now()) when it was read. */
  at: number;
  decisions: DecisionRow[];
  /** The deny list in the order the API returns it: by tag, then identifier type, oldest first. */
  deny: DenyRow[];
}

export interface FrameOptions {
  /** `127.0.0.1:8010`: where the numbers come from. */
  where: string;
  /** Columns of the terminal; every line is cut to it. */
  width: number;
  /** Rows of the terminal (live view): the deny-list section gets what is left. */
  height?: number | undefined;
  intervalMs: number;
  /** The live view: the heading says how to quit. */
  live: boolean;
  /** A refresh that failed: shown under the heading, over the last numbers. */
  problem?: string | undefined;
}

/** Outcomes that count as refused in the API table and are listed by reason. */
const REFUSED = new Set(['blocked', 'rate_limited', 'decoy', 'unknown_api', 'unavailable']);
const DENY_TAGS = ['manual', 'abs_generated', 'decoy', 'invalid_protocol', 'invalid_method', 'invalid_content_type', 'missing_token'];
const NUM = 10;

/** Text from the server shown on a terminal: no control characters (no escape sequences). */
function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, '?');
}

function fit(s: string, n: number): string {
  return s.length <= n ? s.padEnd(n) : `${s.slice(0, Math.max(0, n - 1))}~`;
}

function count(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)}G` : n >= 1e7 ? `${(n / 1e6).toFixed(1)}M` : String(Math.round(n));
}

function perSecond(now: number, before: number | undefined, seconds: number): string {
  if (before === undefined || seconds <= 0) return '-';
  // A counter that went down was reset (the server restarted): count from zero.
  const d = now >= before ? now - before : now;
  const r = d / seconds;
  return r >= 100 ? r.toFixed(0) : r.toFixed(1);
}

function sum<K>(rows: readonly DecisionRow[], key: (r: DecisionRow) => K | undefined): Map<K, number> {
  const out = new Map<K, number>();
  for (const r of rows) {
    const k = key(r);
    if (k !== undefined) out.set(k, (out.get(k) ?? 0) + r.value);
  }
  return out;
}

function reasonOf(r: DecisionRow): string | undefined {
  if (!REFUSED.has(r.outcome)) return undefined;
  return [r.reason, r.listType, r.tag].filter((x) => x !== '').join(' ');
}

/**
 * The frame `ase top` draws: requests per API (rate over the last refresh, and totals), refused
 * requests by reason, and the newest deny-list entries. A pure function of two samples, so what a
 * terminal shows is what a test reads.
 */
export function renderFrame(now: TopSample, before: TopSample | undefined, o: FrameOptions): string[] {
  const width = Math.max(20, o.width);
  const numbers = 4 * NUM;
  const nameWidth = Math.max(8, Math.min(40, width - numbers));
  const seconds = before ? (now.at - before.at) / 1000 : 0;
  const stamp = new Date(now.at).toISOString().replace('T', ' ').slice(0, 19);
  const every = o.intervalMs % 1000 === 0 ? `${o.intervalMs / 1000}s` : `${o.intervalMs}ms`;
  const lines: string[] = [[`ase top  ${o.where}  ${stamp} UTC`, ...(o.live ? [`every ${every}`, 'q quits'] : [])].join('  ')];
  if (o.problem) lines.push(`! ${printable(o.problem)}`);
  lines.push('');

  const apiName = (api: string): string => (api === '' ? '(no API)' : printable(api));
  const totals = sum(now.decisions, (r) => r.api);
  const passed = sum(now.decisions, (r) => (r.outcome === 'passed' ? r.api : undefined));
  const refused = sum(now.decisions, (r) => (REFUSED.has(r.outcome) ? r.api : undefined));
  const totalsBefore = before ? sum(before.decisions, (r) => r.api) : undefined;
  const head = (name: string, cols: string[]): string => fit(name, nameWidth) + cols.map((c) => c.padStart(NUM)).join('');
  lines.push(head('API', ['REQ/S', 'TOTAL', 'PASSED', 'REFUSED']));
  const apis = [...totals.keys()].sort((a, b) => totals.get(b)! - totals.get(a)! || a.localeCompare(b));
  if (apis.length === 0) lines.push('(no requests yet)');
  for (const api of apis) {
    const t = totals.get(api)!;
    const rate = perSecond(t, totalsBefore ? (totalsBefore.get(api) ?? 0) : undefined, seconds);
    lines.push(head(apiName(api), [rate, count(t), count(passed.get(api) ?? 0), count(refused.get(api) ?? 0)]));
  }

  lines.push('');
  const reasons = sum(now.decisions, reasonOf);
  const reasonsBefore = before ? sum(before.decisions, reasonOf) : undefined;
  lines.push(head('REFUSED BY REASON', ['REQ/S', 'TOTAL']));
  const keys = [...reasons.keys()].sort((a, b) => reasons.get(b)! - reasons.get(a)! || a.localeCompare(b));
  if (keys.length === 0) lines.push('(none)');
  for (const k of keys) lines.push(head(printable(k), [perSecond(reasons.get(k)!, reasonsBefore ? (reasonsBefore.get(k) ?? 0) : undefined, seconds), count(reasons.get(k)!)]));

  lines.push('');
  const byTag = new Map<string, number>();
  for (const e of now.deny) byTag.set(e.tag, (byTag.get(e.tag) ?? 0) + 1);
  const tally = [...byTag].map(([t, n]) => `${t} ${n}`).join(', ');
  lines.push(`DENY LIST  ${now.deny.length} entr${now.deny.length === 1 ? 'y' : 'ies'}${tally ? ` (${tally})` : ''}`);
  // The list keeps no time of addition: each tag's entries come oldest first within an identifier
  // type, so the last ones returned are the newest the API can tell.
  const room = o.height === undefined ? 10 : Math.max(1, o.height - lines.length - 1);
  const newest = [...now.deny].reverse().slice(0, room);
  for (const e of newest) {
    const id = `${e.type} ${e.name === undefined ? '' : `${printable(e.name)}=`}${printable(maskIdentifier(e.type, e.value))}`;
    lines.push(`${fit(e.tag, 22)}${id}`);
  }
  if (now.deny.length > newest.length) lines.push(`... ${now.deny.length - newest.length} more (ase view_blacklist)`);
  return lines.map((l) => (l.length > width ? l.slice(0, width) : l.trimEnd()));
}

/** Reads `/metrics` and the deny list. */
export async function takeSample(client: AdminClient): Promise<TopSample> {
  const [text, deny] = await Promise.all([client.text('/metrics'), client.call('GET', '/v4/ase/firewall/blacklist')]);
  const decisions: DecisionRow[] = [];
  for (const s of parsePromText(text)) {
    if (s.name !== 'ase_decisions_total') continue;
    const l = s.labels;
    decisions.push({ api: l['api'] ?? '', outcome: l['outcome'] ?? '', reason: l['reason'] ?? '', listType: l['list_type'] ?? '', tag: l['tag'] ?? '', value: s.value });
  }
  if (!/^ase_decisions_total[{ ]/m.test(text) && !/^# TYPE ase_decisions_total /m.test(text)) {
    throw new CliError(`no ase_decisions_total at ${client.where}/metrics: is this the management API of ase?`);
  }
  const rows: DenyRow[] = [];
  for (const tag of DENY_TAGS) {
    const list = deny[`${tag}_blacklist`];
    if (!Array.isArray(list)) continue;
    for (const e of list as Record<string, unknown>[]) {
      rows.push({ tag, type: String(e['type']), name: typeof e['name'] === 'string' ? e['name'] : undefined, value: String(e['value']) });
    }
  }
  return { at: Date.now(), decisions, deny: rows };
}

export interface TopTerminal {
  stdout: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
}

const ENTER = '\x1b[?1049h\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';

/**
 * `ase top`: one plain frame when `once` or when stdout is not a terminal; else the live view on
 * the alternate screen, redrawn every `intervalMs` until q, Ctrl-C, SIGINT, SIGTERM or SIGHUP,
 * and the terminal given back as it was. A first read that fails is a CliError (nothing drawn).
 */
export async function runTop(client: AdminClient, o: { intervalMs: number; once: boolean }, term: TopTerminal): Promise<number> {
  const first = await takeSample(client);
  const out = term.stdout;
  if (o.once || !out.isTTY) {
    out.write(`${renderFrame(first, undefined, { where: client.where, width: out.isTTY ? out.columns : 120, intervalMs: o.intervalMs, live: false }).join('\n')}\n`);
    return 0;
  }
  return new Promise<number>((resolve) => {
    let before: TopSample | undefined;
    let now = first;
    let problem: string | undefined;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const draw = (): void => {
      if (stopped) return;
      const lines = renderFrame(now, before, { where: client.where, width: out.columns || 80, height: out.rows || 24, intervalMs: o.intervalMs, live: true, problem });
      out.write(`\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\r\n')}\x1b[J`);
    };
    const tick = (): void => {
      takeSample(client).then(
        (s) => {
          before = now;
          now = s;
          problem = undefined;
        },
        (err: unknown) => void (problem = (err as Error).message),
      ).finally(() => {
        if (stopped) return;
        draw();
        timer = setTimeout(tick, o.intervalMs);
      });
    };
    const stdin = term.stdin;
    const raw = stdin.isTTY === true;
    const onKey = (d: Buffer): void => {
      if (d.includes(0x71) || d.includes(0x51) || d.includes(0x03)) stop(); // q, Q, Ctrl-C
    };
    const onSignal = (): void => stop();
    const onResize = (): void => draw();
    function stop(): void {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, onSignal);
      out.off('resize', onResize);
      stdin.off('data', onKey);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      out.write(LEAVE, () => resolve(0));
    }
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
    out.on('resize', onResize);
    if (raw) stdin.setRawMode(true);
    stdin.on('data', onKey);
    stdin.resume();
    out.write(`${ENTER}\x1b[2J`);
    draw();
    timer = setTimeout(tick, o.intervalMs);
  });
}
