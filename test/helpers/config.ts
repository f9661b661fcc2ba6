import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ApiJsonInput } from '@ase/core';

/** A minimal API definition; `over` is merged into api_metadata. */
export function api(url: string, over: Partial<ApiJsonInput['api_metadata']> = {}): ApiJsonInput {
  return { api_metadata: { protocol: 'http', url, hostname: '*', ...over } };
}

/** An API definition that must fail validation: `over` may hold wrong types and unknown keys. */
export function invalidApi(url: string, over: Record<string, unknown>): { api_metadata: Record<string, unknown> } {
  return { api_metadata: { protocol: 'http', url, hostname: '*', ...over } };
}

export function servers(...ports: number[]): { host: string; port: number }[] {
  return ports.map((port) => ({ host: '127.0.0.1', port }));
}

/**
 * A fresh temporary directory inside the run's own folder (test/helpers/temp-root.js makes it before
 * the run and removes it after, whatever a test left running), so a run leaves nothing behind.
 */
export function tempDir(prefix = 'ase-test-'): string {
  return fs.mkdtempSync(path.join(process.env['ASE_TEST_TMP'] ?? os.tmpdir(), prefix));
}

/** Writes a config directory (ase.conf text and api/<id>.json files) in a fresh temp dir. */
export function configDir(opts: { conf?: string; apis?: Record<string, unknown>; rawApis?: Record<string, string> } = {}): string {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'api'));
  if (opts.conf !== undefined) fs.writeFileSync(path.join(dir, 'ase.conf'), opts.conf);
  for (const [id, json] of Object.entries(opts.apis ?? {})) {
    fs.writeFileSync(path.join(dir, 'api', `${id}.json`), JSON.stringify(json, null, 2));
  }
  for (const [id, text] of Object.entries(opts.rawApis ?? {})) {
    fs.writeFileSync(path.join(dir, 'api', `${id}.json`), text);
  }
  return dir;
}

/** An `api_pattern_enforcement` that allows everything (401 when it refuses), with `over` on top. */
export const pattern = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  protocol_allowed: '',
  http_redirect: { response_code: '', response_def: '', https_url: '' },
  methods_allowed: [],
  content_type_allowed: '',
  error_code: '401',
  error_def: 'Unauthorized',
  error_message_body: '401 Unauthorized',
  ...over,
});
