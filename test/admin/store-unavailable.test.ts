/**
 * A shared store that cannot be reached (Redis lost) refuses manual changes: the management API
 * answers 503 `store_unavailable` on every mount, and the change is not live either (nothing that
 * was not acknowledged takes effect on this node alone).
 */
import { MemoryApiStore, MemoryListStore, storeUnavailable } from '@ase/core';
import type { ApiJson, ListChange, RuntimeSwitches } from '@ase/core';
import { MOUNTS, call, serveAdmin } from './harness';

/** The in-memory stores, with every write refused as a lost Redis refuses it. */
class UnreachableListStore extends MemoryListStore {
  override async apply(_change: ListChange): Promise<void> {
    throw storeUnavailable('the deny and allow lists cannot be changed now');
  }
}
class UnreachableApiStore extends MemoryApiStore {
  override async put(_id: string, _json: ApiJson): Promise<void> {
    throw storeUnavailable('API definitions cannot be changed now');
  }
  override async putSwitches(_switches: RuntimeSwitches): Promise<void> {
    throw storeUnavailable('switches cannot be changed now');
  }
}

const REFUSED = { status: 'store_unavailable', status_message: 'shared state store unreachable' };

describe.each(MOUNTS)('management API on $name while the shared store is unreachable', (mount) => {
  test('a deny-list addition, an API creation and a firewall switch get 503 store_unavailable and change nothing', async () => {
    const s = await serveAdmin(mount, { enforcer: { configDir: undefined, stores: { lists: new UnreachableListStore(), apis: new UnreachableApiStore() } } });
    try {
      const deny = await call(s.port, 'POST', '/v4/ase/firewall/blacklist', { body: { type: 'ip', value: '203.0.113.9' } });
      expect([deny.status, deny.json]).toEqual([503, REFUSED]);
      expect(s.enforcer.denyList.has('ip', '203.0.113.9')).toBe(false);

      const api = await call(s.port, 'POST', '/v4/ase/api?api_id=shop', { body: { api_metadata: { protocol: 'http', url: '/shop', hostname: '*' } } });
      expect([api.status, api.json]).toEqual([503, REFUSED]);
      expect(s.enforcer.getApi('shop')).toBeUndefined();

      const fw = await call(s.port, 'POST', '/v4/ase/firewall?status=disable');
      expect([fw.status, fw.json]).toEqual([503, REFUSED]);
      expect(s.enforcer.firewallEnabled).toBe(true);
    } finally {
      await s.close();
    }
  });
});
