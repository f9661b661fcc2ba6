import * as fs from 'node:fs';
import * as path from 'node:path';
import { api, invalidApi } from '../helpers/config';
import { MOUNTS, call, serveAdmin } from '../admin/harness';

/**
 * `jwt_verification` through the management API: keys are files, so what GET shows and what the
 * audit log records are paths; an inline secret is refused without being echoed (docs/security.md).
 */

const SECRET = 'admin-test-secret-never-echoed-'.padEnd(40, 'q');
const JWT = { location: 'h:authorization:bearer', username: 'sub', clientid: '' };

describe.each(MOUNTS)('jwt_verification over the management API on the $name', (mount) => {
  test('creates an API verifying JWTs with a key file, reads it back with the path only, refuses an inline secret and an unreadable key file', async () => {
    const s = await serveAdmin(mount);
    try {
      fs.mkdirSync(path.join(s.dir, 'keys'));
      fs.writeFileSync(path.join(s.dir, 'keys', 'shop.secret'), SECRET);
      const verification = { algorithms: ['HS256'], secret_file: 'keys/shop.secret', required: true };
      const created = await call(s.port, 'POST', '/v4/ase/api?api_id=shop', { body: api('/shop', { jwt: JWT, jwt_verification: verification }) });
      expect(created.status).toBe(200);
      expect(s.enforcer.getApi('shop')?.jwtVerifier?.required).toBe(true);

      const read = await call(s.port, 'GET', '/v4/ase/api?api_id=shop');
      expect(read.status).toBe(200);
      expect(read.text).toContain('keys/shop.secret');
      expect(read.text).not.toContain(SECRET);

      const inline = await call(s.port, 'POST', '/v4/ase/api?api_id=inline', {
        body: invalidApi('/inline', { jwt: JWT, jwt_verification: { ...verification, secret: SECRET } }),
      });
      expect(inline.status).toBe(403);
      expect(inline.json).toEqual({ status: 'validation_error', status_message: expect.stringMatching(/unknown key `secret`/) });
      expect(inline.text).not.toContain(SECRET);

      const missing = await call(s.port, 'POST', '/v4/ase/api?api_id=missing', {
        body: api('/missing', { jwt: JWT, jwt_verification: { ...verification, secret_file: 'keys/nope.secret' } }),
      });
      expect(missing.status).toBe(403);
      expect(missing.json).toEqual({ status: 'validation_error', status_message: expect.stringMatching(/\/api_metadata\/jwt_verification\/secret_file: cannot read .*nope\.secret/) });
      expect(fs.existsSync(path.join(s.dir, 'api', 'missing.json'))).toBe(false);

      expect(s.audit.join('\n')).not.toContain(SECRET);
    } finally {
      await s.close();
      fs.rmSync(s.dir, { recursive: true, force: true });
    }
  });
});
