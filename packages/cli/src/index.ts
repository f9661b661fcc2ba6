export { main } from './main';
export { startGateway, FRAMEWORKS } from './gateway';
export type { Gateway, GatewayOptions, Framework } from './gateway';
export { startDecideServer } from './decide-server';
export type { DecideServerOptions } from './decide-server';
