import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { ASE_CONF_KEYS, REFERENCE_ONLY_KEYS, normaliseAseConf } from '../../packages/core/src/config/ase-conf';
import { ASE_CONF_DEFAULTS, AseConfigError, type AseConf, createEnforcer, loadConfigDir, silentLogger } from '@ase/core';
import { configDir } from '../helpers/config';
import { SEED, hostileString, prototypeSnapshot, prototypeUntouched } from './hostile';

/*
 * Generated hostile `ase.conf` files: every key with good and hostile values, unknown and
 * reference-only keys, duplicates, comments, lines without `=`, CRLF, a BOM, invalid UTF-8 and
 * truncation. Loaded the way `ase start` loads them, then given to createEnforcer: either the
 * configuration is complete and typed (and reads back through the code form unchanged) and the
 * enforcer starts, or an AseConfigError names the file and, for each problem, the line and key as
 * they are in the file. Never another exception, never slowly, never Object.prototype.
 */

const MAX_MS = 3_000;

/** Values each key accepts, so that some generated files load. */
const GOOD: Partial<Record<keyof AseConf, readonly string[]>> = {
  http_ws_port: ['8080', '1', '65535'],
  https_wss_port: ['8443'],
  management_port: ['8010'],
  http_ws_bind: ['*', '0.0.0.0', '::', 'localhost'],
  management_bind: ['127.0.0.1', '::1', 'localhost'],
  management_allowed_hosts: ['', '*', 'admin.example, 10.0.0.5, ::1'],
  enable_firewall: ['true', 'FALSE'],
  enable_xff: ['true', 'false'],
  xff_trusted_proxies: ['', '127.0.0.1, 10.0.0.0/8, ::1'],
  admin_log_level: ['1', '5'],
  attack_list_memory: ['128mb', '1 KB', '1gb'],
  attack_list_shares: ['50,20,30', ' 98 , 1 , 1 '],
  ip_rotation_threshold: ['0', '100'],
  ip_rotation_window: ['10m', '1000', '24d'],
  ipv6_client_prefix: ['1', '64', '128'],
  honeytokens_max: ['1', '10000', '1000000'],
  server_ca_cert_path: ['', '/nonexistent/ca.pem', '<this file>'],
  cluster_id: ['c1', 'a/b.c-d_e'],
  redis_url: ['', 'redis://localhost:6379', 'rediss://u:p@h:6380/0'],
  cluster_heartbeat: ['100', '5s'],
  cluster_counters_on_failure: ['open', 'CLOSED'],
  queue_max_size: ['0', '1000000'],
  queue_max_wait: ['0', '10s'],
  backend_timeout: ['1', '60s'],
  server_down_time: ['0', '1m'],
};

const KEYS = ASE_CONF_KEYS as readonly (keyof AseConf)[];
const oneLine = hostileString.map((s) => s.replace(/[\r\n]/g, ' '));
const value = (key: keyof AseConf): fc.Arbitrary<string> => (GOOD[key] ? fc.oneof(fc.constantFrom(...GOOD[key]!), oneLine) : oneLine);

const line: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...KEYS).chain((k) => value(k).map((v) => `${k}=${v}`)) },
  fc.constantFrom(...KEYS).chain((k) => fc.tuple(value(k), fc.constantFrom(' ', '\t', '  ')).map(([v, ws]) => `${ws}${k}${ws}=${ws}${v}${ws};comment`)),
  fc.tuple(fc.constantFrom(...REFERENCE_ONLY_KEYS), oneLine).map(([k, v]) => `${k}=${v}`),
  fc.tuple(oneLine, oneLine).map(([k, v]) => `${k}=${v}`),
  fc.constantFrom('__proto__=1', 'constructor=x', 'prototype=', '=value', '; a comment', '# another', '', '   ', 'no equals sign', '\ufeffhttp_ws_port=1'),
);

/** `a` one time in ten, else undefined. */
function rarely<T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: a });
}

/** A file of good lines (each key once) with a few hostile ones among them. */
const lines: fc.Arbitrary<string[]> = fc
  .tuple(
    fc.uniqueArray(fc.constantFrom(...(Object.keys(GOOD) as (keyof AseConf)[])), { maxLength: 12 }).chain((keys) => fc.tuple(...keys.map((k) => fc.constantFrom(...GOOD[k]!).map((v) => `${k}=${v}`)))),
    fc.array(fc.tuple(fc.nat(), line), { maxLength: 4 }),
  )
  .map(([good, hostile]) => {
    const out = [...good];
    for (const [at, l] of hostile) out.splice(at % (out.length + 1), 0, l);
    return out;
  });

const confText = fc.record({
  lines,
  eol: fc.constantFrom('\n', '\r\n', '\r'),
  bom: fc.boolean(),
  cut: rarely(fc.nat()),
  badBytes: rarely(fc.tuple(fc.nat(), fc.constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82]))),
});

function bytesOf(c: typeof confText extends fc.Arbitrary<infer T> ? T : never, file: string): Buffer {
  let b = Buffer.from(`${c.bom ? '\ufeff' : ''}${c.lines.join(c.eol).replace('<this file>', file)}`);
  if (c.cut !== undefined) b = b.subarray(0, c.cut % (b.length + 1));
  if (c.badBytes) {
    const at = c.badBytes[0] % (b.length + 1);
    b = Buffer.concat([b.subarray(0, at), Buffer.from(c.badBytes[1]), b.subarray(at)]);
  }
  return b;
}

/** `line N: key` names the key as it is on line N of the file; `line N` a line with no key. */
function namesItsLine(problemPath: string, fileLines: readonly string[]): boolean {
  if (problemPath === '' || problemPath === 'server_ca_cert_path') return true;
  const m = /^line (\d+)(?:: ([^]*))?$/.exec(problemPath);
  if (!m) return false;
  const text = fileLines[Number(m[1]) - 1];
  if (text === undefined) return false;
  const eq = text.indexOf('=');
  if (m[2] === undefined) return eq < 0 || text.slice(0, eq).trim() === '';
  const key = text.slice(0, eq).trim();
  return m[2] === key || (m[2].endsWith('...') && key.startsWith(m[2].slice(0, -3)));
}

describe('generated hostile ase.conf files', () => {
  let dir: string;
  beforeEach(() => {
    dir = configDir();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('load completely and start, or fail naming the file, the line and the key', async () => {
    const file = path.join(dir, 'ase.conf');
    const before = prototypeSnapshot();
    await fc.assert(
      fc.asyncProperty(confText, async (c) => {
        const bytes = bytesOf(c, file);
        fs.writeFileSync(file, bytes);
        const started = performance.now();
        let error: unknown;
        let conf: AseConf | undefined;
        try {
          conf = loadConfigDir(dir).conf;
          await createEnforcer({ configDir: dir, logger: silentLogger }).close();
        } catch (err) {
          error = err;
        }
        expect(performance.now() - started).toBeLessThan(MAX_MS);
        expect(prototypeUntouched(before)).toBe(true);
        if (error === undefined) {
          expect(Object.keys(conf!).sort()).toEqual(Object.keys(ASE_CONF_DEFAULTS).sort());
          for (const k of KEYS) expect(typeof conf![k]).toBe(typeof ASE_CONF_DEFAULTS[k]);
          // The typed form reads back unchanged through the code form.
          expect(normaliseAseConf(conf!)).toEqual(conf);
          return;
        }
        if (!(error instanceof AseConfigError)) throw error;
        expect(error.problems.length).toBeGreaterThan(0);
        expect(error.problems.length).toBeLessThanOrEqual(51 + KEYS.length);
        expect(error.message.length).toBeLessThan(64 * 1024);
        const fileLines = new TextDecoder().decode(bytes).replace(/^\ufeff/, '').split(/\r\n|\n|\r/);
        for (const p of error.problems) {
          expect(p.file).toBe(file);
          if (!namesItsLine(p.path, fileLines)) throw new Error(`problem at "${p.path}" does not name its line and key:\n${error.message.slice(0, 2_000)}`);
        }
      }),
      { seed: SEED, numRuns: 150, endOnFailure: true },
    );
  }, 60_000);
});
