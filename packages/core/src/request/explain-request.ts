import { isIP } from 'node:net';
import { explainRequestInvalid } from '../errors';

/** A request to explain: what `POST /v4/ase/explain` and `ase explain` take. */
export interface ExplainRequest {
  method: string;
  /** The request target: a path (`/shop/cart?x=1`) or an absolute URL, whose host stands in for a missing Host header. */
  url: string;
  /** Header names in any case; a value may be a list (repeated header lines). */
  headers?: Readonly<Record<string, string | readonly string[]>>;
  /** The client's address as the enforcer would see the socket peer; 127.0.0.1 when absent. */
  ip?: string;
}

const KEYS = ['method', 'url', 'headers', 'ip'];
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** As large as a request the enforcer's adapters would take (Node's default header limit is 16 KiB). */
const MAX_HEADERS = 100;
const MAX_TEXT = 16384;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function headerValue(name: string, v: unknown): string | string[] {
  const values = typeof v === 'string' ? [v] : Array.isArray(v) ? v : undefined;
  if (!values || values.length === 0 || !values.every((x): x is string => typeof x === 'string' && x.length <= MAX_TEXT && !/[\r\n\0]/.test(x))) {
    throw explainRequestInvalid(`headers/${name}: a header value is a string (or a list of strings) without CR, LF or NUL`);
  }
  return typeof v === 'string' ? v : values;
}

/** Checks a body given to explain; the problem is named after its JSON path. */
export function parseExplainRequest(body: unknown): ExplainRequest {
  if (!isObject(body)) throw explainRequestInvalid('the body must be an object like {"method": "GET", "url": "/shop/cart", "headers": {"Host": "shop.example"}, "ip": "192.0.2.1"}');
  const extra = Object.keys(body).find((k) => !KEYS.includes(k));
  if (extra !== undefined) throw explainRequestInvalid(`unknown key \`${extra}\`; known keys: ${KEYS.join(', ')}`);
  const { method, url, headers, ip } = body;
  if (typeof method !== 'string' || method.length > 32 || !TOKEN.test(method)) throw explainRequestInvalid('method: an HTTP method such as GET is required');
  if (typeof url !== 'string' || url.length === 0 || url.length > MAX_TEXT || /[\s\0]/.test(url)) {
    throw explainRequestInvalid('url: a request target such as /shop/cart?x=1 (or http://shop.example/cart) is required');
  }
  const out: { method: string; url: string; headers?: Record<string, string | string[]>; ip?: string } = { method, url };
  if (headers !== undefined) {
    if (!isObject(headers)) throw explainRequestInvalid('headers: an object of header names and values');
    const names = Object.keys(headers);
    if (names.length > MAX_HEADERS) throw explainRequestInvalid(`headers: at most ${MAX_HEADERS} headers`);
    out.headers = Object.create(null) as Record<string, string | string[]>;
    for (const name of names) {
      if (!TOKEN.test(name)) throw explainRequestInvalid(`headers: \`${name.slice(0, 64)}\` is not a header name`);
      out.headers[name] = headerValue(name, headers[name]);
    }
  }
  if (ip !== undefined) {
    if (typeof ip !== 'string' || isIP(ip) === 0) throw explainRequestInvalid('ip: an IPv4 or IPv6 address such as 192.0.2.1');
    out.ip = ip;
  }
  return out;
}
