/**
 * Identifier values can be credentials of API clients (tokens, API keys, cookies), so every log
 * (access log, admin audit log) writes only a prefix; ip and username stay readable for triage.
 */
export function maskIdentifier(type: string, value: string): string {
  if (type === 'ip' || type === 'username') return value;
  return value.length <= 4 ? '****' : `${value.slice(0, 4)}****`;
}
