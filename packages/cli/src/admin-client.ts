import * as http from 'node:http';

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
    return this.o.host.includes(':') ? `[${this.o.host}]:${this.o.port}` : `${this.o.host}:${this.o.port}`;
  }

  /** One call; a non-2xx answer becomes a CliError carrying the server's `status_message`. */
  async call(method: string, path: string, query: Record<string, string> = {}, body?: unknown): Promise<Record<string, unknown>> {
    const reply = await this.request(method, path, query, body);
    if (reply.status < 200 || reply.status > 299) {
      const msg = reply.body['status_message'];
      throw new CliError(typeof msg === 'string' ? msg : `the management API answered HTTP ${reply.status}`);
    }
    return reply.body;
  }

  request(method: string, path: string, query: Record<string, string> = {}, body?: unknown): Promise<AdminReply> {
    const qs = new URLSearchParams(query).toString();
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = {
      accept: 'application/json',
      'x-ase-access-key': this.o.user,
      'x-ase-secret-key': this.o.password,
      'x-ase-cli-command': this.o.command,
    };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    return new Promise((resolve, reject) => {
      const req = http.request(
        { host: this.o.host, port: this.o.port, method, path: qs ? `${path}?${qs}` : path, headers, agent: false, timeout: this.o.timeoutMs ?? 30_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => reject(this.networkError(err)));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              reject(new CliError(`unexpected answer from the management API at ${this.where} (HTTP ${res.statusCode ?? 0}, not JSON)`));
              return;
            }
            if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
              reject(new CliError(`unexpected answer from the management API at ${this.where} (HTTP ${res.statusCode ?? 0})`));
              return;
            }
            resolve({ status: res.statusCode ?? 0, body: parsed as Record<string, unknown> });
          });
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
