import * as path from 'node:path';
import type { CompiledApi } from '../api/compiled-api';
import type { LiveApis } from '../api/live-apis';
import { validateApiJson } from '../config/api-schema';
import { apiIdProblem } from '../config/load';
import type { ApiJson, FlowControlJson, ServerJson } from '../config/types';
import { duplicateApi, invalidConfig, persistFailed, unknownApi } from '../errors';
import { ASE_DETECTED_TAGS } from '../lists/entries';
import type { ApiChange, ApiStore, RuntimeSwitches } from '../stores/types';
import type { Logger } from '../types';
import { routeConflict, withFlowControl, withServerAdded, withServerFlowControl, withServerRemoved } from './api-edits';
import { AdminCredentials } from './credentials';
import type { ListOperations } from './list-operations';

export interface ManagementServiceOptions {
  apis: LiveApis;
  store: ApiStore;
  lists: ListOperations;
  /** The switches the request path reads, changed in place. */
  switches: { firewall: boolean; aseDetected: boolean };
  configDir: string | undefined;
  logger: Logger;
  warn: (message: string) => void;
}

/**
 * The operations behind @ase/admin and the `ase` CLI. Each one validates first, persists, and only
 * then changes what the request path sees. They run one at a time, so two concurrent edits of one
 * API cannot lose each other's change.
 */
export class ManagementService {
  private queue: Promise<unknown> = Promise.resolve();
  private credentials: AdminCredentials | undefined;
  /** The switches as stored (`data/runtime.json`): a key present overrides `ase.conf`. */
  private stored: RuntimeSwitches = {};

  constructor(private readonly o: ManagementServiceOptions) {}

  /** Applies the stored switches at start; `source` names where they were read. */
  loadSwitches(switches: RuntimeSwitches, source: string): void {
    this.stored = switches;
    const { enable_firewall: fw, enable_ase_detected_attack: detected } = switches;
    const live = this.o.switches;
    if (fw !== undefined && fw !== live.firewall) {
      live.firewall = fw;
      this.o.logger.info(`firewall ${fw ? 'enabled' : 'disabled'} by ${source} (changed at run time; it overrides ase.conf)`);
    }
    if (detected !== undefined && detected !== live.aseDetected) {
      live.aseDetected = detected;
      this.o.logger.info(`ASE-detected attacks ${detected ? 'enabled' : 'disabled'} by ${source} (changed at run time; it overrides ase.conf)`);
    }
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private managedApi(id: string): CompiledApi {
    const api = this.o.apis.get(id)?.api;
    if (!api) throw unknownApi(id);
    return api;
  }

  /** Validates an API definition and checks that no other API has the same hostname and url. */
  private checkedApiJson(id: string, input: unknown): ApiJson {
    const { api: json } = validateApiJson(input, `api ${id}`);
    const other = routeConflict(this.o.apis.list(), id, json);
    if (other !== undefined) {
      throw invalidConfig([{ file: `api ${id}`, path: '/api_metadata/url', value: json.api_metadata.url, message: `api \`${other}\` already has the same hostname and url` }]);
    }
    return json;
  }

  /**
   * Adds (or with `replace`, updates) an API. Validated first; persisted to the API store before
   * it goes live, so an acknowledged change survives a restart.
   */
  async putApi(id: string, input: unknown, opts: { replace?: boolean; persist?: boolean } = {}): Promise<CompiledApi> {
    const { apis } = this.o;
    const exists = apis.has(id);
    if (exists && !opts.replace) throw duplicateApi(id);
    if (!exists && opts.replace) throw unknownApi(id);
    const { api: json, warnings } = validateApiJson(input, `api ${id}`);
    for (const w of warnings) this.o.warn(w);
    const verifier = apis.loadJwtVerifier(id, json); // a key file that cannot be read refuses the change
    if (opts.persist !== false) {
      try {
        await this.o.store.put(id, json);
      } catch (err) {
        throw persistFailed(`api ${id}`, err);
      }
    }
    const compiled = apis.install(id, json, verifier);
    apis.rebuildMatcher();
    return compiled;
  }

  /** The management API's credentials (`data/credentials.json`), shared by every admin mount. */
  get adminCredentials(): AdminCredentials {
    const { configDir } = this.o;
    return (this.credentials ??= new AdminCredentials(configDir ? path.join(configDir, 'data', 'credentials.json') : undefined));
  }

  createApi(id: string, input: unknown): Promise<CompiledApi> {
    return this.serialized(async () => {
      const idProblem = apiIdProblem(id);
      if (idProblem) throw invalidConfig([{ file: 'api_id', path: '', value: id, message: idProblem }]);
      if (this.o.apis.has(id)) throw duplicateApi(id);
      return this.putApi(id, this.checkedApiJson(id, input));
    });
  }

  updateApi(id: string, input: unknown): Promise<CompiledApi> {
    return this.serialized(async () => {
      this.managedApi(id);
      return this.putApi(id, this.checkedApiJson(id, input), { replace: true });
    });
  }

  /** The stored definition is deleted first, then the API stops matching. */
  deleteApi(id: string): Promise<void> {
    return this.serialized(async () => {
      this.managedApi(id);
      try {
        await this.o.store.delete(id);
      } catch (err) {
        throw persistFailed(`api ${id}`, err);
      }
      this.o.apis.remove(id);
    });
  }

  addServer(apiId: string, server: unknown): Promise<ServerJson> {
    return this.serialized(async () => {
      const edit = withServerAdded(this.managedApi(apiId), server);
      await this.putApi(apiId, edit.json, { replace: true });
      return edit.server;
    });
  }

  deleteServer(apiId: string, server: unknown): Promise<void> {
    return this.serialized(async () => {
      await this.putApi(apiId, withServerRemoved(this.managedApi(apiId), server), { replace: true });
    });
  }

  getFlowControl(apiId: string): FlowControlJson {
    return { ...this.managedApi(apiId).json.api_metadata.flow_control };
  }

  updateFlowControl(apiId: string, changes: unknown): Promise<FlowControlJson> {
    return this.serialized(async () => {
      const edit = withFlowControl(this.managedApi(apiId), changes);
      await this.putApi(apiId, edit.json, { replace: true });
      return { ...edit.flowControl };
    });
  }

  updateServerFlowControl(apiId: string, server: unknown): Promise<ServerJson> {
    return this.serialized(async () => {
      const edit = withServerFlowControl(this.managedApi(apiId), server);
      await this.putApi(apiId, edit.json, { replace: true });
      return edit.server;
    });
  }

  updateFirewall(enabled: boolean): Promise<boolean> {
    return this.serialized(async () => {
      if (this.o.switches.firewall === enabled) return false;
      await this.storeSwitches({ ...this.stored, enable_firewall: enabled });
      this.o.switches.firewall = enabled;
      return true;
    });
  }

  updateAseDetectedAttacks(enabled: boolean): Promise<boolean> {
    return this.serialized(async () => {
      if (this.o.switches.aseDetected === enabled) return false;
      await this.storeSwitches({ ...this.stored, enable_ase_detected_attack: enabled });
      await this.setAseDetectedAttacks(enabled);
      return true;
    });
  }

  /** Disabling removes every ASE-detected deny-list entry, as the reference product does. */
  async setAseDetectedAttacks(enabled: boolean): Promise<void> {
    this.o.switches.aseDetected = enabled;
    if (!enabled) await this.o.lists.clearDetections();
  }

  persistentConnections(apiId: string): { ws: number; wss: number } {
    this.managedApi(apiId);
    return this.o.apis.get(apiId)!.openConnections();
  }

  /** A change another writer of a shared store made: installed here, not stored again. */
  applyRemote(change: ApiChange): void {
    const { apis, switches } = this.o;
    try {
      if (change.op === 'put') {
        apis.install(change.id, change.json);
        apis.rebuildMatcher();
      } else if (change.op === 'delete') {
        if (apis.has(change.id)) apis.remove(change.id);
      } else {
        this.stored = { ...change.switches };
        if (change.switches.enable_firewall !== undefined) switches.firewall = change.switches.enable_firewall;
        // The writer that switched detection off cleared the stored entries: only the replica's go.
        if (change.switches.enable_ase_detected_attack !== undefined) switches.aseDetected = change.switches.enable_ase_detected_attack;
        if (change.switches.enable_ase_detected_attack === false) this.o.lists.applyRemote({ list: 'blacklist', op: 'clear', tags: [...ASE_DETECTED_TAGS] });
      }
    } catch (err) {
      this.o.logger.error(`could not apply an API change from the store: ${(err as Error).message}`);
    }
  }

  private async storeSwitches(next: RuntimeSwitches): Promise<void> {
    try {
      await this.o.store.putSwitches(next);
    } catch (err) {
      throw persistFailed('data/runtime.json', err);
    }
    this.stored = next;
  }
}
