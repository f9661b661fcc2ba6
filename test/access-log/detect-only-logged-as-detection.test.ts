import * as fs from 'node:fs';
import * as path from 'node:path';
import { api, configDir, servers } from '../helpers/config';
import { type Backend, request, startBackend } from '../helpers/http';
import { startExpressApp } from '../helpers/express-app';

describe('the access log tells a block from a detection', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await startBackend('b');
  });
  afterAll(() => backend.close());

  test('a deny-listed client served by a detect-only API (enable_blocking false) is logged as a detection, one refused by a blocking API as a block', async () => {
    const dir = configDir({
      apis: {
        watch: api('/watch', { enable_blocking: false, servers: servers(backend.port) }),
        guard: api('/guard', { enable_blocking: true, servers: servers(backend.port) }),
      },
    });
    const app = await startExpressApp({ configDir: dir });
    try {
      await app.enforcer.addDeny({ type: 'ip', value: '127.0.0.1' });
      expect((await request(app.port, { path: '/watch/x' })).status).toBe(200);
      expect((await request(app.port, { path: '/guard/x' })).status).toBe(403);
    } finally {
      await app.close(); // flushes the log
    }
    const lines = fs.readFileSync(path.join(dir, 'logs', 'access.log'), 'utf8').trim().split('\n');
    const watch = lines.filter((l) => l.includes('[api_id:watch]'));
    const guard = lines.filter((l) => l.includes('[api_id:guard]'));
    expect(watch).toHaveLength(1);
    expect(watch[0]).toMatch(/\[type:detected\] \[reason:deny_list\] \[api_id:watch\] \[connectinfo:127\.0\.0\.1\] \[entry:ip:127\.0\.0\.1\] \[tag:manual\] \[blocked:false\]$/);
    expect(guard).toHaveLength(1);
    expect(guard[0]).toMatch(/\[type:blocked\] \[reason:deny_list\] \[api_id:guard\] .*\[blocked:true\]$/);
  });
});
