import type { CompiledApi } from '../api/compiled-api';

/**
 * `api_mapping.internal_url`: the API's `url` prefix of the (normalised) path is replaced by the
 * internal URL. The prefix was matched case-insensitively, so it is cut by segment count rather
 * than by string comparison; the rest of the path keeps its case and parameters.
 */
export function mapToInternal(api: CompiledApi, path: string): string {
  const internal = api.internalUrl;
  if (internal === undefined) return path;
  const prefixSegments = api.url === '/' ? 0 : api.url.split('/').length - 1;
  let cut = 0;
  for (let seen = 0; seen < prefixSegments; seen++) {
    const next = path.indexOf('/', cut + 1);
    cut = next < 0 ? path.length : next;
  }
  const rest = path.slice(cut);
  if (internal === '/') return rest || '/';
  return rest === '/' || rest === '' ? internal + rest : `${internal}${rest}`;
}
