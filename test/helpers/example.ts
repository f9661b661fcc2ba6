import * as fs from 'node:fs';
import * as path from 'node:path';
import { type RunningCli, runNode } from './cli';

export interface RunningExample {
  port: number;
  proc: RunningCli;
  /** SIGTERM, then resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts `examples/<name>` as its `start` script does after the build (`node dist/server.js`), on
 * port 0, and waits for its "listening on http://127.0.0.1:<port>" line.
 */
export async function startExample(name: string): Promise<RunningExample> {
  const dir = path.resolve(__dirname, '..', '..', 'examples', name);
  const script = path.join(dir, 'dist', 'server.js');
  if (!fs.existsSync(script)) throw new Error(`${script} is missing: build first (npx pnpm run build)`);
  const proc = runNode(script, [], { cwd: dir, env: { PORT: '0' } });
  try {
    const m = await proc.waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
    return {
      port: Number(m[1]),
      proc,
      stop: () => {
        proc.child.kill('SIGTERM');
        return proc.exited;
      },
    };
  } catch (err) {
    proc.child.kill('SIGKILL');
    throw err;
  }
}
