import type { Command } from './commands';
import { CliError } from './admin-client';

type Row = Record<string, unknown>;

const str = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

const WHY_UNMATCHED: Readonly<Record<string, string>> = {
  no_host: 'no API serves this host',
  no_prefix: 'no API of this host has a url the path is under',
  not_reached: 'refused before matching',
};

/** `Name: value` → [name, value]; the value may hold colons (URLs, times). */
function headerLine(line: string): [string, string] {
  const at = line.indexOf(':');
  const name = at > 0 ? line.slice(0, at).trim() : '';
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new CliError(`explain: -H takes 'Name: value' (got "${line}")`, 2);
  return [name, line.slice(at + 1).trim()];
}

function identifier(e: Row): string {
  return [str(e['type']), e['name'] === undefined ? undefined : str(e['name']), str(e['value'])].filter((x) => x !== undefined).join(' ');
}

/** The answer of `POST /v4/ase/explain` as lines a person reads. */
export function explanationLines(x: Row): string[] {
  const reason = x['reason'] === null ? '' : ` (${str(x['reason'])})`;
  const rows: [string, string][] = [
    ['api', x['api'] === null ? `none: ${WHY_UNMATCHED[str(x['match'])] ?? str(x['match'])}` : str(x['api'])],
    ['decided by', str(x['stage'])],
    ['outcome', `${str(x['outcome'])}${reason}`],
    ['status', x['status'] === null ? 'answered by the app or backend' : str(x['status'])],
    ['route', x['route'] === null ? 'answered by ase' : str(x['route'])],
  ];
  const out = rows.map(([k, v]) => `${k.padEnd(12)}: ${v}`);
  const ids = Array.isArray(x['identifiers']) ? (x['identifiers'] as Row[]) : [];
  if (ids.length > 0) {
    out.push('identifiers :');
    for (const e of ids) out.push(`  ${identifier(e)}${e['listed'] === null ? '' : ` (${e['listed'] === 'deny' ? 'deny-listed' : 'allow-listed'})`}`);
  }
  const would = Array.isArray(x['would_list']) ? (x['would_list'] as Row[]) : [];
  if (would.length > 0) {
    out.push('detections  :');
    for (const d of would) out.push(`  ${str(d['kind'])} on ${identifier(d['identifier'] as Row)}${d['listed'] === true ? ', would be deny-listed' : ''}`);
  }
  return out;
}

export const explainCommand: Command = {
  args: "METHOD URL [-H 'Name: value' ...] [--ip ADDR] [--json]",
  summary: 'what the enforcer would do with a request (which API, which stage, the answer), changing nothing',
  run: async ({ client, explain }, args) => {
    if (args.length !== 2) throw new CliError(`explain takes a method and a URL, got ${args.length} argument${args.length === 1 ? '' : 's'}\nusage: ase explain ${explainCommand.args}`, 2);
    const headers: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
    for (const line of explain.headers) {
      const [name, value] = headerLine(line);
      const prior = headers[name];
      headers[name] = prior === undefined ? value : [...(Array.isArray(prior) ? prior : [prior]), value];
    }
    const body = { method: args[0]!, url: args[1]!, headers: { ...headers }, ...(explain.ip === undefined ? {} : { ip: explain.ip }) };
    const x = await client.call('POST', '/v4/ase/explain', {}, body);
    return explain.json ? [JSON.stringify(x, null, 2)] : explanationLines(x);
  },
};
