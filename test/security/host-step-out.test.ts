import { createEnforcer, silentLogger } from '@ase/core';
import { HARNESSES } from '../conformance/harness';
import { api } from '../conformance/scenarios';
import { rawRequest } from '../helpers/http';

/**
 * HTTP/1.0 lets a client leave Host out altogether (Node accepts it; HTTP/1.1 without Host gets 400
 * from Node's parser). Without a Host no host-bound API matches, and the app's routes under that
 * API's url must not be reachable either. The conformance table cannot send HTTP/1.0: this can.
 */
describe.each(HARNESSES)('Host step-out on $framework', (harness) => {
  test('an HTTP/1.0 request without Host cannot reach a host-bound API`s routes in the app', async () => {
    const enforcer = createEnforcer({ logger: silentLogger, apis: { admin: api('/admin', { hostname: 'good.example', enable_blocking: true }) } as never });
    const app = await harness.start(enforcer);
    try {
      await enforcer.addDeny({ type: 'ip', value: '127.0.0.1' });
      const guarded = await rawRequest(app.port, 'GET /admin/users HTTP/1.0\r\n\r\n');
      expect([guarded.status, guarded.text.endsWith('Error: Unknown API')]).toEqual([503, true]);
      const open = await rawRequest(app.port, 'GET /public HTTP/1.0\r\n\r\n');
      expect([open.status, open.text.endsWith('host app GET /public')]).toEqual([200, true]);
      expect(app.appSeen.map((r) => r.url)).toEqual(['/public']);
    } finally {
      await app.close();
      await enforcer.close();
    }
  });
});
