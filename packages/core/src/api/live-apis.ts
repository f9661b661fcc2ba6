import * as path from 'node:path';
import type { AseConf, ApiJson } from '../config/types';
import type { EnforcerEventSink } from '../events';
import { writeNodeResponse } from '../http/node-response';
import { JwtVerifier } from '../identity/jwt-verifier';
import { ApiMatcher } from '../match/api-matcher';
import type { BackendAgents } from '../upstream/agents';
import { ApiRuntime, type RuntimeStores } from './api-runtime';
import { type CompiledApi, compileApi } from './compiled-api';

export interface LiveApisOptions {
  conf: AseConf;
  configDir: string | undefined;
  ca: Buffer | undefined;
  agents: BackendAgents;
  events: EnforcerEventSink;
  trustedPeer: (peer: string) => boolean;
  /** Counters, connection slots and sticky pins: held by the stores, so they outlive an edit. */
  stores: RuntimeStores;
  /** Called with the id of an API deleted, so what was kept per API (its metrics) goes too. */
  onRemove?: (id: string) => void;
  /** Where a proxied request's backend response time goes (the metrics). */
  onUpstreamTiming?: (api: string, seconds: number) => void;
}

/**
 * The APIs the request path sees: each one's runtime (pools, limiters, tunnels) and the matcher
 * built from them all. Installing replaces an API in place, so its open connections are retired
 * rather than cut.
 */
export class LiveApis {
  readonly runtimes = new Map<string, ApiRuntime>();
  matcher = new ApiMatcher([]);

  constructor(private readonly options: LiveApisOptions) {}

  get(id: string): ApiRuntime | undefined {
    return this.runtimes.get(id);
  }

  has(id: string): boolean {
    return this.runtimes.has(id);
  }

  list(): CompiledApi[] {
    return [...this.runtimes.values()].map((r) => r.api);
  }

  /** Keys are read once, here, when the API is installed; relative paths from the config directory. */
  loadJwtVerifier(id: string, json: ApiJson): JwtVerifier | undefined {
    const conf = json.api_metadata.jwt_verification;
    if (!conf) return undefined;
    const { configDir } = this.options;
    const file = configDir ? path.join(configDir, 'api', `${id}.json`) : `api ${id}`;
    return JwtVerifier.load(conf, configDir ?? process.cwd(), file);
  }

  install(id: string, json: ApiJson, verifier = this.loadJwtVerifier(id, json)): CompiledApi {
    const api = compileApi(id, json, verifier);
    const old = this.runtimes.get(id);
    const { conf, ca, agents, events, trustedPeer, stores } = this.options;
    const rt = new ApiRuntime(api, {
      conf,
      ca,
      agents,
      onServerDown: (apiId, u, error) => events.emit('backend_down', { api: apiId, server: u.id, error }),
      onHealthChange: (apiId, u, healthy) => events.emit(healthy ? 'backend_up' : 'backend_down', { api: apiId, server: u.id, error: healthy ? '' : 'health_check' }),
      writeResponse: (res, spec) => writeNodeResponse(res, spec),
      trustedPeer,
      stores,
      onUpstreamTiming: this.options.onUpstreamTiming,
    }, old);
    this.runtimes.set(id, rt);
    old?.retire(rt);
    return api;
  }

  /** Stops matching the API and closes its runtime. */
  remove(id: string): void {
    const rt = this.runtimes.get(id);
    this.runtimes.delete(id);
    this.rebuildMatcher();
    rt?.close();
    this.options.onRemove?.(id);
  }

  rebuildMatcher(): void {
    const ordered = [...this.runtimes.keys()].sort().map((id) => this.runtimes.get(id)!.api);
    this.matcher = new ApiMatcher(ordered);
  }

  close(): void {
    for (const rt of this.runtimes.values()) rt.close();
  }
}
