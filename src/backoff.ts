// One waiting rule for every retry loop: what Azure asked for, but never less than a second,
// else exponential backoff with jitter so parallel jobs do not retry in lockstep.
import type { PipelinePolicy } from '@azure/core-rest-pipeline';

export interface HeaderSource {
  get(name: string): string | undefined;
}

/**
 * How long the server asked us to wait, in ms: `retry-after-ms` / `x-ms-retry-after-ms`
 * (milliseconds), else `Retry-After` as seconds or as an HTTP date.
 */
export function retryAfterMs(headers: HeaderSource | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  for (const name of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const ms = Number(headers.get(name));
    if (headers.get(name) && Number.isFinite(ms) && ms >= 0) return ms;
  }
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The least wait Azure can ask for: a Retry-After of 0, a negative one, or a date in the past
 * would otherwise mean "at once", and a loop that obeys it hammers ARM (5,738 polls in 9 s).
 */
export const MIN_RETRY_AFTER_MS = 1000;

/** What Azure asked for (retryAfterMs), never under MIN_RETRY_AFTER_MS; undefined when it asked nothing. */
export function askedWaitMs(headers: HeaderSource | undefined, now = Date.now()): number | undefined {
  const asked = retryAfterMs(headers, now);
  return asked === undefined ? undefined : Math.max(MIN_RETRY_AFTER_MS, asked);
}

/** attempt 0, 1, 2 … → about 1 s, 2 s, 4 s … capped at `capMs`, with jitter in the upper half. */
export function backoffMs(attempt: number, headers?: HeaderSource, capMs = 30_000, baseMs = 1000): number {
  const asked = askedWaitMs(headers);
  if (asked !== undefined) return asked;
  const cap = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 10));
  return Math.round(cap / 2 + Math.random() * (cap / 2));
}

/** Headers of a RestError, a raw response or a plain record, for retryAfterMs(). */
export function headersOf(source: unknown): HeaderSource | undefined {
  const s = source as { response?: { headers?: unknown }; headers?: unknown } | undefined;
  const h = s?.response?.headers ?? s?.headers;
  if (!h || typeof h !== 'object') return undefined;
  if (typeof (h as HeaderSource).get === 'function') return h as HeaderSource;
  const record = h as Record<string, string | undefined>;
  return { get: (name) => record[name] ?? record[name.toLowerCase()] };
}

const RETRY_AFTER_HEADERS = ['retry-after-ms', 'x-ms-retry-after-ms', 'retry-after'];

/**
 * For the SDK's own retries of reads (429 and 503 with a Retry-After, retried at once when it
 * says 0 or less): the answer asks for what askedWaitMs makes of it, in the one header the
 * SDK's retry policy reads first.
 */
export function retryAfterFloorPolicy(): PipelinePolicy {
  return {
    name: 'vmssRetryAfterFloor',
    sendRequest: async (request, next) => {
      const response = await next(request);
      if ((response.status !== 429 && response.status !== 503) || !RETRY_AFTER_HEADERS.some((h) => response.headers.has(h))) return response;
      const asked = askedWaitMs(response.headers) ?? MIN_RETRY_AFTER_MS;
      for (const name of RETRY_AFTER_HEADERS) response.headers.delete(name);
      response.headers.set('retry-after-ms', String(asked));
      return response;
    },
  };
}
