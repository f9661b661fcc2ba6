import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from './config';
import { freePort } from './http';
import { spawnProxy } from './proxy-process';

/** The haproxy binary (Debian's `haproxy` package is built with Lua), or undefined when none is installed. */
export const HAPROXY_BIN = ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy', '/usr/bin/haproxy'].find((p) => fs.existsSync(p));

export interface RunningHaproxy {
  port: number;
  /** What haproxy wrote (its alerts and warnings go to stderr in the foreground). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Our own haproxy, never the system's service: the configuration in a fresh temp folder, in the
 * foreground (`-db`) so stop() can end it by its pid. `config(port)` is the whole configuration,
 * with a frontend bound to 127.0.0.1:port.
 */
export async function startHaproxy(config: (port: number) => string): Promise<RunningHaproxy> {
  if (!HAPROXY_BIN) throw new Error('haproxy is not installed');
  const dir = tempDir('ase-haproxy-');
  const port = await freePort();
  const file = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(file, config(port));
  const proc = await spawnProxy('haproxy', HAPROXY_BIN, ['-f', file, '-db'], dir, port);
  return { port, ...proc };
}
