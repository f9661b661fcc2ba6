import type { StickyStore } from '../stores/types';
import { isPromise } from '../stores/maybe-async';

/**
 * One API's sticky pins (cookie value → server id) in the enforcer's {@link StickyStore}. Writes
 * are sent and not awaited: a pin lost to a failing store only costs the session its stickiness,
 * so a store's rejection is swallowed here rather than becoming an unhandled rejection.
 */
export class StickyPins {
  constructor(
    private readonly store: StickyStore,
    readonly api: string,
  ) {}

  /** The pinned server; a Promise only when the store is remote. */
  get(cookie: string): string | undefined | Promise<string | undefined> {
    try {
      const got = this.store.get(this.api, cookie);
      return isPromise(got) ? got.catch(() => undefined) : got;
    } catch {
      return undefined;
    }
  }

  set(cookie: string, serverId: string): void {
    this.quietly(() => this.store.set(this.api, cookie, serverId));
  }

  delete(cookie: string): void {
    this.quietly(() => this.store.delete(this.api, cookie));
  }

  /** Pins `cookie` to `serverId` unless it is pinned already (a session whose cookie the backend did not set). */
  keep(cookie: string, serverId: string): void {
    const got = this.get(cookie);
    if (!isPromise(got)) {
      if (got === undefined) this.set(cookie, serverId);
      return;
    }
    void got.then((id) => {
      if (id === undefined) this.set(cookie, serverId);
    });
  }

  dropServer(serverId: string): void {
    this.quietly(() => this.store.dropServer(this.api, serverId));
  }

  private quietly(write: () => void | Promise<void>): void {
    try {
      const done = write();
      if (isPromise(done)) done.catch(() => undefined);
    } catch {
      // as above: stickiness is best effort
    }
  }
}
