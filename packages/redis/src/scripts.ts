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

/**
 * Fields written back into hashes after Redis lost its data (ARGV: hash index, field, value, …),
 * kept as they are when another handle wrote them first.
 */
export const RESEED_FIELDS = `
for i = 1, #ARGV, 3 do redis.call('HSETNX', KEYS[tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 2]) end
return 1
`;

/**
 * Ends a re-seed: the data gets an epoch if it has none, and the sequence jumps by two past a
 * marker entry, so every reader sees a gap and reads the whole state again.
 * KEYS: epoch, seq, stream; ARGV: a new epoch, stream length, origin.
 */
export const RESEED_DONE = `
redis.call('SET', KEYS[1], ARGV[1], 'NX')
local n = redis.call('INCRBY', KEYS[2], 2)
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*', 'o', ARGV[3], 'n', n)
return n
`;

/** How many fields one re-seed call writes, so a large state does not block Redis in one script. */
export const RESEED_BATCH = 500;
