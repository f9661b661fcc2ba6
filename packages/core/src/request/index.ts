/** Request parsing: target normalisation, client IP, Host, cookies and query parameters. */
export { normalizeTarget, toMatchPath } from './normalize-path';
export type { NormalizedTarget } from './normalize-path';
export {
  canonicalIp,
  isIpOrCidr,
  resolveClientIp,
  TrustedProxies,
  XFF_MAX_CHARS,
  XFF_MAX_ENTRIES,
} from './client-ip';
export type { ClientIpOptions } from './client-ip';
export { parseHost } from './host';
export type { ParsedHost } from './host';
export { decodeFormComponent, getQueryParam, MAX_COOKIE_HEADER, MAX_COOKIES, parseCookies } from './cookies';
