import { maskIdentifier } from '../logs/mask';
import type { ClientIdentifiers } from './identifiers';

/** Longest user name written as it is; a longer one is cut (a proxy's header buffer is small). */
const MAX_NAME = 64;

/**
 * The client's strongest identifier as `type:value`, masked as the access log masks it: the
 * token, else the API key, else the cookie, else the user name when the enforcer trusts it
 * (a verified JWT, or `username_header` from a trusted proxy), else the IP. A user name a client
 * can forge is never named: whoever reads this header may take it for the user.
 * The value is header-safe: anything outside printable ASCII, `%` and space are percent-encoded.
 */
export function maskedClient(ids: ClientIdentifiers): string {
  if (ids.token !== undefined) return `token:${headerSafe(maskIdentifier('token', ids.token))}`;
  if (ids.apiKey) return `api_key:${headerSafe(maskIdentifier('api_key', ids.apiKey.value))}`;
  if (ids.cookie) return `cookie:${headerSafe(maskIdentifier('cookie', ids.cookie.value))}`;
  if (ids.username !== undefined && ids.usernameTrusted === true) {
    const name = ids.username.length > MAX_NAME ? `${ids.username.slice(0, MAX_NAME)}...` : ids.username;
    return `username:${headerSafe(name)}`;
  }
  return `ip:${ids.ip}`;
}

/** `s` with every character outside `!`..`~`, and `%`, percent-encoded as UTF-8 (a lone surrogate as U+FFFD). */
function headerSafe(s: string): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return s;
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && c > 0x20 && c < 0x7f && c !== 0x25) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b < 16 ? '0' : ''}${b.toString(16).toUpperCase()}`;
  }
  return out;
}
