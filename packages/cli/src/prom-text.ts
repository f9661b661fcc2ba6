/** One sample of Prometheus's text format: `name{label="value",...} 12`. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;
const LABEL = /\s*([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;

function unescape(v: string): string {
  return v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function number(v: string): number {
  if (v === '+Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  return Number(v);
}

/**
 * The samples of a scrape, in order. Comments (`# HELP`, `# TYPE`) and lines that are not samples
 * are skipped: `ase top` reads a few series it knows and must not stop at one it does not.
 */
export function parsePromText(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = Object.create(null) as Record<string, string>;
    const body = m[2] ?? '';
    LABEL.lastIndex = 0;
    let ok = true;
    while (LABEL.lastIndex < body.length) {
      const at = LABEL.lastIndex;
      const l = LABEL.exec(body);
      if (!l || LABEL.lastIndex === at) {
        ok = body.slice(at).trim() === '';
        break;
      }
      labels[l[1]!] = unescape(l[2]!);
    }
    if (ok) out.push({ name: m[1]!, labels, value: number(m[3]!) });
  }
  return out;
}
