import type { CompiledApi } from '../api/compiled-api';
import { compileApi } from '../api/compiled-api';
import { validateApiJson } from '../config/api-schema';
import type { ApiJson, FlowControlJson, ServerJson } from '../config/types';
import { AseConfigError, type ConfigProblem, duplicateServer, invalidConfig, unknownServer } from '../errors';
import { serverId } from '../upstream/server-pool';

/*
 * The edits the management API makes to one API definition (servers, flow control), as pure
 * functions from the current definition to the next one. Each result is validated by the API JSON
 * schema; problems are reported against the request body (`/server/port`), not the whole file.
 */

/** Label of problems found in a management request body. */
export const BODY = 'request body';

function clone(json: ApiJson): ApiJson {
  return JSON.parse(JSON.stringify(json)) as ApiJson;
}

/** Validates `candidate`; problems under `from` are reported as `to` in the request body. */
function validated(candidate: unknown, from: string, to: string): ApiJson {
  try {
    return validateApiJson(candidate, BODY).api;
  } catch (err) {
    if (!(err instanceof AseConfigError)) throw err;
    throw invalidConfig(
      err.problems.map((p) => ({ ...p, file: BODY, path: p.path === from || p.path.startsWith(`${from}/`) ? to + p.path.slice(from.length) : p.path })),
    );
  }
}

function problem(path: string, message: string, value?: unknown): AseConfigError {
  const p: ConfigProblem = { file: BODY, path, message };
  if (value !== undefined) p.value = value;
  return invalidConfig([p]);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `{host, port}` of a server named in a request body; both required. */
export function serverKey(input: unknown, at = '/server'): { host: string; port: number } {
  if (!isPlainObject(input)) throw problem(at, 'must be an object like {"host": "127.0.0.1", "port": 8080}', input);
  const host = input['host'];
  const port = input['port'];
  if (typeof host !== 'string' || host.trim() === '' || host.length > 253) throw problem(`${at}/host`, 'must be a host name or IP address', host);
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) throw problem(`${at}/port`, 'must be a port number from 1 to 65535', port);
  return { host, port };
}

function indexOfServer(servers: readonly ServerJson[], key: { host: string; port: number }): number {
  const host = key.host.toLowerCase();
  return servers.findIndex((s) => s.host.toLowerCase() === host && s.port === key.port);
}

/** The API with one more server. Refused when a server with the same host and port exists. */
export function withServerAdded(api: CompiledApi, input: unknown): { json: ApiJson; server: ServerJson } {
  const key = serverKey(input);
  const next = clone(api.json);
  const servers = next.api_metadata.servers as unknown[];
  if (indexOfServer(next.api_metadata.servers, key) >= 0) throw duplicateServer(api.id, serverId(key.host, key.port));
  servers.push(input);
  const json = validated(next, `/api_metadata/servers/${servers.length - 1}`, '/server');
  return { json, server: json.api_metadata.servers[json.api_metadata.servers.length - 1]! };
}

/** The API without the server `{host, port}`. */
export function withServerRemoved(api: CompiledApi, input: unknown): ApiJson {
  const key = serverKey(input);
  const next = clone(api.json);
  const i = indexOfServer(next.api_metadata.servers, key);
  if (i < 0) throw unknownServer(api.id, serverId(key.host, key.port));
  next.api_metadata.servers.splice(i, 1);
  return validated(next, '/api_metadata/servers', '/server');
}

/** The API with a server's `server_connection_quota` / `server_spike_threshold` changed. */
export function withServerFlowControl(api: CompiledApi, input: unknown): { json: ApiJson; server: ServerJson } {
  const key = serverKey(input);
  const next = clone(api.json);
  const i = indexOfServer(next.api_metadata.servers, key);
  if (i < 0) throw unknownServer(api.id, serverId(key.host, key.port));
  const current = next.api_metadata.servers[i]!;
  const { host: _h, port: _p, ...changes } = input as Record<string, unknown>;
  (next.api_metadata.servers as unknown[])[i] = { ...current, ...changes };
  const json = validated(next, `/api_metadata/servers/${i}`, '/server');
  return { json, server: json.api_metadata.servers[i]! };
}

/** The API with keys of its `flow_control` changed (the others keep their values). */
export function withFlowControl(api: CompiledApi, input: unknown): { json: ApiJson; flowControl: FlowControlJson } {
  if (!isPlainObject(input)) throw problem('/flow_control', 'must be an object like {"client_spike_threshold": "100/second"}', input);
  const next = clone(api.json);
  (next.api_metadata as unknown as Record<string, unknown>)['flow_control'] = { ...next.api_metadata.flow_control, ...input };
  const json = validated(next, '/api_metadata/flow_control', '/flow_control');
  return { json, flowControl: json.api_metadata.flow_control };
}

/** The id of another API with the same hostname and url as `json`, if any. */
export function routeConflict(apis: Iterable<CompiledApi>, id: string, json: ApiJson): string | undefined {
  const c = compileApi(id, json);
  for (const other of apis) {
    if (other.id !== id && other.hostname === c.hostname && other.matchUrl === c.matchUrl) return other.id;
  }
  return undefined;
}
