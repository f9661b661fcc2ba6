import * as fs from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import { type SeenRequest, freePort, listen, startBackend } from '../helpers/http';
import type { BackendKind } from './types';

/** A scenario backend: where it listens and what reached it. */
export interface ScenarioBackend {
  name: string;
  port: number;
  seen: SeenRequest[];
  close(): Promise<void>;
}

const tls = (f: string): Buffer => fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'tls', f));

export async function startScenarioBackend(name: string, kind: BackendKind): Promise<ScenarioBackend> {
  switch (kind) {
    case 'echo':
      return startBackend(name);
    case 'slow':
      return startBackend(name, (_req, res) => {
        setTimeout(() => res.end('late'), 2000).unref();
        return true;
      });
    case 'refused':
      return { name, port: await freePort(), seen: [], close: async () => {} };
    case 'garbage': {
      const seen: SeenRequest[] = [];
      const server = net.createServer((s) => {
        s.once('data', (d: Buffer) => {
          const [method = '', url = ''] = d.toString('latin1').split(' ', 2);
          seen.push({ method, url, headers: {}, body: '' });
          // resume(): a paused socket never sees the peer's FIN, and close() would wait forever.
          s.resume().end('NOT HTTP <script>\r\n\r\n');
        });
      });
      const srv = await listen(server);
      return { name, port: srv.port, seen, close: () => srv.close() };
    }
    case 'tls': {
      const seen: SeenRequest[] = [];
      const server = https.createServer({ key: tls('server.key'), cert: tls('server.crt') }, (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
          res.end('over tls');
        });
      });
      const srv = await listen(server);
      return { name, port: srv.port, seen, close: () => srv.close() };
    }
  }
}
