import { type EnforcerOptions, type Logger, createEnforcer } from '@ase/core';
import { api, configDir } from '../helpers/config';

const decoy = { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: 'decoy', decoy_subpaths: ['admin'] };

function capture(): { logger: Logger; warned: string[] } {
  const warned: string[] = [];
  return { warned, logger: { info() {}, warn: (m) => void warned.push(m), error() {} } };
}

describe('decoys that cannot list anyone are warned about at start', () => {
  test('decoys configured with enable_ase_detected_attack off: one warning naming the APIs and the switch', async () => {
    const { logger, warned } = capture();
    const e = createEnforcer({
      logger,
      apis: { shop: api('/shop', { decoy_config: decoy }), cart: api('/cart', { decoy_config: decoy }), plain: api('/plain') },
    });
    try {
      const about = warned.filter((w) => /decoy/i.test(w));
      expect(about).toHaveLength(1);
      expect(about[0]).toMatch(/cart, shop/);
      expect(about[0]).toMatch(/enable_ase_detected_attack/);
      expect(about).toEqual(e.warnings.filter((w) => /decoy/i.test(w)));
    } finally {
      await e.close();
    }
  });

  test('no warning when detection is on (in ase.conf or in code), or when no API has a decoy', async () => {
    for (const opts of [
      { apis: { shop: api('/shop', { decoy_config: decoy }) }, conf: { enable_ase_detected_attack: true } },
      { configDir: configDir({ conf: 'enable_ase_detected_attack=true\n', apis: { shop: api('/shop', { decoy_config: decoy }) } }) },
      { apis: { plain: api('/plain') } },
    ] as EnforcerOptions[]) {
      const { logger, warned } = capture();
      const e = createEnforcer({ logger, ...opts });
      try {
        expect(warned.filter((w) => /decoy/i.test(w))).toEqual([]);
      } finally {
        await e.close();
      }
    }
  });
});
