/**
 * Stores answer with a value when they are in this process and with a Promise when they are
 * remote; callers take the value at once when there is one, so the request path only pays for a
 * Promise when a store is remote.
 */
export function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null | undefined)?.then === 'function';
}
