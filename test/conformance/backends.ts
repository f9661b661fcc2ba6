import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import { type SeenRequest, freePort, listen } from '../helpers/http';
import type { BackendKind, BackendStats } from './types';

/** A scenario backend: where it listens and what reached it. */
export interface ScenarioBackend {
  name: string;
  port: number;
  /** Requests that reached it (health probes excluded), in order of arrival. */
  seen: SeenRequest[];
  /** Present on the plain HTTP kinds (`echo`, `slow`, `delayed`, `session`, `failing`). */
  control?: BackendControl;
  close(): Promise<void>;
}

/** What a scenario can do to a plain HTTP backend, and what it can read from it. */
export interface BackendControl {
  /** false: answer 503 `down` to everything, health probes included, until set true again. */
  setHealthy(healthy: boolean): void;
  /** Starts a step: `maxConcurrent` counts from the requests in progress now. */
  beginStep(): void;
  stats(): BackendStats;
}

/** How long a `delayed` backend holds each request. */
export const DELAYED_MS = 150;

const tls = (f: string): Buffer => fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'tls', f));

export async function startScenarioBackend(name: string, kind: BackendKind): Promise<ScenarioBackend> {
  switch (kind) {
    case 'echo':
    case 'slow':
    case 'delayed':
    case 'session':
      return startHttpBackend(name, kind);
    case 'failing':
      return startHttpBackend(name, 'echo', false);
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

/** `echo`, `slow`, `delayed`, `session` (and `failing`: an echo not healthy at first): answers per kind (see BackendKind). */
async function startHttpBackend(name: string, kind: 'echo' | 'slow' | 'delayed' | 'session', healthyAtFirst = true): Promise<ScenarioBackend> {
  const seen: SeenRequest[] = [];
  let healthy = healthyAtFirst;
  let inFlight = 0;
  let maxConcurrent = 0;
  let failedProbes = 0;
  let sessions = 0;
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const server = http.createServer((req, res) => {
    inFlight++;
    maxConcurrent = Math.max(maxConcurrent, inFlight);
    res.once('close', () => inFlight--);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // ASE sets X-Forwarded-For on everything it proxies; its health checks do not.
      if (req.headers['x-forwarded-for'] === undefined) {
        if (!healthy) failedProbes++;
        res.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain' }).end(healthy ? 'ok' : 'down');
        return;
      }
      const s: SeenRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      seen.push(s);
      if (!healthy) {
        res.writeHead(503, { 'content-type': 'text/plain', 'x-backend': name }).end('down');
        return;
      }
      if (kind === 'slow') {
        later(2000, () => res.end('late'));
        return;
      }
      const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json', 'x-backend': name };
      if (kind === 'session' && !/(?:^|;\s*)sid=/.test(String(req.headers['cookie'] ?? ''))) headers['set-cookie'] = `sid=${name}-${++sessions}; Path=/`;
      const answer = (): void => {
        res.writeHead(200, headers).end(JSON.stringify({ server: name, url: s.url }));
      };
      if (kind === 'delayed') later(DELAYED_MS, answer);
      else answer();
    });
  });
  const srv = await listen(server);
  return {
    name,
    port: srv.port,
    seen,
    control: {
      setHealthy(h) {
        if (!h && healthy) failedProbes = 0;
        healthy = h;
      },
      beginStep() {
        maxConcurrent = inFlight;
      },
      stats: () => ({ maxConcurrent, failedProbes }),
    },
    close: () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      return srv.close();
    },
  };
}
