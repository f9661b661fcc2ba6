/** prom-client, the module: loaded on first use, so an enforcer whose metrics nobody reads never pays for it. */
export type PromClient = typeof import('prom-client');

let loaded: PromClient | undefined;

export function promClient(): PromClient {
  return (loaded ??= require('prom-client') as PromClient);
}
