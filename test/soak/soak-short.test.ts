import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runNode } from '../helpers/cli';

const SOAK = path.resolve(__dirname, '..', '..', 'bench', 'soak.js');

interface Summary {
  ok: boolean;
  failures: string[];
  requests: number;
  sessions: number;
  flakyCycles: number;
  unexpected: number;
  gateways: { framework: string; base: { fds: number; handles: number }; idle: { fds: number; handles: number }; statuses: Record<string, Record<string, number>> }[];
}

/**
 * The soak's short form (bench/soak.js, docs/performance.md): an Express, a Koa and a Fastify
 * gateway, each in its own process, under the mixed traffic for 45 seconds. Every answer is one its
 * client class expects, descriptors and handles go back to their idle level, memory does not grow.
 */
describe('soak, short form', () => {
  test('three gateways under mixed traffic: only expected answers, nothing leaked, memory flat', async () => {
    const before = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('ase-soak-'));
    const run = runNode(SOAK, ['--seconds=45', '--sample=3', '--json']);
    const code = await run.exited;
    const lines = run.stdout().trim().split('\n');
    const summary = JSON.parse(lines.at(-1)!) as Summary;
    // The curve (the table before the summary line) and the soak's own log are shown when something fails.
    const curve = lines.slice(0, -1).join('\n');
    expect({ code, failures: summary.failures, curve, stderr: run.stderr().slice(-2000) }).toEqual({ code: 0, failures: [], curve: expect.any(String) as unknown, stderr: expect.any(String) as unknown });
    expect(summary.ok).toBe(true);
    expect(summary.unexpected).toBe(0);
    expect(summary.flakyCycles).toBeGreaterThan(0);
    expect(summary.requests).toBeGreaterThan(1000);
    expect(summary.sessions).toBeGreaterThan(30);
    expect(summary.gateways.map((g) => g.framework)).toEqual(['express', 'koa', 'fastify']);
    for (const g of summary.gateways) {
      expect(g.idle.fds).toBeLessThanOrEqual(g.base.fds);
      expect(g.idle.handles).toBeLessThanOrEqual(g.base.handles);
      expect(Object.keys(g.statuses).sort()).toEqual(['afterDecoy', 'blocked', 'decoy', 'flaky', 'legit', 'overLimit', 'underLimit', 'websocket']);
    }
    expect(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('ase-soak-'))).toEqual(before);
  }, 240_000);
});
