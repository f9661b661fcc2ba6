import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createEnforcer } from '../../src/enforcer';
import type { Logger } from '../../src/types';

/**
 * A `data/lists.json` written before the lists had shares (or with other shares) may hold more
 * manual entries than the manual share allows now. Restarting must keep every one of them: the
 * operator's entries are never dropped because the budget was split after they were added.
 */
describe('loading lists.json whose manual entries exceed the manual share', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ase-restore-'));
    fs.mkdirSync(path.join(dir, 'data'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const warnings: string[] = [];
  const logger: Logger = { info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
  const ip = (i: number): string => `198.51.${100 + (i >> 8)}.${i & 255}`;

  test('keeps every manual and allow entry, evicts detections to make room, warns once, and refuses new manual entries with 507', async () => {
    // About 150 bytes per IPv4 entry: 6 KB holds ~40 entries, the manual share (50 %) ~20.
    const manual = Array.from({ length: 24 }, (_, i) => ({ type: 'ip', value: ip(i), tag: 'manual' }));
    const detected = Array.from({ length: 10 }, (_, i) => ({ type: 'ip', value: ip(100 + i), tag: 'invalid_method' }));
    const allow = Array.from({ length: 6 }, (_, i) => ({ type: 'ip', value: ip(200 + i), tag: 'manual' }));
    fs.writeFileSync(path.join(dir, 'data', 'lists.json'), JSON.stringify({ version: 1, blacklist: [...detected, ...manual], whitelist: allow }));
    warnings.length = 0;
    const enforcer = createEnforcer({ configDir: dir, conf: { attack_list_memory: 6144 }, logger });
    try {
      for (const e of manual) expect([e.value, enforcer.denyList.has('ip', e.value)]).toEqual([e.value, true]);
      for (const e of allow) expect([e.value, enforcer.allowList.has('ip', e.value)]).toEqual([e.value, true]);
      expect(enforcer.attackListMemory.used).toBeLessThanOrEqual(6144);
      expect(warnings.filter((w) => w.includes('skipped'))).toEqual([]);
      expect(warnings.filter((w) => w.includes('more than their share'))).toHaveLength(1);
      await expect(enforcer.addDeny({ type: 'ip', value: '203.0.113.1' })).rejects.toMatchObject({ status: 507 });
    } finally {
      await enforcer.close();
    }
  });
});
