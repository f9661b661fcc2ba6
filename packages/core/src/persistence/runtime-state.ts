import { promises as fsp, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { stateFileUnusable } from '../errors';

/**
 * Switches changed at run time over the management API or the CLI (`enable_firewall`,
 * `enable_ase_detected_attack`), kept in `<configDir>/data/runtime.json` so that they survive a
 * restart. A key present there overrides the same key of `ase.conf`.
 */
export interface RuntimeState {
  enable_firewall?: boolean;
  enable_ase_detected_attack?: boolean;
}

export function readRuntimeState(file: string): RuntimeState {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw stateFileUnusable(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); fix or remove it`, err);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw stateFileUnusable(`${file}: is not valid JSON; fix or remove it`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw stateFileUnusable(`${file}: must be a JSON object; fix or remove it`);
  const r = raw as Record<string, unknown>;
  const out: RuntimeState = {};
  for (const key of ['enable_firewall', 'enable_ase_detected_attack'] as const) {
    const v = r[key];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw stateFileUnusable(`${file}: ${key} must be true or false; fix or remove it`);
    out[key] = v;
  }
  return out;
}

export function serializeRuntimeState(s: RuntimeState): string {
  return `${JSON.stringify({ version: 1, ...s }, null, 1)}\n`;
}

/** Removes a file (absent is fine) and syncs its directory, so the removal survives a crash. */
export async function removeFileDurable(file: string): Promise<void> {
  await fsp.rm(file, { force: true });
  try {
    const dh = await fsp.open(path.dirname(file), 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    // Some platforms cannot fsync a directory; the unlink itself has happened.
  }
}
