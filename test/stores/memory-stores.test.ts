import { MemoryApiBacking, MemoryApiStore } from '../../packages/core/src/stores/memory-api-store';
import { MemoryCounterStore } from '../../packages/core/src/stores/memory-counter-store';
import { MemoryListBacking, MemoryListStore } from '../../packages/core/src/stores/memory-list-store';
import { MemoryQuotaStore } from '../../packages/core/src/stores/memory-quota-store';
import { MemoryStickyStore } from '../../packages/core/src/stores/memory-sticky-store';
import { apiJson, apiStoreContract, counterStoreContract, listStoreContract, newReplica, quotaStoreContract, stickyStoreContract } from './contract';

listStoreContract('MemoryListStore over a shared backing', async () => {
  const backing = new MemoryListBacking();
  const a = new MemoryListStore(backing);
  const b = new MemoryListStore(backing);
  return { a, b, reopen: async () => new MemoryListStore(backing), cleanup: async () => {} };
});

apiStoreContract('MemoryApiStore over a shared backing', async () => {
  const backing = new MemoryApiBacking();
  return { a: new MemoryApiStore(backing), b: new MemoryApiStore(backing), reopen: async () => new MemoryApiStore(backing), cleanup: async () => {} };
});

counterStoreContract('MemoryCounterStore', async () => ({ store: new MemoryCounterStore(), cleanup: async () => {} }));
quotaStoreContract('MemoryQuotaStore', async () => ({ store: new MemoryQuotaStore(), cleanup: async () => {} }));
stickyStoreContract('MemoryStickyStore', async () => ({ store: new MemoryStickyStore(), cleanup: async () => {} }));

describe('the stores an enforcer makes for itself (no backing)', () => {
  test('a list store keeps no entry: changes are acknowledged, nothing is loaded, nobody is told', async () => {
    const store = new MemoryListStore();
    const heard: unknown[] = [];
    store.subscribe((c) => heard.push(c));
    for (let i = 0; i < 1000; i++) await store.apply({ list: 'blacklist', op: 'add', entry: { type: 'ip', value: `10.0.${i >> 8}.${i & 255}`, tag: 'manual' } });
    const replica = newReplica();
    expect(store.loadSync(replica)).toEqual([]);
    expect(replica.blacklist.size).toBe(0);
    expect(heard).toEqual([]);
    await store.close();
  });

  test('an API store keeps no definition', async () => {
    const store = new MemoryApiStore();
    await store.put('shop', apiJson('/shop'));
    await store.putSwitches({ enable_firewall: false });
    expect(store.loadSync()).toEqual({ apis: new Map(), switches: {}, warnings: [] });
    await store.close();
  });
});

describe('MemoryStickyStore budgets', () => {
  test('an API is bounded by the bytes configured for it; a changed budget starts it afresh', () => {
    const store = new MemoryStickyStore();
    store.configure('a', { maxBytes: 1000, idleMs: 0 });
    for (let i = 0; i < 100; i++) store.set('a', `cookie-${i}`, '10.0.0.1:80');
    expect(store.get('a', 'cookie-0')).toBeUndefined();
    expect(store.get('a', 'cookie-99')).toBe('10.0.0.1:80');
    store.configure('a', { maxBytes: 1000, idleMs: 0 });
    expect(store.get('a', 'cookie-99')).toBe('10.0.0.1:80');
    store.configure('a', { maxBytes: 2000, idleMs: 0 });
    expect(store.get('a', 'cookie-99')).toBeUndefined();
    store.set('a', 'c', '10.0.0.1:80');
    store.configure('a', undefined);
    expect(store.get('a', 'c')).toBeUndefined();
  });
});
