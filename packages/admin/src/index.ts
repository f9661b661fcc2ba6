/**
 * @ase/admin — the management REST API of the API Security Enforcer (`/v4/ase/...`, as the
 * reference product documents it): one framework-neutral handler, mounts for Express, Koa and
 * Fastify, and a standalone listener for `management_port`.
 */
export { AdminApi, ADMIN_PREFIX, DEFAULT_BODY_LIMIT, createAdmin, isAdminPath, writeAdminResponse } from './admin';
export type { HostPolicy } from './admin';
export { AllowedHosts, defaultAllowedHosts, HOST_NOT_ALLOWED } from './allowed-hosts';
export type { AdminOptions, AdminRequest, AdminResponse, BodySource, ClusterInfo, ClusterNode, ServiceInfo, ThrottleOptions } from './types';
export type { AuditRecord } from './audit-log';
export { MASK, formatAudit } from './audit-log';
export { THROTTLE_DEFAULTS } from './throttle';
export { BodyTooLargeError, readNodeBody } from './node-body';
export { startAdminServer } from './server';
export type { AdminServer, AdminServerOptions } from './server';
export { adminExpress } from './express';
export { adminKoa } from './koa';
export type { KoaContextLike } from './koa';
export { adminFastify } from './fastify';
export type { AdminFastifyOptions, FastifyInstanceLike } from './fastify';
