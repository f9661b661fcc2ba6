import type { Cluster, Redis } from 'ioredis';

export type RedisClient = Redis | Cluster;
export type Script = (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

/**
 * One Lua script as a function. `defineCommand` sends the script once and then calls it by its
 * SHA (EVALSHA), and sends it again on its own when the server forgot it (a restart).
 */
export function script(client: RedisClient, name: string, numberOfKeys: number | undefined, lua: string): Script {
  const commands = client as unknown as Record<string, ((...args: (string | number)[]) => Promise<unknown>) | undefined>;
  if (typeof commands[name] !== 'function') client.defineCommand(name, numberOfKeys === undefined ? { lua } : { numberOfKeys, lua });
  // Without a fixed number of keys, ioredis expects the count as the first argument.
  const count = (keys: readonly string[]): (string | number)[] => (numberOfKeys === undefined ? [keys.length] : []);
  return (keys, args) => (commands[name] as (...a: (string | number)[]) => Promise<unknown>).call(client, ...count(keys), ...keys, ...args);
}

/** Milliseconds on the Redis server's clock, so that every node measures leases against the same clock. */
export const SERVER_NOW = `local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;
