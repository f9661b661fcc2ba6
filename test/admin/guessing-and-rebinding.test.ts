/**
 * The management plane under parallel guessing and DNS rebinding, over real listeners: the
 * standalone management listener and the Express, Koa and Fastify mounts.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { createEnforcer, silentLogger } from '@ase/core';
import { type AdminApi, adminExpress, adminFastify, adminKoa, createAdmin, startAdminServer } from '@ase/admin';
import { configDir } from '../helpers/config';
import { MOUNTS, type Served, serveAdmin } from './harness';

const [standalone] = MOUNTS as [(typeof MOUNTS)[number]];

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  json: unknown;
}

interface Ask {
  secret?: string;
  /** The Host header sent (Node's default `127.0.0.1:<port>` when undefined). */
  host?: string;
  /** Address the client socket binds to. */
  localAddress?: string;
  /** Address connected to (127.0.0.1 by default). */
  to?: string;
}

/** One management call with the admin keys, over a fresh connection. */
function ask(port: number, path: string, o: Ask = {}): Promise<Reply> {
  const headers: Record<string, string> = { 'x-ase-access-key': 'admin', 'x-ase-secret-key': o.secret ?? 'admin' };
  if (o.host !== undefined) headers['host'] = o.host;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: o.to ?? '127.0.0.1', port, path, headers, agent: false, ...(o.localAddress ? { localAddress: o.localAddress } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = text;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Writes `head` byte for byte (HTTP/1.0 without Host, two Host lines) and returns the status. */
function rawStatus(port: number, head: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(head));
    let got = '';
    sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
    sock.on('end', () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(got)?.[1] ?? 0)));
    sock.on('error', reject);
  });
}

/** Counts the secret comparisons the admin API really makes. */
function countComparisons(s: { enforcer: { adminCredentials: { verify(a: string, b: string): Promise<boolean> } } }): { n: number } {
  const creds = s.enforcer.adminCredentials;
  const original = creds.verify.bind(creds);
  const counter = { n: 0 };
  creds.verify = async (a: string, b: string) => {
    counter.n++;
    return original(a, b);
  };
  return counter;
}

async function with_(s: Served, fn: (s: Served) => Promise<void>): Promise<void> {
  try {
    await fn(s);
  } finally {
    await s.close();
    fs.rmSync(s.dir, { recursive: true, force: true });
  }
}

function tally(replies: Reply[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const r of replies) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

const REFUSED = { status: 'fail', status_message: 'host not allowed: the management API answers only to its own names and addresses (management_allowed_hosts)' };

describe('parallel guessing is throttled like sequential guessing', () => {
  test.each(MOUNTS.map((m) => [m.name, m] as const))(
    '%s: 50 parallel wrong secrets get 5 comparisons (403) and 45 refusals (429); the right secret is then throttled too',
    async (_name, mount) => {
      await with_(await serveAdmin(mount), async (s) => {
        const compared = countComparisons(s);
        const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => ask(s.port, '/v4/ase/firewall', { secret: `guess-${i}` })));
        expect(tally(replies)).toEqual({ 403: 5, 429: 45 });
        expect(compared.n).toBe(5);
        const right = await ask(s.port, '/v4/ase/firewall');
        expect(right.status).toBe(429);
        expect(right.headers['retry-after']).toMatch(/^(59|60)$/);
        expect(compared.n).toBe(5);
      });
    },
  );

  test('an admin tool sending 30 calls at once with the right secret is not throttled', async () => {
    await with_(await serveAdmin(standalone), async (s) => {
      expect((await ask(s.port, '/v4/ase/firewall')).status).toBe(200);
      const replies = await Promise.all(Array.from({ length: 30 }, () => ask(s.port, '/v4/ase/firewall')));
      expect(tally(replies)).toEqual({ 200: 30 });
    });
  });

  test('a right secret among parallel guesses still gets in, and clears the count for the next caller', async () => {
    await with_(await serveAdmin(standalone, { admin: { throttle: { maxFailures: 3, windowMs: 60_000, lockoutMs: 60_000 } } }), async (s) => {
      const first = await Promise.all([ask(s.port, '/v4/ase/firewall', { secret: 'x' }), ask(s.port, '/v4/ase/firewall')]);
      expect(first.map((r) => r.status).sort()).toEqual([200, 403]);
      const next = await Promise.all([ask(s.port, '/v4/ase/firewall', { secret: 'y1' }), ask(s.port, '/v4/ase/firewall', { secret: 'y2' })]);
      expect(next.map((r) => r.status)).toEqual([403, 403]);
      expect((await ask(s.port, '/v4/ase/firewall')).status).toBe(200);
    });
  });
});

describe('the loopback budget: every loopback address is one client, apart from remote ones', () => {
  test('wrong secrets from 127.0.0.2, 127.0.0.3, ... share one budget: rotating loopback addresses does not buy guesses', async () => {
    await with_(await serveAdmin(standalone), async (s) => {
      // The listener is on 127.0.0.1; the client binds to other 127/8 addresses (all loopback on Linux).
      for (let i = 2; i <= 6; i++) expect((await ask(s.port, '/v4/ase/firewall', { secret: 'no', localAddress: `127.0.0.${i}` })).status).toBe(403);
      expect((await ask(s.port, '/v4/ase/firewall', { localAddress: '127.0.0.7' })).status).toBe(429);
      expect((await ask(s.port, '/v4/ase/firewall')).status).toBe(429);
    });
  });
  // A remote address's lockout leaving the local CLI alone (and the reverse) needs a non-loopback
  // source, and tests send traffic to loopback only: packages/admin/test/throttle-by-client.test.ts
  // shows it through the handler with given addresses.
});

describe('DNS rebinding: the standalone listener answers only to its own names', () => {
  test('Host: evil.example is refused with 421 even with the right keys; 127.0.0.1:PORT, localhost:PORT, [::1]:PORT work', async () => {
    await with_(await serveAdmin(standalone), async (s) => {
      for (const host of ['evil.example', `evil.example:${s.port}`, 'localhost.evil.example', '127.0.0.1.nip.io', `[::2]:${s.port}`]) {
        const r = await ask(s.port, '/v4/ase/firewall', { host });
        expect([host, r.status, r.json]).toEqual([host, 421, REFUSED]);
      }
      expect(s.enforcer.firewallEnabled).toBe(true);
      for (const host of [`127.0.0.1:${s.port}`, `localhost:${s.port}`, `[::1]:${s.port}`, 'LOCALHOST', 'localhost.', '127.0.0.1']) {
        const r = await ask(s.port, '/v4/ase/firewall', { host });
        expect([host, r.status]).toEqual([host, 200]);
      }
      expect(s.audit.filter((l) => /result=421$/.test(l))).toHaveLength(5);
    });
  });

  test('a refused Host is not a password oracle: no comparison is made and the throttle is not charged', async () => {
    await with_(await serveAdmin(standalone), async (s) => {
      const compared = countComparisons(s);
      for (const secret of ['admin', 'wrong1', 'wrong2', 'wrong3', 'wrong4', 'wrong5', 'wrong6']) {
        const r = await ask(s.port, '/v4/ase/firewall', { host: 'evil.example', secret });
        expect([r.status, r.json]).toEqual([421, REFUSED]);
      }
      expect(compared.n).toBe(0);
      expect((await ask(s.port, '/v4/ase/firewall')).status).toBe(200);
    });
  });

  test('no Host, or two Host lines, are refused too', async () => {
    await with_(await serveAdmin(standalone), async (s) => {
      const keys = 'x-ase-access-key: admin\r\nx-ase-secret-key: admin\r\nconnection: close\r\n';
      expect(await rawStatus(s.port, `GET /v4/ase/firewall HTTP/1.0\r\n${keys}\r\n`)).toBe(421);
      expect(await rawStatus(s.port, `GET /v4/ase/firewall HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n${keys}\r\n`)).toBe(421);
      expect(await rawStatus(s.port, `GET /v4/ase/firewall HTTP/1.1\r\nHost: localhost\r\n${keys}\r\n`)).toBe(200);
    });
  });

  test('management_allowed_hosts adds names; "*" switches the check off', async () => {
    await with_(await serveAdmin(standalone, { conf: 'management_allowed_hosts=admin.internal, 10.1.2.3\n' }), async (s) => {
      expect((await ask(s.port, '/v4/ase/firewall', { host: `Admin.Internal:${s.port}` })).status).toBe(200);
      expect((await ask(s.port, '/v4/ase/firewall', { host: '10.1.2.3' })).status).toBe(200);
      expect((await ask(s.port, '/v4/ase/firewall', { host: `localhost:${s.port}` })).status).toBe(200);
      expect((await ask(s.port, '/v4/ase/firewall', { host: 'evil.example' })).status).toBe(421);
    });
    await with_(await serveAdmin(standalone, { conf: 'management_allowed_hosts=*\n' }), async (s) => {
      expect((await ask(s.port, '/v4/ase/firewall', { host: 'evil.example' })).status).toBe(200);
    });
  });
});

describe('DNS rebinding: the framework mounts check Host when given allowedHosts', () => {
  test.each(MOUNTS.slice(1).map((m) => [m.name, m] as const))('%s: off by default (the app owns its Host routing)', async (_name, mount) => {
    await with_(await serveAdmin(mount), async (s) => {
      expect((await ask(s.port, '/v4/ase/firewall', { host: 'api.example.com' })).status).toBe(200);
    });
  });

  type Build = (admin: AdminApi, allowedHosts: string[]) => Promise<{ port: number; close(): Promise<void> }>;
  const listen = async (server: http.Server): Promise<{ port: number; close(): Promise<void> }> => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return {
      port: (server.address() as AddressInfo).port,
      close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
    };
  };
  const builds: [string, Build][] = [
    ['Express router', async (admin, allowedHosts) => listen(http.createServer(express().use(adminExpress(admin, { allowedHosts }))))],
    ['Koa middleware', async (admin, allowedHosts) => listen(http.createServer(new Koa().use(adminKoa(admin, { allowedHosts })).callback()))],
    [
      'Fastify plugin',
      async (admin, allowedHosts) => {
        const app = Fastify();
        await app.register(adminFastify, { admin, allowedHosts });
        await app.listen({ port: 0, host: '127.0.0.1' });
        return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
      },
    ],
  ];

  test.each(builds)('%s: allowedHosts refuses other Hosts with 421 before authentication', async (_name, build) => {
    const dir = configDir();
    const enforcer = createEnforcer({ configDir: dir, logger: silentLogger });
    const admin = createAdmin(enforcer, { auditFile: false });
    const compared = countComparisons({ enforcer });
    const srv = await build(admin, ['api.example.com']);
    try {
      expect((await ask(srv.port, '/v4/ase/firewall', { host: 'api.example.com' })).status).toBe(200);
      expect((await ask(srv.port, '/v4/ase/firewall', { host: `API.example.com:${srv.port}` })).status).toBe(200);
      const before = compared.n;
      const r = await ask(srv.port, '/v4/ase/firewall', { host: 'evil.example' });
      expect([r.status, r.json]).toEqual([421, REFUSED]);
      expect(compared.n).toBe(before);
      expect((await ask(srv.port, '/v4/ase/firewall', { host: `127.0.0.1:${srv.port}` })).status).toBe(421);
    } finally {
      await srv.close();
      await admin.close();
      await enforcer.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each(MOUNTS.map((m) => [m.name, m] as const))('%s: createAdmin(enforcer, { allowedHosts }) applies on every mount', async (_name, mount) => {
    await with_(await serveAdmin(mount, { admin: { allowedHosts: ['admin.example'] } }), async (s) => {
      expect((await ask(s.port, '/v4/ase/firewall', { host: 'admin.example' })).status).toBe(200);
      expect((await ask(s.port, '/v4/ase/firewall', { host: 'evil.example' })).status).toBe(421);
    });
  });
});
