/** The throttle as the admin handler applies it, with client addresses no single test machine has. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEnforcer, silentLogger } from '@ase/core';
import { createAdmin } from '../src';

async function withAdmin(fn: (ask: (ip: string, secret?: string) => Promise<number>) => Promise<void>): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ase-admin-'));
  const enforcer = createEnforcer({ configDir: dir, logger: silentLogger });
  const admin = createAdmin(enforcer, { auditFile: false });
  try {
    await fn(async (ip, secret = 'admin') => {
      const r = await admin.handle({ method: 'GET', url: '/v4/ase/firewall', headers: { 'x-ase-access-key': 'admin', 'x-ase-secret-key': secret }, ip });
      return r.status;
    });
  } finally {
    await admin.close();
    await enforcer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('the admin handler throttles per client', () => {
  test('an IPv6 client rotating addresses inside its /64 is throttled as one client', async () => {
    await withAdmin(async (ask) => {
      for (let i = 1; i <= 5; i++) expect(await ask(`2001:db8:1:2::${i}`, 'wrong')).toBe(403);
      expect(await ask('2001:db8:1:2::abcd')).toBe(429);
      expect(await ask('2001:db8:1:3::1')).toBe(200);
    });
  });

  test('a remote lockout leaves the loopback budget whole, and the loopback budget is shared by all of 127/8 and ::1', async () => {
    await withAdmin(async (ask) => {
      for (let i = 0; i < 5; i++) expect(await ask('203.0.113.9', 'wrong')).toBe(403);
      expect(await ask('203.0.113.9')).toBe(429);
      expect(await ask('127.0.0.1')).toBe(200);
      for (let i = 0; i < 5; i++) expect(await ask(i % 2 ? '::1' : `127.0.${i}.9`, 'wrong')).toBe(403);
      expect(await ask('::ffff:127.0.0.1')).toBe(429);
    });
  });
});
