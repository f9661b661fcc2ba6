import * as path from 'node:path';
import { stateFileUnusable } from '../errors';
import { ListJournal } from '../lists/list-journal';
import type { ListChange, ListReplica, ListStore } from '../stores/types';
import type { Logger } from '../types';
import { removeStaleTempFiles } from './atomic-file';

/**
 * The lists of one process, in `<configDir>/data`: the snapshot `lists.json` and its journal
 * (`ListJournal`). The journal folds the replica it was loaded into into each new snapshot, so
 * the replica given to `load` must be the one the enforcer changes.
 */
export class FileListStore implements ListStore {
  readonly shared = false;
  /** The snapshot file, as problems with the lists name it. */
  readonly file: string;
  private journal: ListJournal | undefined;

  constructor(
    private readonly dataDir: string,
    private readonly logger?: Logger,
  ) {
    this.file = path.join(dataDir, 'lists.json');
  }

  load(replica: ListReplica): Promise<string[]> {
    try {
      return Promise.resolve(this.loadSync(replica));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  loadSync(replica: ListReplica): string[] {
    for (const name of removeStaleTempFiles(this.dataDir)) this.logger?.info(`removed data/${name}, left by a write that was interrupted`);
    const onError = (err: unknown): void => this.logger?.error(`could not persist lists: ${(err as Error).message}`);
    const journal = new ListJournal(this.dataDir, replica.blacklist, replica.whitelist, onError);
    const warnings = loadJournal(journal);
    this.journal = journal;
    return warnings;
  }

  /** Resolves once the change is on disk (fsync, shared with every change that came meanwhile). */
  apply(change: ListChange): Promise<void> {
    return this.journal ? this.journal.write(change) : Promise.resolve();
  }

  /** A detection: at most MAX_PENDING_DETECTIONS wait for the disk, later ones reach it in the next snapshot. */
  record(change: ListChange): void {
    this.journal?.record(change);
  }

  /** Detections and changes waiting for the disk. */
  get queued(): number {
    return this.journal?.queued ?? 0;
  }

  /** One process writes these files: no other writer's changes to hear of. */
  subscribe(): () => void {
    return () => undefined;
  }

  /** Waits for queued changes and folds the journal into the snapshot. */
  async close(): Promise<void> {
    await this.journal?.close();
  }
}

/**
 * The lists kept in `dataDir` read into `replica`, without becoming their writer: what a cluster
 * node serves when it starts without its shared store.
 */
export function readListFiles(dataDir: string, replica: ListReplica): string[] {
  return loadJournal(new ListJournal(dataDir, replica.blacklist, replica.whitelist));
}

function loadJournal(journal: ListJournal): string[] {
  try {
    return journal.load();
  } catch (err) {
    // Starting with empty lists would silently unblock every listed client: refuse instead.
    throw stateFileUnusable(`${journal.snapshotFile}: cannot be read (${(err as Error).message}); fix or remove it`, err);
  }
}
