import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AseError, ERRORS, type AseErrorCode, persistFailed, storeUnavailable, wireAnswer } from '../../src/errors';
import { AdminCredentials } from '../../src/management/credentials';
import { readRuntimeState } from '../../src/persistence/runtime-state';
import { TrustedProxies } from '../../src/request/client-ip';

describe('error codes: one meaning per code', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ase-errors-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const thrown = (fn: () => unknown): AseError => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(AseError);
      return err as AseError;
    }
    throw new Error('expected an AseError');
  };

  it('an unusable runtime state file is ERR_ASE_STATE_FILE (500), not a configuration error', () => {
    const file = path.join(dir, 'runtime.json');
    fs.writeFileSync(file, '{not json');
    expect(thrown(() => readRuntimeState(file))).toMatchObject({ code: 'ERR_ASE_STATE_FILE', status: 500 });
  });

  it('an unusable credentials file is ERR_ASE_STATE_FILE (500)', () => {
    const file = path.join(dir, 'credentials.json');
    fs.writeFileSync(file, '[]');
    expect(thrown(() => new AdminCredentials(file))).toMatchObject({ code: 'ERR_ASE_STATE_FILE', status: 500 });
  });

  it('a secret key that breaks the rules is ERR_ASE_SECRET_KEY (400)', async () => {
    const creds = new AdminCredentials(path.join(dir, 'credentials.json'));
    await expect(creds.setSecret('x')).rejects.toMatchObject({ code: 'ERR_ASE_SECRET_KEY', status: 400 });
    expect(fs.existsSync(path.join(dir, 'credentials.json'))).toBe(false);
  });

  it('an invalid xff_trusted_proxies entry stays a configuration error (400)', () => {
    expect(thrown(() => new TrustedProxies(['nope']))).toMatchObject({ code: 'ERR_ASE_CONFIG', status: 400 });
  });

  it('a change the disk refuses says why: no room is 507 storage_full, a directory that cannot be written is 503 storage_read_only', () => {
    const fsError = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: from the file system`), { code });
    for (const errno of ['ENOSPC', 'EDQUOT', 'EFBIG']) {
      const err = persistFailed('api shop', fsError(errno));
      expect(err).toMatchObject({ code: 'ERR_ASE_STORAGE_FULL', status: 507, message: `could not persist api shop: no room left for the configuration files (${errno}); nothing was changed` });
    }
    for (const errno of ['EROFS', 'EACCES', 'EPERM']) {
      const err = persistFailed('lists', fsError(errno));
      expect(err).toMatchObject({ code: 'ERR_ASE_STORAGE_READ_ONLY', status: 503, message: `could not persist lists: the configuration directory cannot be written (${errno}); nothing was changed` });
    }
    expect(wireAnswer('ERR_ASE_STORAGE_FULL')).toEqual({ status: 507, label: 'storage_full' });
    expect(wireAnswer('ERR_ASE_STORAGE_READ_ONLY')).toEqual({ status: 503, label: 'storage_read_only' });
    expect(persistFailed('lists', fsError('EIO'))).toMatchObject({ code: 'ERR_ASE_PERSIST', status: 500, message: 'could not persist lists' });
    const unreachable = storeUnavailable('redis');
    expect(persistFailed('lists', unreachable)).toBe(unreachable);
  });

  it('every code takes its HTTP status from the one registry', () => {
    for (const code of Object.keys(ERRORS) as AseErrorCode[]) {
      expect(new AseError(code, 'm').status).toBe(ERRORS[code].status);
    }
  });
});
