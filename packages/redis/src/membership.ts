import { digest, type KeySpace } from './keys';
import { SERVER_NOW, script, type RedisClient, type Script } from './scripts';

export interface ClusterNode {
  host: string;
  port: number;
  uuid: string;
}

export interface ClusterNodeStatus extends ClusterNode {
  /** `inactive`: the node was seen but its heartbeat expired (it stopped or lost Redis). */
  status: 'active' | 'inactive';
}

/**
 * One heartbeat: the node's entry (with the server's time as `seen`) and its heartbeat key; then
 * every node whose heartbeat expired more than the forget delay ago leaves the hash. An entry
 * without `seen` (written before nodes kept it) is stamped with now, so it is forgotten after the
 * same delay if its node never beats again.
 * KEYS: nodes hash, this node's heartbeat key; ARGV: uuid, entry JSON, expiry ms, forget-after ms.
 */
const BEAT = `
${SERVER_NOW}
local node = cjson.decode(ARGV[2])
node['seen'] = now
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(node))
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
local expiry = tonumber(ARGV[3])
local forget = tonumber(ARGV[4])
local all = redis.call('HGETALL', KEYS[1])
local forgotten = 0
for i = 1, #all, 2 do
  local ok, other = pcall(cjson.decode, all[i + 1])
  if not ok or type(other) ~= 'table' then
    -- not an entry a node wrote: leave it to nodes() to skip
  elseif type(other['seen']) ~= 'number' then
    other['seen'] = now
    redis.call('HSET', KEYS[1], all[i], cjson.encode(other))
  elseif other['seen'] + expiry + forget < now then
    redis.call('HDEL', KEYS[1], all[i])
    forgotten = forgotten + 1
  end
end
return forgotten
`;

/**
 * The nodes of one cluster (`GET /v4/ase/cluster`): every node that joined is kept in a hash; it is
 * active while its heartbeat key (refreshed every `heartbeatMs`, expiring after `expiryMs`) lives.
 * A node whose heartbeat expired more than `forgetAfterMs` ago (it died without leaving) is removed
 * by the next heartbeat of any other node, so that restarts, each with a new uuid, do not pile up.
 */
export class ClusterMembership {
  private timer: NodeJS.Timeout | undefined;
  private self: ClusterNode | undefined;
  private readonly beatScript: Script;

  constructor(
    private readonly client: RedisClient,
    private readonly keys: KeySpace,
    private readonly opts: {
      heartbeatMs: number;
      expiryMs: number;
      forgetAfterMs: number;
      onError(err: unknown): void;
      /** True while the node must not show as a member yet (started without Redis, not joined). */
      held?(): boolean;
    },
  ) {
    this.beatScript = script(client, 'aseNodeBeat1', 2, BEAT);
  }

  get clusterId(): string {
    return this.keys.clusterId;
  }

  private get nodesKey(): string {
    return this.keys.key('nodes');
  }

  private aliveKey(uuid: string): string {
    return this.keys.key('node', digest(uuid));
  }

  private async beat(node: ClusterNode): Promise<void> {
    if (this.opts.held?.()) return;
    await this.beatScript([this.nodesKey, this.aliveKey(node.uuid)], [node.uuid, JSON.stringify(node), this.opts.expiryMs, this.opts.forgetAfterMs]);
  }

  /**
   * Announces this node and keeps its heartbeat going until `leave` (or the stores' `close`).
   * Rejects when the first heartbeat fails; the later ones go on (`leave` stops them).
   */
  async join(node: ClusterNode): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.self = { host: node.host, port: node.port, uuid: node.uuid };
    const self = this.self;
    this.timer = setInterval(() => this.beat(self).catch((err: unknown) => this.opts.onError(err)), this.opts.heartbeatMs);
    this.timer.unref();
    await this.beat(self);
  }

  /** A heartbeat now, when joined (the node was held back and may show now). */
  async renew(): Promise<void> {
    if (this.self) await this.beat(this.self);
  }

  async nodes(): Promise<ClusterNodeStatus[]> {
    const all = await this.client.hgetall(this.nodesKey);
    const nodes: ClusterNode[] = [];
    for (const json of Object.values(all)) {
      try {
        const n = JSON.parse(json) as ClusterNode;
        nodes.push({ host: String(n.host), port: Number(n.port), uuid: String(n.uuid) });
      } catch {
        // A value no node wrote (this package writes JSON only) is no node.
      }
    }
    if (nodes.length === 0) return [];
    const pipeline = this.client.pipeline();
    for (const n of nodes) pipeline.exists(this.aliveKey(n.uuid));
    const alive = (await pipeline.exec()) ?? [];
    return nodes.map((n, i) => ({ ...n, status: alive[i]?.[1] === 1 ? 'active' : 'inactive' }));
  }

  /** Stops the heartbeat and removes this node from the cluster's list. */
  async leave(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const self = this.self;
    this.self = undefined;
    if (!self) return;
    const res = await this.client.multi().hdel(this.nodesKey, self.uuid).del(this.aliveKey(self.uuid)).exec();
    for (const [err] of res ?? []) if (err) throw err;
  }
}
