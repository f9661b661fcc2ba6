import * as fs from 'node:fs';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { tempDir } from './config';

export const DEMO_DIR = path.resolve(__dirname, '..', '..', 'examples', 'standalone');
export const DEMO_SCRIPT = path.join(DEMO_DIR, 'demo.js');

/** The demo's fixed ports, as the README and examples/standalone/config name them. */
export const DEMO_PORTS = { gateway: 8000, admin: 8010, backendA: 8080, backendB: 8081 } as const;
export type DemoPorts = { -readonly [K in keyof typeof DEMO_PORTS]: number };

/** Ports free right now (held together while asked for, so they differ). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<net.Server>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export interface DemoSetup {
  /** A temp dir holding `config/` (a copy of the demo's config on free ports): run `ase` commands from here. */
  root: string;
  configDir: string;
  ports: DemoPorts;
  /** demo.js arguments for this copy. */
  args: string[];
}

/**
 * A copy of examples/standalone/config on free ports (ase.conf ports and the API files' backend
 * ports rewritten), so the demo runs beside other tests and never writes into the repository.
 */
export async function demoSetup(): Promise<DemoSetup> {
  const [gateway, admin, backendA, backendB] = (await freePorts(4)) as [number, number, number, number];
  const ports = { gateway, admin, backendA, backendB };
  const root = tempDir('ase-demo-');
  const configDir = path.join(root, 'config');
  const src = path.join(DEMO_DIR, 'config');
  fs.mkdirSync(path.join(configDir, 'api'), { recursive: true });
  const conf = fs.readFileSync(path.join(src, 'ase.conf'), 'utf8')
    .replace(/^http_ws_port=.*$/m, `http_ws_port=${gateway}`)
    .replace(/^management_port=.*$/m, `management_port=${admin}`);
  fs.writeFileSync(path.join(configDir, 'ase.conf'), conf);
  for (const file of fs.readdirSync(path.join(src, 'api'))) {
    const json = JSON.parse(fs.readFileSync(path.join(src, 'api', file), 'utf8')) as { api_metadata: { servers?: { port: number }[] } };
    for (const s of json.api_metadata.servers ?? []) {
      s.port = s.port === DEMO_PORTS.backendA ? backendA : s.port === DEMO_PORTS.backendB ? backendB : s.port;
    }
    fs.writeFileSync(path.join(configDir, 'api', file), JSON.stringify(json, null, 2));
  }
  return { root, configDir, ports, args: ['--config-dir', configDir, '--backend-ports', `${backendA},${backendB}`] };
}

/** The demo prints this once the backends, the gateway and the management API all listen. */
export const DEMO_READY = /Ctrl-C stops everything/;
