import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Enforcer, createEnforcer, silentLogger } from '@ase/core';
import { HARNESSES, type RunningApp } from '../conformance/harness';

/**
 * The verified-JWT cache is bounded (docs/security.md, "Every table a client can grow has a bound"):
 * a flood of distinct valid tokens through a real Koa app keeps it at 4 096, the oldest token goes
 * (it is verified again, asynchronously) and the newest stays (answered synchronously); a flood of
 * forged tokens never enters it.
 */

const CACHE_MAX = 4096;
const SECRET = 'bounded-cache-test-secret-'.padEnd(48, 'k');

function sign(sub: string, secret = SECRET): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc({ sub, exp: Math.floor(Date.now() / 1000) + 600 })}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

const koa = HARNESSES.find((h) => h.framework === 'koa')!;

describe('koa: a flood of distinct JWTs', () => {
  let dir: string;
  let enforcer: Enforcer;
  let app: RunningApp;
  let agent: http.Agent;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ase-bounded-jwt-'));
    const secretFile = path.join(dir, 'shop.secret');
    fs.writeFileSync(secretFile, SECRET);
    enforcer = createEnforcer({
      apis: {
        shop: {
          api_metadata: {
            url: '/shop',
            hostname: '*',
            jwt: { location: 'h:authorization:bearer', username: 'sub', clientid: '' },
            jwt_verification: { algorithms: ['HS256'], secret_file: secretFile },
          },
        },
      },
      logger: silentLogger,
    });
    app = await koa.start(enforcer);
    agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  });

  afterEach(async () => {
    agent.destroy();
    await app.close();
    await enforcer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const send = (token: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: app.port, path: '/shop/x', headers: { authorization: `Bearer ${token}` }, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });

  const cached = () => enforcer.stats().apis['shop']!.jwtCache!;

  /** Whether the enforcer answers this token at once (from the cache) rather than with a Promise. */
  async function answeredAtOnce(token: string): Promise<boolean> {
    const d = enforcer.decide({ method: 'GET', url: '/shop/x', headers: { host: 'a.example', authorization: `Bearer ${token}` }, remoteAddress: '192.0.2.9', encrypted: false });
    if (!(d instanceof Promise)) return true;
    await d;
    return false;
  }

  async function flood(tokens: string[]): Promise<number> {
    let peak = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < tokens.length) {
        const status = await send(tokens[next++]!);
        if (status !== 200) throw new Error(`answered ${status}`);
        peak = Math.max(peak, cached().size);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    return peak;
  }

  test(`${CACHE_MAX + 500} valid tokens keep the cache at ${CACHE_MAX}: the oldest is verified again, the newest answered at once; forged tokens never enter`, async () => {
    const valid = Array.from({ length: CACHE_MAX + 500 }, (_, i) => sign(`user-${i}`));
    expect(cached()).toEqual({ size: 0, max: CACHE_MAX });
    expect(await flood(valid)).toBe(CACHE_MAX);
    const forged = Array.from({ length: 500 }, (_, i) => sign(`user-${i}`, 'another-secret-of-the-same-length-'.padEnd(48, 'x')));
    expect(await flood(forged)).toBe(CACHE_MAX);

    // The newest valid tokens are cached, the oldest are not, and no forged token took a valid
    // one's place. Tokens verified side by side enter in the order they finish: a margin of 100.
    expect(await answeredAtOnce(valid.at(-1)!)).toBe(true);
    expect(await answeredAtOnce(valid[600]!)).toBe(true);
    expect(await answeredAtOnce(valid[400]!)).toBe(false);
  }, 60_000);
});
