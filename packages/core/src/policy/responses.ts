/** An answer the enforcer gives itself, written back by the adapter or the proxy. */
export interface ResponseSpec {
  status: number;
  /** Reason phrase; Node's default for the status when empty. */
  reason: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * The fixed answers of the reference product. Bodies are plain text and never echo request data,
 * so nothing an attacker sends can be reflected into a response or a header.
 */
export function textResponse(status: number, reason: string, body: string, headers: Record<string, string> = {}): ResponseSpec {
  return {
    status,
    reason: sanitizeReason(reason),
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers },
    body,
  };
}

/** A reason phrase must not carry CR/LF or other control characters (Node throws on them). */
export function sanitizeReason(r: string): string {
  // eslint-disable-next-line no-control-regex
  return r.replace(/[\x00-\x1f\x7f]/g, '').slice(0, 128);
}

export const RESPONSES = Object.freeze({
  malformed: (): ResponseSpec => textResponse(400, 'Bad Request', 'Error: Malformed Request'),
  unknownApi: (): ResponseSpec => textResponse(503, 'Service Unavailable', 'Error: Unknown API'),
  unknownHostname: (): ResponseSpec => textResponse(503, 'Service Unavailable', 'Error: Unknown Hostname'),
  noBackend: (): ResponseSpec => textResponse(503, 'Service Unavailable', 'Error: No Backend Available'),
  /** Every server of the API is at its quota or spike threshold (and the queue, if any, gave up). */
  busy: (retryAfterSeconds: number): ResponseSpec =>
    textResponse(503, 'Service Unavailable', 'Error: Service Unavailable', { 'retry-after': String(retryAfterSeconds) }),
  badGateway: (): ResponseSpec => textResponse(502, 'Bad Gateway', 'Error: Bad Gateway'),
  gatewayTimeout: (): ResponseSpec => textResponse(504, 'Gateway Timeout', 'Error: Gateway Timeout'),
  health: (): ResponseSpec => textResponse(200, 'OK', 'OK'),
});
