import type { IncomingMessage, ServerResponse } from 'node:http';

/** Answers one request of a management API mounted in the app (@ase/admin); `url` is relative to its mount. */
export type ManagementHandler = (req: IncomingMessage, res: ServerResponse, url: string) => Promise<void>;

/** Mount roots come from code, but a mount may learn its root from requests: bounded all the same. */
const MAX_MOUNTS = 16;
/** What may follow a root: the management API's own route names. Anything else is decided as usual. */
const ROUTE_TAIL = /^(?:\/[A-Za-z0-9_-]+)*\/?$/;
const MOUNT_PATH = /^(?:\/[A-Za-z0-9._~-]+)*$/;

/** The management API's own prefix, as @ase/admin serves it under its mount path. */
export const MANAGEMENT_PREFIX = '/v4/ase';

/**
 * The management APIs mounted in an app alongside the enforcer. The data-path adapters hand their
 * requests straight to them, before any decision: an operator the enforcer has deny-listed (a decoy
 * hit, a shared address) can still remove the entry, whatever order the app mounted things in.
 * Matching is by exact path only, with no decoding, so nothing a client sends can route a request
 * around the enforcer: what matches is answered by the management API itself and never reaches the
 * app's routes.
 */
export class ManagementMounts {
  /** Full root (`/admin/v4/ase`) → the mount path's length and the handler. */
  private readonly roots = new Map<string, { mountLength: number; handler: ManagementHandler }>();

  get size(): number {
    return this.roots.size;
  }

  /**
   * A management API answering `${mountPath}/v4/ase/...` (mountPath `''` at the root, `/admin`).
   * Returns a function that removes the mount.
   */
  add(mountPath: string, handler: ManagementHandler): () => void {
    const mount = mountPath === '/' ? '' : mountPath;
    if (!MOUNT_PATH.test(mount)) throw new TypeError(`a management mount path must be '' or a plain path like /admin (got ${JSON.stringify(mountPath)})`);
    const root = `${mount}${MANAGEMENT_PREFIX}`;
    if (!this.roots.has(root) && this.roots.size >= MAX_MOUNTS) throw new RangeError(`at most ${MAX_MOUNTS} management mounts per enforcer`);
    const entry = { mountLength: mount.length, handler };
    this.roots.set(root, entry);
    return () => {
      if (this.roots.get(root) === entry) this.roots.delete(root);
    };
  }

  /** The mount that answers this request target (path and query as received), with the URL relative to its mount. */
  route(target: string): { handler: ManagementHandler; url: string } | undefined {
    if (this.roots.size === 0) return undefined;
    const q = target.indexOf('?');
    const p = q < 0 ? target : target.slice(0, q);
    for (const [root, { mountLength, handler }] of this.roots) {
      if (p === root || (p.startsWith(root) && p.charCodeAt(root.length) === 47 /* / */ && ROUTE_TAIL.test(p.slice(root.length)))) {
        return { handler, url: target.slice(mountLength) };
      }
    }
    return undefined;
  }
}
