import { digest, type KeySpace } from './keys';
import type { RedisClient } from './scripts';

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
 * The nodes of one cluster (`GET /v4/ase/cluster`): every node that joined is kept in a hash; it is
 * active while its heartbeat key (refreshed every `heartbeatMs`, expiring after `expiryMs`) lives.
 */
export class ClusterMembership {
  private timer: NodeJS.Timeout | undefined;
  private self: ClusterNode | undefined;

  constructor(
    private readonly client: RedisClient,
    private readonly keys: KeySpace,
    private readonly opts: { heartbeatMs: number; expiryMs: number; onError(err: unknown): void },
  ) {}

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
    const res = await this.client
      .multi()
      .hset(this.nodesKey, node.uuid, JSON.stringify(node))
      .set(this.aliveKey(node.uuid), '1', 'PX', this.opts.expiryMs)
      .exec();
    for (const [err] of res ?? []) if (err) throw err;
  }

  /** Announces this node and keeps its heartbeat going until `leave` (or the stores' `close`). */
  async join(node: ClusterNode): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.self = { host: node.host, port: node.port, uuid: node.uuid };
    const self = this.self;
    await this.beat(self);
    this.timer = setInterval(() => this.beat(self).catch((err: unknown) => this.opts.onError(err)), this.opts.heartbeatMs);
    this.timer.unref();
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
