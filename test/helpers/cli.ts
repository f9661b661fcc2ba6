import { type ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';

export const ASE_BIN = path.resolve(__dirname, '..', '..', 'packages', 'cli', 'bin', 'ase.js');

export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Resolves when stdout or stderr matches, rejects on exit or after `ms`. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
}

/** Runs the built `ase` CLI (`pnpm test` builds before jest runs). */
export function runCli(args: string[], opts: { cwd?: string; via?: string[] } = {}): RunningCli {
  return runNode(ASE_BIN, args, opts);
}

/** Runs a Node script as a child process (stdout/stderr captured); `env` is added to this process's. */
export function runNode(script: string, args: string[] = [], opts: { cwd?: string; env?: Record<string, string>; via?: string[] } = {}): RunningCli {
  const env = opts.env ? { ...process.env, ...opts.env } : process.env;
  // `via`: a command that execs the rest (`prlimit --fsize=N --`, `setpriv ... --`), so the child keeps its pid.
  const [command, ...rest] = [...(opts.via ?? []), process.execPath, script, ...args];
  const child = spawn(command!, rest, { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  const poke = (): void => waiters.forEach((w) => w());
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    poke();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    poke();
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => {
    poke();
    r(code);
  }));
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (re, ms = 10000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const m = re.exec(out) ?? re.exec(err);
          if (m) return resolve(m);
          if (done) return reject(new Error(`ase exited before ${re}: stdout=${out} stderr=${err}`));
        };
        waiters.push(check);
        setTimeout(() => reject(new Error(`timeout waiting for ${re}: stdout=${out} stderr=${err}`)), ms).unref();
        check();
      }),
  };
}
