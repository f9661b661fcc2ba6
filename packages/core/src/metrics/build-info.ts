import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Registry } from 'prom-client';
import { promClient } from './prom';

/** The running @ase/core version: package.json sits two levels up from both src/metrics and dist/metrics. */
function coreVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

let version: string | undefined;

/** `ase_info{version} 1`, the usual build-info gauge: dashboards join on it to tell versions apart. */
export function buildInfo(registry: Registry): void {
  const gauge = new (promClient().Gauge)({ name: 'ase_info', help: 'The running ASE version (always 1).', labelNames: ['version'], registers: [registry] });
  gauge.set({ version: (version ??= coreVersion()) }, 1);
}
