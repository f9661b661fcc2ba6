import { createHash } from 'node:crypto';
import { invalidConfig } from '@ase/core';

/**
 * Where every key of one cluster lives. All of them start with `<keyPrefix>{<clusterId>}:`: the
 * `{…}` hash tag puts one cluster's keys in one slot of a Redis Cluster, so the scripts that touch
 * several keys at once run there too.
 */
export class KeySpace {
  readonly base: string;

  constructor(
    readonly clusterId: string,
    keyPrefix: string,
  ) {
    // A `}` in the id would end the hash tag early and spread the keys over several slots.
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(clusterId)) {
      throw invalidConfig([{ file: '<code>', path: 'redisStores.clusterId', value: clusterId, message: 'clusterId must be 1 to 64 letters, digits, "_", "." or "-"' }]);
    }
    if (/[{}]/.test(keyPrefix) || keyPrefix.length > 64) {
      throw invalidConfig([{ file: '<code>', path: 'redisStores.keyPrefix', value: keyPrefix, message: 'keyPrefix must be at most 64 characters without "{" or "}"' }]);
    }
    this.base = `${keyPrefix}{${clusterId}}:`;
  }

  key(...parts: string[]): string {
    return this.base + parts.join(':');
  }
}

/**
 * A value a client can choose (a cookie, a token inside a counter key) enters a key name only as
 * its SHA-256, so that no value can reach into another key's name or make one key huge.
 */
export function digest(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
