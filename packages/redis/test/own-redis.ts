import { type ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';
import { Redis } from 'ioredis';

/** A port nothing listens on (bound then released). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
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
    return new OwnRedis(await freePort());
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    this.child = child;
    const failed = new Promise<never>((_, reject) =>
      child.once('error', (err) => reject(new Error(`these tests start their own redis-server and could not (${err.message}); install Redis 6.2 or newer`))),
    );
    const probe = new Redis(this.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0, disconnectTimeout: 100 });
    probe.on('error', () => {});
    const deadline = Date.now() + 5000;
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
