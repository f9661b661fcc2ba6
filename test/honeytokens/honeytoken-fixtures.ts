/** The honeytoken tests' APIs (a fake `/.env` decoy planting all three kinds) and how to read what it planted. */
import { api, pattern } from '../helpers/config';

const ENV = 'APP_ENV=production\nAPI_KEY=${api_key}\nAUTH_TOKEN=${bearer_token}\n';
export const HONEYTOKEN_APIS = {
  ops: api('/ops', {
    enable_blocking: true,
    decoy_config: {
      decoy_enabled: true,
      response_code: 200,
      response_def: 'OK',
      response_message: ENV,
      decoy_subpaths: ['/ops/.env'],
      honeytokens: { api_key: true, bearer_token: true, cookie: 'session' },
    },
  }),
  shop: api('/shop', { enable_blocking: true, oauth2_access_token: true, apikey_header: 'x-shop-key', api_pattern_enforcement: pattern({ error_code: '' }) }),
  watch: api('/watch', { enable_blocking: false, oauth2_access_token: true }),
};
export const CONF = 'enable_ase_detected_attack=true\nenable_xff=true\nxff_trusted_proxies=127.0.0.1\n';

export const ATTACKER = '203.0.113.7';
export const from = (ip: string, headers: Record<string, string> = {}): Record<string, string> => ({ 'x-forwarded-for': ip, ...headers });

/** The values a decoy answer planted. */
export function planted(body: string, setCookie: string[] | undefined): { apiKey: string; bearer: string; cookie: string } {
  const apiKey = /^API_KEY=(sk_live_[A-Za-z0-9]{32})$/m.exec(body)?.[1];
  const bearer = /^AUTH_TOKEN=([A-Za-z0-9]{40})$/m.exec(body)?.[1];
  const cookie = /^session=([A-Za-z0-9]{32}); Path=\/; HttpOnly$/.exec(setCookie?.[0] ?? '')?.[1];
  if (!apiKey || !bearer || !cookie) throw new Error(`no planted values in ${JSON.stringify(body)} / ${String(setCookie)}`);
  return { apiKey, bearer, cookie };
}

