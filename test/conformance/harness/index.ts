import { expressHarness } from './express';
import { fastifyHarness } from './fastify';
import { koaHarness } from './koa';
import type { Harness } from './types';

export const HARNESSES: readonly Harness[] = [expressHarness, koaHarness, fastifyHarness];
export type { Framework, Harness, HostAppRequest, RunningApp } from './types';
