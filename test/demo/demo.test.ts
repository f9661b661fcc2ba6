import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runNode } from '../helpers/cli';
import { DEMO_READY, DEMO_SCRIPT, demoSetup } from '../helpers/demo';
import { request } from '../helpers/http';

const ROOT = path.resolve(__dirname, '..', '..');
const PNPM = path.join(ROOT, 'node_modules', 'pnpm', 'bin', 'pnpm.cjs');
const KEYS = { 'x-ase-access-key': 'admin', 'x-ase-secret-key': 'admin' };

describe('the standalone demo', () => {
  it('serves the management API beside the gateway, and SIGINT ends it with exit code 0', async () => {
    const setup = await demoSetup();
    const demo = runNode(DEMO_SCRIPT, setup.args, { cwd: setup.root });
    try {
      await demo.waitFor(DEMO_READY, 15000);
      expect(demo.stdout()).toContain(`Management API on http://127.0.0.1:${setup.ports.admin}`);
      const apis = await request(setup.ports.admin, { path: '/v4/ase/api', headers: KEYS });
      expect(apis.status).toBe(200);
      expect(apis.body).toContain('shop');
      const proxied = await request(setup.ports.gateway, { path: '/shop/items' });
      expect(proxied.status).toBe(200);
      expect(proxied.body).toContain(`backend-${setup.ports.backendA}`);
    } finally {
      demo.child.kill('SIGINT');
    }
    expect(await demo.exited).toBe(0);
    expect(demo.stderr()).toBe('');
  });

  it('the README`s run command, stopped with Ctrl-C (SIGINT to its process group), exits 0 with no package-manager error line', async () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const line = /^npx --yes pnpm@[\d.]+ install --frozen-lockfile && (.*node examples\/standalone\/demo\.js)$/m.exec(readme);
    expect(line).not.toBeNull();
    // Without the install step (the suite runs on an installed tree), on free ports and a copy of the config.
    const command = `${line![1]} ${shellWords((await demoSetup()).args)}`;
    const child = spawn('bash', ['-c', command], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`demo not ready: ${out}`)), 40000);
        child.stdout.on('data', () => {
          if (DEMO_READY.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.on('exit', () => {
          clearTimeout(timer);
          reject(new Error(`the command exited early: ${out}`));
        });
      });
    } finally {
      process.kill(-child.pid!, 'SIGINT');
    }
    expect(await exited).toBe(0);
    expect(out).not.toMatch(/ELIFECYCLE|Command failed|npm error/);
  }, 60000);

  it('`pnpm run demo` stopped with Ctrl-C (SIGINT to its process group) exits 0 with no ELIFECYCLE line', async () => {
    const setup = await demoSetup();
    // detached: its own process group, as a terminal's foreground job is; Ctrl-C signals every member.
    const child = spawn(process.execPath, [PNPM, 'run', 'demo', ...setup.args], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`demo not ready: ${out}`)), 40000);
        const check = (): void => {
          if (DEMO_READY.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout.on('data', check);
        child.on('exit', () => {
          clearTimeout(timer);
          reject(new Error(`pnpm exited early: ${out}`));
        });
      });
    } finally {
      process.kill(-child.pid!, 'SIGINT');
    }
    expect(await exited).toBe(0);
    expect(out).not.toMatch(/ELIFECYCLE|Command failed/);
  }, 60000);
});

/** The demo's arguments as one shell word list (paths of the temporary config are plain). */
function shellWords(args: readonly string[]): string {
  return args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
}
