import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { acceptsConnections } from './http';

export interface ProxyProcess {
  /** What the process wrote to stdout and stderr. */
  output(): string;
  /** Ends the process and removes its temp folder. */
  stop(): Promise<void>;
}

/**
 * A proxy of our own (nginx, haproxy) run in the foreground from `bin` with `args`, so stop() can
 * end it by its pid; `dir` (its configuration and files) is removed when it stops. Resolves once
 * it accepts connections on `port`; otherwise stops it and throws with what it wrote and
 * `diagnostics()` (an error log kept elsewhere).
 */
export async function spawnProxy(name: string, bin: string, args: string[], dir: string, port: number, diagnostics: () => string = () => ''): Promise<ProxyProcess> {
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await acceptsConnections(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`${name} did not start: ${out}${diagnostics()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { output: () => out, stop };
}
