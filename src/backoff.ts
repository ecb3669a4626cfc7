// One waiting rule for every retry loop: what Azure asked for, else exponential backoff with
// jitter so parallel jobs do not retry in lockstep.

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

/** attempt 0, 1, 2 … → about 1 s, 2 s, 4 s … capped at `capMs`, with jitter in the upper half. */
export function backoffMs(attempt: number, headers?: HeaderSource, capMs = 30_000, baseMs = 1000): number {
  const asked = retryAfterMs(headers);
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
