import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Enforcer } from '@ase/core';

export type Framework = 'express' | 'koa' | 'fastify';

/** What one of the host app's own routes received. */
export interface HostAppRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RunningApp {
  port: number;
  /** Requests that reached the host app's own routes, in order. */
  appSeen: HostAppRequest[];
  close(): Promise<void>;
}

/**
 * One framework: builds an app with the enforcer mounted first and the host app's own routes behind
 * it (every method and path answers 200 `host app <METHOD> <url>`), and serves it on port 0.
 */
export interface Harness {
  framework: Framework;
  start(enforcer: Enforcer): Promise<RunningApp>;
}

/** The host app's answer: the same text on every framework, so a scenario can expect it. */
export function hostAppBody(method: string, url: string): string {
  return `host app ${method} ${url}`;
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
