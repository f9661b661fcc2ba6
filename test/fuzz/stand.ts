import { type Enforcer, createEnforcer, silentLogger } from '@ase/core';
import { startScenarioBackend, type ScenarioBackend } from '../conformance/backends';
import type { Harness } from '../conformance/harness';
import { rawReply } from '../helpers/http';
import { DENIED, type Place, fuzzApis } from './policy';
import { type RoutedApp, startRoutedApp } from './routed-apps';

/** One generated request, written byte for byte. */
export interface RawHttpRequest {
  method?: string;
  target: string;
  /** `Host` lines, in order; none: the request is sent as HTTP/1.0 (HTTP/1.1 requires one). */
  hosts: readonly string[];
  /** Other header lines, in order (names may repeat). */
  headers?: readonly (readonly [string, string])[];
}

/** What became of one request. */
export interface Outcome {
  status: number;
  body: string;
  /** Who got it: the echo backend, the host app's own routes, or nobody. */
  reached: 'backend' | 'app' | 'nobody';
  /** The target the backend or the host app received. */
  received: string | undefined;
  /** The place of the host app's route its framework's router chose (Express, Fastify). */
  route: Place | undefined;
  /** The enforcer's `blocked` reasons and `attack` kinds for this request. */
  events: string[];
}

/**
 * The generated requests' stand on one framework: the echo backend, an enforcer with the policy of
 * policy.ts, and the framework's host app (routed-apps.ts: enforcer first, then the app's own
 * routes). Started once, reused by every run; `close` stops all of it.
 */
export interface Stand {
  enforcer: Enforcer;
  send(req: RawHttpRequest): Promise<Outcome>;
  close(): Promise<void>;
}

export async function startStand(harness: Harness): Promise<Stand> {
  const backend: ScenarioBackend = await startScenarioBackend('b', 'echo');
  let enforcer: Enforcer | undefined;
  let app: RoutedApp | undefined;
  try {
    enforcer = createEnforcer({ logger: silentLogger, mode: 'middleware', apis: fuzzApis(backend.port) as never });
    for (const entry of DENIED) await enforcer.addDeny(entry);
    const events: string[] = [];
    enforcer.on('blocked', (e) => events.push(`blocked:${e.reason}`));
    enforcer.on('attack', (e) => events.push(`attack:${e.kind}`));
    app = await startRoutedApp(harness.framework, enforcer);
    const running = app;
    const e = enforcer;
    return {
      enforcer,
      async send(req) {
        events.length = 0;
        const seenByBackend = backend.seen.length;
        const seenByApp = running.hits.length;
        const reply = await rawReply(running.port, rawText(req));
        const toBackend = backend.seen.slice(seenByBackend);
        const toApp = running.hits.slice(seenByApp);
        if (toBackend.length + toApp.length > 1) throw new Error(`one request reached ${toBackend.length} backend and ${toApp.length} app handlers`);
        const hit = toBackend[0] ?? toApp[0];
        return {
          status: reply.status,
          body: reply.body,
          reached: toBackend.length ? 'backend' : toApp.length ? 'app' : 'nobody',
          received: hit?.url,
          route: toApp[0]?.route,
          events: [...events],
        };
      },
      async close() {
        await running.close();
        await e.close();
        await backend.close();
      },
    };
  } catch (err) {
    await app?.close();
    await enforcer?.close();
    await backend.close();
    throw err;
  }
}

function rawText(req: RawHttpRequest): string {
  const version = req.hosts.length === 0 ? 'HTTP/1.0' : 'HTTP/1.1';
  const lines = [`${req.method ?? 'GET'} ${req.target} ${version}`];
  for (const h of req.hosts) lines.push(`Host: ${h}`);
  for (const [name, value] of req.headers ?? []) lines.push(`${name}: ${value}`);
  lines.push('Connection: close');
  return `${lines.join('\r\n')}\r\n\r\n`;
}
