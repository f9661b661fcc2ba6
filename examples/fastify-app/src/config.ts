import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiJsonInput } from '@ase/core';

/** The API definitions, as code objects (the same JSON as config/api/<id>.json files would hold). */
export function apis(inventoryPort: number): Record<string, ApiJsonInput> {
  return {
    // No servers: ASE checks the request, then the app's own /api routes answer it.
    api: {
      api_metadata: {
        protocol: 'http',
        url: '/api',
        hostname: '*',
        enable_blocking: true,
        api_pattern_enforcement: { methods_allowed: ['GET', 'POST'], content_type_allowed: 'application/json' },
        decoy_config: { decoy_enabled: true, response_code: 200, response_def: 'OK', response_message: '{"admin": true}', decoy_subpaths: ['/api/admin'] },
      },
    },
    // A server: ASE proxies the request to it.
    inventory: {
      api_metadata: { protocol: 'http', url: '/inventory', hostname: '*', enable_blocking: true, servers: [{ host: '127.0.0.1', port: inventoryPort }] },
    },
  };
}

/** The demo backend of the inventory API: answers JSON naming itself and the path it received. */
export async function startInventoryBackend(): Promise<http.Server & { port: number }> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ backend: 'inventory', url: req.url }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(server, { port: (server.address() as AddressInfo).port });
}
