import * as http from 'node:http';
import * as https from 'node:https';

/** A failure the CLI reports as one line, `ase: <message>`, with this exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export interface AdminClientOptions {
  host: string;
  port: number;
  /** The management API at a base URL (`http://host:port/admin` for one mounted under /admin); overrides host and port. */
  url?: URL | undefined;
  /** Sent as `x-ase-access-key`. */
  user: string;
  /** Sent as `x-ase-secret-key`. */
  password: string;
  /** The CLI command, sent as `x-ase-cli-command` so the audit log records it as a `cli` action. */
  command: string;
  timeoutMs?: number;
}

export interface AdminReply {
  status: number;
  body: Record<string, unknown>;
}

/** The management API over HTTP (node:http, one connection per call). */
export class AdminClient {
  constructor(private readonly o: AdminClientOptions) {}

  get where(): string {
    if (this.o.url) return `${this.o.url.origin}${this.prefix}`;
    return this.o.host.includes(':') ? `[${this.o.host}]:${this.o.port}` : `${this.o.host}:${this.o.port}`;
  }

  /** The path the API is mounted under, without a trailing slash (`/admin`), or ''. */
  private get prefix(): string {
    return this.o.url ? this.o.url.pathname.replace(/\/+$/, '') : '';
  }

  /** One call; a non-2xx answer becomes a CliError carrying the server's `status_message`. */
  async call(method: string, path: string, query: Record<string, string> = {}, body?: unknown, source?: string): Promise<Record<string, unknown>> {
    const reply = await this.request(method, path, query, body);
    if (reply.status < 200 || reply.status > 299) {
      const msg = reply.body['status_message'];
      throw new CliError(typeof msg === 'string' ? inUserWords(msg, source) : `the management API answered HTTP ${reply.status}`);
    }
    return reply.body;
  }

  async request(method: string, path: string, query: Record<string, string> = {}, body?: unknown): Promise<AdminReply> {
    const { status, text } = await this.send(method, path, query, body, 'application/json');
    return { status, body: this.json(status, text) };
  }

  /**
   * A GET of a text endpoint (`/metrics`); a non-2xx answer becomes a CliError carrying the
   * server's `status_message`, as `call` does.
   */
  async text(path: string): Promise<string> {
    const { status, text } = await this.send('GET', path, {}, undefined, 'text/plain');
    if (status >= 200 && status <= 299) return text;
    let msg: unknown;
    try {
      msg = (JSON.parse(text) as Record<string, unknown>)['status_message'];
    } catch {
      msg = undefined;
    }
    throw new CliError(typeof msg === 'string' ? msg : `the management API answered HTTP ${status}`);
  }

  private json(status: number, text: string): Record<string, unknown> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new CliError(`unexpected answer from the management API at ${this.where} (HTTP ${status}, not JSON)`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new CliError(`unexpected answer from the management API at ${this.where} (HTTP ${status})`);
    }
    return parsed as Record<string, unknown>;
  }

  private send(method: string, path: string, query: Record<string, string>, body: unknown, accept: string): Promise<{ status: number; text: string }> {
    const qs = new URLSearchParams(query).toString();
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = {
      accept,
      'x-ase-access-key': this.o.user,
      'x-ase-secret-key': this.o.password,
      'x-ase-cli-command': this.o.command,
    };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    return new Promise((resolve, reject) => {
      const u = this.o.url;
      const target = `${this.prefix}${path}${qs ? `?${qs}` : ''}`;
      const where = u
        ? { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: u.port || (u.protocol === 'https:' ? 443 : 80) }
        : { host: this.o.host, port: this.o.port };
      const req = (u?.protocol === 'https:' ? https : http).request(
        { ...where, method, path: target, headers, agent: false, timeout: this.o.timeoutMs ?? 30_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => reject(this.networkError(err)));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => reject(this.networkError(err)));
      req.end(payload);
    });
  }

  private networkError(err: Error): CliError {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNREFUSED') return new CliError(`cannot reach the management API at ${this.where}: is ase running?`);
    return new CliError(`cannot reach the management API at ${this.where}: ${code ?? err.message}`);
  }
}

/**
 * A JSON pointer of a body the CLI built (or of an API file) in the words the user typed:
 * `/flow_control/client_spike_threshold` → `client_spike_threshold`, `/api_metadata/servers/0/port`
 * → `servers[0].port`. The outer object (`api_metadata`, `flow_control`, `server`) is dropped: the
 * command or the file already says which one it is.
 */
export function pointerInWords(pointer: string): string {
  const parts = pointer.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (parts.length > 1) parts.shift();
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** The management API's `request body: /a/b: problem` lines, as `SOURCE: b: problem` (or `b: problem`). */
export function inUserWords(message: string, source?: string): string {
  return message.replace(/^request body: (\/[^\s:]*): /gm, (_, pointer: string) => `${source ? `${source}: ` : ''}${pointerInWords(pointer)}: `);
}
