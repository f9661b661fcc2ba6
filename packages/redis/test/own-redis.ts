import { type ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';
import { Redis } from 'ioredis';

/**
 * A free port below the kernel's ephemeral range (32768 and up on Linux). The server on it is stopped
 * and started again: a port from listen(0) is an ephemeral one, which another test's listen(0) or
 * outgoing connection may take while the server is down, and the restart then cannot bind it.
 */
async function restartablePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const s = net.createServer();
    const bound = await new Promise<boolean>((r) => {
      s.once('error', () => r(false));
      s.listen(port, '127.0.0.1', () => r(true));
    });
    if (!bound) continue;
    await new Promise<void>((r) => s.close(() => r()));
    return port;
  }
}

/**
 * A redis-server of the test's own, on a free port and without persistence, that the test may stop
 * and start again (it comes back empty). Never the shared one: other tests use that.
 */
export class OwnRedis {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const r = await OwnRedis.notStarted();
    await r.start();
    return r;
  }

  /** One on a free port, not started yet: a Redis that is down when its clients start. */
  static async notStarted(): Promise<OwnRedis> {
    return new OwnRedis(await restartablePort());
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    this.child = child;
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(new Error(`these tests start their own redis-server and could not (${err.message}); install Redis 6.2 or newer`)));
      // Exited at once: most likely the port is taken; say so rather than time out on "Connection is closed".
      child.once('exit', (code, signal) => reject(new Error(`redis-server on port ${this.port} exited (${signal ?? `code ${code}`}) before it answered`)));
    });
    failed.catch(() => undefined);
    const probe = new Redis(this.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, disconnectTimeout: 100 });
    probe.on('error', () => {});
    // A loaded CI machine may take seconds to start a process.
    const deadline = Date.now() + 15_000;
    try {
      for (;;) {
        try {
          await Promise.race([probe.connect().then(() => probe.ping()), failed]);
          return;
        } catch (err) {
          if (Date.now() > deadline || (err as Error).message.includes('redis-server')) throw err;
          probe.disconnect();
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    } finally {
      probe.disconnect();
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((r) => {
      child.once('exit', () => r());
      child.kill('SIGKILL');
    });
  }
}
