import * as path from 'node:path';
import { loadApiDir } from '../config/load';
import type { ApiJson } from '../config/types';
import { readRuntimeState, removeFileDurable, serializeRuntimeState } from './runtime-state';
import type { ApiStore, LoadedApis, RuntimeSwitches } from '../stores/types';
import type { Logger } from '../types';
import { removeStaleTempFiles, writeFileAtomic } from './atomic-file';

/**
 * API definitions as `<configDir>/api/<id>.json` (written atomically, removed durably) and the
 * run-time switches as `<configDir>/data/runtime.json`. Loading reads them as `loadConfigDir`
 * does: a bad API file throws unless `skipInvalidApis` is set.
 */
export class FileApiStore implements ApiStore {
  readonly shared = false;
  private readonly apiDir: string;
  /** `data/runtime.json`, where the switches are kept. */
  readonly runtimeFile: string;

  constructor(
    private readonly configDir: string,
    private readonly options: { skipInvalidApis?: boolean; logger?: Logger } = {},
  ) {
    this.apiDir = path.join(configDir, 'api');
    this.runtimeFile = path.join(configDir, 'data', 'runtime.json');
  }

  load(): Promise<LoadedApis> {
    try {
      return Promise.resolve(this.loadSync());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  loadSync(): LoadedApis {
    const { apis, warnings } = loadApiDir(this.configDir, { skipInvalidApis: this.options.skipInvalidApis === true });
    for (const name of removeStaleTempFiles(this.apiDir)) this.options.logger?.info(`removed api/${name}, left by a write that was interrupted`);
    return { apis, warnings, switches: readRuntimeState(this.runtimeFile) };
  }

  /** The file the API is read from (JWT key paths are relative to the config directory). */
  fileOf(id: string): string {
    return path.join(this.apiDir, `${id}.json`);
  }

  put(id: string, json: ApiJson): Promise<void> {
    return writeFileAtomic(this.fileOf(id), `${JSON.stringify(json, null, 2)}\n`);
  }

  delete(id: string): Promise<void> {
    return removeFileDurable(this.fileOf(id));
  }

  putSwitches(switches: RuntimeSwitches): Promise<void> {
    return writeFileAtomic(this.runtimeFile, serializeRuntimeState(switches));
  }

  /** One process writes these files: no other writer's changes to hear of. */
  subscribe(): () => void {
    return () => undefined;
  }

  async close(): Promise<void> {}
}
