import * as fs from 'node:fs';
import * as path from 'node:path';
import { AseConfigError, apiIdFromFile, apiIdProblem, formatConfigProblem, parseDuration, readApiFile, secretKeyProblem } from '@ase/core';
import { type AdminClient, CliError, pointerInWords } from './admin-client';
import { explainCommand } from './explain-command';

/** What a management command gets: the client, the config directory, and how to ask for a secret. */
export interface CommandContext {
  client: AdminClient;
  configDir: string;
  /** Reads a secret: from the environment, else the terminal (hidden), else undefined. */
  askSecret(prompt: string, envName: string): Promise<string | undefined>;
  /** The options only `ase explain` takes: `-H` lines, `--ip`, `--json`. */
  explain: { headers: readonly string[]; ip?: string | undefined; json: boolean };
  /** `--ttl` of the add commands, as typed (`10m`, `2h`, `30d`). */
  ttl?: string | undefined;
  /** `--history` of the view commands. */
  history?: boolean;
  /** `--sort`, `--limit`, `--offset` of the view commands, as typed: the list page checks them and names a bad one. */
  paging?: { sort?: string | undefined; limit?: string | undefined; offset?: string | undefined };
}

export interface Command {
  /** Arguments, for the usage text. */
  args: string;
  summary: string;
  run(ctx: CommandContext, args: readonly string[]): Promise<string[]>;
}

/** Wrong arguments: exit code 2 with the command's usage. */
export class CommandUsageError extends CliError {
  constructor(command: string, message?: string) {
    super(`${message ? `${message}\n` : ''}usage: ase ${command} ${COMMANDS[command]?.args ?? ''}`.trim(), 2);
  }
}

const A = '/v4/ase';
const str = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

function need(command: string, args: readonly string[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    throw new CommandUsageError(command, `${command} takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}, got ${args.length}`);
  }
}

/** Reads and checks an API file the way the server will, so a bad file is named with its field here. */
function readApiText(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`${file}: ${code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? String(err)})`}`);
  }
  try {
    readApiFile(file);
  } catch (err) {
    if (err instanceof AseConfigError) {
      throw new CliError(`invalid API file ${file}:\n${err.problems.map((p) => `  - ${formatConfigProblem({ ...p, path: pointerInWords(p.path) })}`).join('\n')}`);
    }
    throw err;
  }
  return text;
}

/**
 * After a refused update_api: puts the definition the server runs back in API_ID.json, the refused
 * edit moved aside to API_ID.json.rejected (not loaded: the name does not end in .json). Returns
 * what was done, for the error message.
 */
async function restoreLastGood(client: AdminClient, id: string, file: string): Promise<string> {
  let live: Record<string, unknown>;
  try {
    const reply = await client.request('GET', `${A}/api`, { api_id: id });
    if (reply.status === 404) return ''; // no such API: nothing was lost
    if (reply.status !== 200) throw new Error(`HTTP ${reply.status}`);
    live = reply.body;
  } catch (err) {
    return `${file} was left as it is: the definition in use could not be read back (${(err as Error).message})`;
  }
  const aside = `${file}.rejected`;
  const tmp = `${file}.${process.pid}.restore`;
  try {
    fs.writeFileSync(tmp, `${JSON.stringify(live, null, 2)}\n`, { flag: 'wx' });
    if (fs.existsSync(file)) fs.copyFileSync(file, aside);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    return `${file} could not be restored (${(err as Error).message}); the definition in use is the one \`ase api_info ${id}\` prints`;
  }
  return `api ${id} keeps its previous definition, written back to ${file}; the refused edit is in ${aside}`;
}

/** `127.0.0.1:8080`, `backend.local:80`, `[::1]:8080` → host and port. */
function hostPort(command: string, s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65_535) throw new CommandUsageError(command, `"${s}" is not host:port (like 127.0.0.1:8080)`);
  return { host: (m[1] ?? m[2])!, port };
}

/** `ip 1.1.1.1`, `token T`, `username U`, `cookie NAME VALUE`, `api_key NAME VALUE` → a list entry. */
function entry(command: string, args: readonly string[]): Record<string, string> {
  const [type, a, b] = args;
  if (type === 'cookie' || type === 'api_key') {
    if (args.length !== 3) throw new CommandUsageError(command, `${type} entries take a name and a value`);
    return { type, name: a!, value: b! };
  }
  if (type === 'ip' || type === 'token' || type === 'username') {
    if (args.length !== 2) throw new CommandUsageError(command, `${type} entries take one value`);
    return { type, value: a! };
  }
  throw new CommandUsageError(command, `the type must be one of ip, token, username, cookie, api_key${type ? ` (got "${type}")` : ''}`);
}

const DENY_HEADINGS: readonly [string, string][] = [
  ['manual', 'Manual Blacklist'],
  ['abs_generated', 'ABS Generated Blacklist'],
  ['decoy', 'Realtime Decoy Blacklist'],
  ['invalid_protocol', 'Realtime Protocol Blacklist'],
  ['invalid_method', 'Realtime Method Blacklist'],
  ['invalid_content_type', 'Realtime Content-Type Blacklist'],
  ['missing_token', 'Realtime Missing-Token Blacklist'],
  ['honeytoken', 'Realtime Honeytoken Blacklist'],
];

const DENY_TAGS: readonly string[] = ['all', ...DENY_HEADINGS.map(([tag]) => tag)];

/** The fields of a list entry the reference's CLI prints. */
const REFERENCE_ENTRY_FIELDS = new Set(['type', 'name', 'value']);

/**
 * `1) type : cookie, name : JSESSIONID, value : ...`, as the reference's CLI prints them; with
 * `history`, then `, added : <time> by manual via management, expires : never, hits : 0, last hit : never`.
 */
function entryLines(list: unknown, history = false, first = 1): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((e: Record<string, unknown>, i) => {
    const ref = Object.entries(e).filter(([k]) => REFERENCE_ENTRY_FIELDS.has(k)).map(([k, v]) => `${k} : ${str(v)}`);
    if (!history) return `${i + first}) ${ref.join(', ')}`;
    const by = (e['added_by'] ?? {}) as Record<string, unknown>;
    const source = [by['tag'], 'via', by['via'], by['api'] === undefined ? '' : `api ${str(by['api'])}`, by['request_id'] === undefined ? '' : `request ${str(by['request_id'])}`].filter((x) => x !== '' && x !== undefined).join(' ');
    const when = (v: unknown): string => (typeof v === 'string' ? v : 'never');
    const fields = [`added : ${when(e['added_at'])} by ${source}`, `expires : ${when(e['expires_at'])}`, `hits : ${str(e['hits'] ?? 0)}`, `last hit : ${when(e['last_hit'])}`];
    return `${i + first}) ${[...ref, ...fields].join(', ')}`;
  });
}

/** `--ttl 10m` → 600 (seconds, as the REST API takes it); whole seconds from 1 s to 10 years. */
function ttlSeconds(command: string, ttl: string): number {
  const ms = parseDuration(ttl);
  if (ms === undefined || ms < 1000 || ms % 1000 !== 0 || ms > 315_360_000_000) {
    throw new CommandUsageError(command, `--ttl must be a duration like 90s, 10m, 12h or 30d, from 1 second to 10 years (got "${ttl}")`);
  }
  return ms / 1000;
}

const LOG_LEVELS = ['', 'fatal', 'error', 'warning', 'info', 'debug'];

function mb(bytes: unknown): string {
  return `${(Number(bytes) / (1024 * 1024)).toFixed(2)} MB`;
}

function statusBlock(s: Record<string, unknown>): string[] {
  const mem = (s['attack_list_memory'] ?? {}) as Record<string, unknown>;
  const rows: [string, string][] = [
    ['status', str(s['status'])],
    ['mode', str(s['mode'])],
    ['http/ws', `port ${str(s['http_ws_port'])}`],
    ['management', `port ${str(s['management_port'])}`],
    ['firewall', str(s['firewall'])],
    ['audit', str(s['audit'])],
    ['ase detected attack', str(s['ase_detected_attack'])],
    ['attack list memory', `configured ${mb(mem['configured'])}, used ${mb(mem['used'])}, free ${mb(mem['free'])}`],
    ['log level', LOG_LEVELS[Number(s['admin_log_level'])] ?? str(s['admin_log_level'])],
    ['timezone', str(s['timezone'])],
    ['apis', str(s['api_count'])],
  ];
  if (typeof s['framework'] === 'string') rows.splice(2, 0, ['framework', s['framework']]);
  return ['ASE for Node.js, API Security Enforcer', ...rows.map(([k, v]) => `${k.padEnd(24)}: ${v}`)];
}

/** `shop ( loaded ), http, decoy: in-context, client_spike_threshold: 700/second, server_connection_queueing: enabled`. */
function apiLine(id: string, status: string, json: Record<string, unknown> | undefined): string {
  const m = (json?.['api_metadata'] ?? {}) as Record<string, unknown>;
  const parts = [`${id} ( ${status} )`];
  if (typeof m['protocol'] === 'string') parts.push(m['protocol']);
  const decoy = (m['decoy_config'] ?? {}) as Record<string, unknown>;
  if (decoy['decoy_enabled'] === true) {
    parts.push(`decoy: ${Array.isArray(decoy['decoy_subpaths']) && decoy['decoy_subpaths'].length > 0 ? 'in-context' : 'out-context'}`);
  }
  const fc = (m['flow_control'] ?? {}) as Record<string, unknown>;
  const spike = fc['client_spike_threshold'];
  if ((typeof spike === 'string' && !/^0\//.test(spike)) || fc['server_connection_queueing'] === true) {
    parts.push(`client_spike_threshold: ${str(spike)}`, `server_connection_queueing: ${fc['server_connection_queueing'] === true ? 'enabled' : 'disabled'}`);
  }
  return parts.join(', ');
}

function listCommands(list: 'blacklist' | 'whitelist'): Record<string, Command> {
  const p = `${A}/firewall/${list}`;
  const entryArgs = 'ip|token|username VALUE  |  cookie|api_key NAME VALUE';
  return {
    [`add_${list}`]: {
      args: `${entryArgs}  [--ttl DURATION]`,
      summary: `add an entry to the ${list === 'blacklist' ? 'deny' : 'allow'} list; an ip may be a network (203.0.113.0/24, 2001:db8::/48); --ttl 10m: it expires after that long (s, m, h, d, w)`,
      run: async ({ client, ttl }, args) => {
        const body: Record<string, unknown> = entry(`add_${list}`, args);
        if (ttl !== undefined) body['ttl'] = ttlSeconds(`add_${list}`, ttl);
        return [str((await client.call('POST', p, {}, body))['status_message'])];
      },
    },
    [`delete_${list}`]: {
      args: entryArgs,
      summary: `remove an entry from the ${list === 'blacklist' ? 'deny' : 'allow'} list`,
      run: async ({ client }, args) => [str((await client.call('DELETE', p, {}, entry(`delete_${list}`, args)))['status_message'])],
    },
    [`view_${list}`]: {
      args: `${list === 'blacklist' ? `[${DENY_TAGS.join('|')}] ` : ''}[--history] [--sort [-]FIELD] [--limit N] [--offset N]`,
      summary:
        `show the ${list === 'blacklist' ? 'deny' : 'allow'} list; --history: when each entry was added and by what, when it expires, how often it blocked and when it last did; ` +
        `--sort added_at|expires_at|hits|last_hit|value (- first: descending), --limit N, --offset N: one page of it${list === 'blacklist' ? ' (each tag paged on its own)' : ''}`,
      run: async ({ client, history, paging }, args) => {
        need(`view_${list}`, args, 0, list === 'blacklist' ? 1 : 0);
        if (args[0] !== undefined && !DENY_TAGS.includes(args[0])) {
          throw new CliError(`view_${list}: unknown tag "${args[0]}"; allowed: ${DENY_TAGS.join(', ')}`, 2);
        }
        const query: Record<string, string> = args[0] ? { tag: args[0] } : {};
        for (const k of ['sort', 'limit', 'offset'] as const) if (paging?.[k] !== undefined) query[k] = paging[k]!;
        const body = await client.call('GET', p, query);
        // Numbered by place in the whole (sorted) list: page two of ten starts at 11).
        const first = /^[0-9]{1,9}$/.test(paging?.offset ?? '') ? Number(paging!.offset) + 1 : 1;
        if (list === 'whitelist') return ['Whitelist', ...entryLines(body['whitelist'], history, first)];
        const out: string[] = [];
        for (const [tag, heading] of DENY_HEADINGS) {
          if (!(`${tag}_blacklist` in body)) continue;
          out.push(heading, ...entryLines(body[`${tag}_blacklist`], history, first));
        }
        return out;
      },
    },
    [`clear_${list}`]: {
      args: '',
      summary: `empty the ${list === 'blacklist' ? 'deny' : 'allow'} list`,
      run: async ({ client }, args) => {
        need(`clear_${list}`, args, 0);
        return [str((await client.call('DELETE', p, { tag: 'all' }))['status_message'])];
      },
    },
  };
}

function flowCommand(key: 'client_spike_threshold' | 'bytes_in_threshold' | 'bytes_out_threshold'): Command {
  return {
    args: 'API_ID N/second|minute|hour',
    summary: `set ${key} of an API`,
    run: async ({ client }, args) => {
      need(`update_${key}`, args, 2);
      const [api, rate] = args as [string, string];
      await client.call('POST', `${A}/firewall/flowcontrol`, { api_id: api }, { flow_control: { [key]: rate } });
      return [`${key} of api ${api} updated to ${rate}`];
    },
  };
}

function serverFlowCommand(key: 'server_spike_threshold' | 'server_connection_quota'): Command {
  return {
    args: key === 'server_spike_threshold' ? 'API_ID HOST:PORT N/second|minute|hour' : 'API_ID HOST:PORT N',
    summary: `set ${key} of a server of an API`,
    run: async ({ client }, args) => {
      need(`update_${key}`, args, 3);
      const [api, server, value] = args as [string, string, string];
      const { host, port } = hostPort(`update_${key}`, server);
      let v: string | number = value;
      if (key === 'server_connection_quota') {
        if (!/^\d{1,10}$/.test(value)) throw new CommandUsageError(`update_${key}`, `"${value}" is not a whole number`);
        v = Number(value);
      }
      await client.call('POST', `${A}/firewall/flowcontrol/server`, { api_id: api }, { server: { host, port, [key]: v } });
      return [`${key} of server ${server} of api ${api} updated to ${value}`];
    },
  };
}

function switchCommand(what: 'firewall' | 'asedetectedattack', on: boolean): Command {
  return {
    args: '',
    summary: `${on ? 'enable' : 'disable'} ${what === 'firewall' ? 'the firewall (lists, pattern enforcement, flow control)' : 'blocking of ASE-detected attacks (disable purges their deny-list entries)'}`,
    run: async ({ client }, args) => {
      need(`${on ? 'enable' : 'disable'}_${what === 'firewall' ? 'firewall' : 'ase_detected_attack'}`, args, 0);
      return [str((await client.call('POST', `${A}/${what}`, { status: on ? 'enable' : 'disable' }))['status_message'])];
    },
  };
}

/** Every management command, by name. Each talks to the management API of a running `ase start`. */
export const COMMANDS: Readonly<Record<string, Command>> = {
  status: {
    args: '',
    summary: 'show the state of the running enforcer',
    run: async ({ client }, args) => {
      need('status', args, 0);
      return statusBlock(await client.call('GET', `${A}/status`));
    },
  },
  add_api: {
    args: 'FILE.json',
    summary: 'add an API; its id is the file name (shop.json → shop)',
    run: async ({ client }, args) => {
      need('add_api', args, 1);
      const file = args[0]!;
      if (!/\.json$/i.test(file)) throw new CliError(`${file}: an API file name must end in .json (its name is the api id)`, 2);
      const id = apiIdFromFile(file);
      const problem = apiIdProblem(id);
      if (problem) throw new CliError(`${file}: ${problem}`, 2);
      const text = readApiText(file);
      await client.call('POST', `${A}/api`, { api_id: id }, text, file);
      return [`api ${id} added successfully`];
    },
  },
  update_api: {
    args: 'API_ID',
    summary: 'reload an API from <config-dir>/api/API_ID.json after editing it',
    run: async ({ client, configDir }, args) => {
      need('update_api', args, 1);
      const id = args[0]!;
      const problem = apiIdProblem(id);
      if (problem) throw new CliError(problem, 2);
      const file = path.join(configDir, 'api', `${id}.json`);
      try {
        await client.call('PUT', `${A}/api`, { api_id: id }, readApiText(file), file);
      } catch (err) {
        if (!(err instanceof CliError)) throw err;
        // The edit is already on disk: left there, the API would vanish (or the start would fail)
        // at the next restart while the server runs the previous definition.
        const restored = await restoreLastGood(client, id, file);
        throw new CliError(restored ? `${err.message}\n${restored}` : err.message, err.exitCode);
      }
      return [`api ${id} updated successfully`];
    },
  },
  delete_api: {
    args: 'API_ID',
    summary: 'remove an API (and its api/API_ID.json)',
    run: async ({ client }, args) => {
      need('delete_api', args, 1);
      await client.call('DELETE', `${A}/api`, { api_id: args[0]! });
      return [`api ${args[0]!} deleted successfully`];
    },
  },
  list_api: {
    args: '',
    summary: 'list the APIs',
    run: async ({ client }, args) => {
      need('list_api', args, 0);
      const list = await client.call('GET', `${A}/api`);
      const apis = Array.isArray(list['api']) ? (list['api'] as Record<string, unknown>[]) : [];
      const out: string[] = [];
      for (const a of apis) {
        const id = str(a['api_id']);
        out.push(apiLine(id, str(a['status']), await client.call('GET', `${A}/api`, { api_id: id })));
      }
      return out;
    },
  },
  api_info: {
    args: 'API_ID',
    summary: 'print an API definition (JSON)',
    run: async ({ client }, args) => {
      need('api_info', args, 1);
      return [JSON.stringify(await client.call('GET', `${A}/api`, { api_id: args[0]! }), null, 2)];
    },
  },
  add_server: {
    args: 'API_ID HOST:PORT [SERVER_SPIKE_THRESHOLD [SERVER_CONNECTION_QUOTA]]',
    summary: 'add a backend server to an API',
    run: async ({ client }, args) => {
      need('add_server', args, 2, 4);
      const [api, server, spike, quota] = args as [string, string, string | undefined, string | undefined];
      const s: Record<string, unknown> = hostPort('add_server', server);
      if (spike !== undefined) s['server_spike_threshold'] = spike;
      if (quota !== undefined) {
        if (!/^\d{1,10}$/.test(quota)) throw new CommandUsageError('add_server', `"${quota}" is not a whole number`);
        s['server_connection_quota'] = Number(quota);
      }
      await client.call('POST', `${A}/server`, { api_id: api }, { server: s });
      return [`server ${server} added to api ${api}`];
    },
  },
  delete_server: {
    args: 'API_ID HOST:PORT',
    summary: 'remove a backend server from an API',
    run: async ({ client }, args) => {
      need('delete_server', args, 2);
      const [api, server] = args as [string, string];
      await client.call('DELETE', `${A}/server`, { api_id: api }, { server: hostPort('delete_server', server) });
      return [`server ${server} deleted from api ${api}`];
    },
  },
  list_server: {
    args: 'API_ID',
    summary: 'list the servers of an API with their health',
    run: async ({ client }, args) => {
      need('list_server', args, 1);
      const body = await client.call('GET', `${A}/server`, { api_id: args[0]! });
      const servers = Array.isArray(body['server']) ? (body['server'] as Record<string, unknown>[]) : [];
      return servers.map((s) => {
        const host = str(s['host']);
        const parts = [`${host.includes(':') ? `[${host}]` : host}:${str(s['port'])} ( ${str(s['health_status'])} )`];
        for (const k of ['server_spike_threshold', 'server_connection_quota']) if (k in s) parts.push(`${k}: ${str(s[k])}`);
        return parts.join(', ');
      });
    },
  },
  enable_firewall: switchCommand('firewall', true),
  disable_firewall: switchCommand('firewall', false),
  enable_ase_detected_attack: switchCommand('asedetectedattack', true),
  disable_ase_detected_attack: switchCommand('asedetectedattack', false),
  ...listCommands('blacklist'),
  ...listCommands('whitelist'),
  update_password: {
    args: '[NEW_PASSWORD]',
    summary: 'change the admin password (the x-ase-secret-key); no restart needed',
    run: async ({ client, askSecret }, args) => {
      need('update_password', args, 0, 1);
      const next = args[0] ?? (await askSecret('new password: ', 'ASE_NEW_PASSWORD'));
      if (next === undefined) throw new CliError('update_password needs the new password: as an argument, in ASE_NEW_PASSWORD, or typed at a terminal', 2);
      const weak = secretKeyProblem(next);
      if (weak) throw new CliError(weak, 2);
      if (args[0] === undefined && process.env['ASE_NEW_PASSWORD'] === undefined) {
        const again = await askSecret('re-enter new password: ', '');
        if (again !== next) throw new CliError('the passwords do not match');
      }
      await client.call('POST', `${A}/password`, {}, { new_password: next });
      return ['password updated successfully'];
    },
  },
  update_client_spike_threshold: flowCommand('client_spike_threshold'),
  update_bytes_in_threshold: flowCommand('bytes_in_threshold'),
  update_bytes_out_threshold: flowCommand('bytes_out_threshold'),
  update_server_spike_threshold: serverFlowCommand('server_spike_threshold'),
  update_server_connection_quota: serverFlowCommand('server_connection_quota'),
  explain: explainCommand,
};
