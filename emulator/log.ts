// The request log tests read: "exactly one write", "no write at all", who called, what was
// sent. Secrets never enter it: request bodies are kept with tokens, assertions and secrets
// replaced by `[redacted]`, and no headers are kept.
export interface LoggedRequest {
  seq: number;
  at: number;
  service: 'github' | 'entra' | 'arm' | 'graph' | 'emulator';
  route: string;
  method: string;
  path: string;
  /** The host name the client used: 127.0.0.1:PORT directly, or an emulated host through the proxy. */
  host: string;
  via: 'direct' | 'proxy';
  apiVersion?: string;
  /** The OData `$filter` of the query, decoded: what a list was asked to hold. */
  filter?: string;
  status: number;
  durationMs: number;
  caller?: string;
  fault?: string;
  /** The request body: parsed JSON, or the fields of a form, redacted. */
  body?: unknown;
  /** The budget a 429 was sent for: `reads`, `writes`, `deletes` or Compute's policy name. */
  throttled?: string;
  /** Set when the client went away before the request was read or answered. */
  aborted?: true;
}

/** A request as it arrived, before anything was answered: hung requests count too. */
export interface Arrival {
  seq: number;
  at: number;
  route: string;
  method: string;
  path: string;
  host: string;
}

/** Refused CONNECT requests of the proxy mode. */
export interface RefusedConnect {
  at: number;
  target: string;
}

export const REDACTED = '[redacted]';
const SECRET_KEY = /token|assertion|secret|password|^code$|^key$|credential/i;

function redactJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactJson);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) && v !== null ? REDACTED : redactJson(v)]));
  }
  return value;
}

/** A request body as the log keeps it. */
export function redactBody(text: string, contentType: string | undefined): unknown {
  if (!text) return undefined;
  if (/json/i.test(contentType ?? '') || /^\s*[[{]/.test(text)) {
    try {
      return redactJson(JSON.parse(text));
    } catch {
      // not JSON after all
    }
  }
  if (/x-www-form-urlencoded/i.test(contentType ?? '')) {
    return Object.fromEntries([...new URLSearchParams(text)].map(([k, v]) => [k, SECRET_KEY.test(k) ? REDACTED : v]));
  }
  return `${REDACTED} (${Buffer.byteLength(text)} bytes, ${contentType ?? 'no content type'})`;
}

export class RequestLog {
  readonly entries: LoggedRequest[] = [];
  readonly refusedConnects: RefusedConnect[] = [];
  /** Every request as it arrived; `entries` has those that were answered (or aborted). */
  readonly arrivals: Arrival[] = [];
  private seq = 0;
  private arrivalSeq = 0;

  arrive(arrival: Omit<Arrival, 'seq'>): void {
    this.arrivals.push({ seq: ++this.arrivalSeq, ...arrival });
  }

  /** Requests to a route (or route prefix) that arrived, answered or not. */
  arrived(prefix: string): Arrival[] {
    return this.arrivals.filter((a) => a.route === prefix || a.route.startsWith(`${prefix}.`));
  }

  add(entry: Omit<LoggedRequest, 'seq'>): void {
    this.entries.push({ seq: ++this.seq, ...entry });
  }

  clear(): void {
    this.entries.length = 0;
    this.refusedConnects.length = 0;
    this.arrivals.length = 0;
  }

  /** Requests to a service or route prefix, e.g. `arm`, `arm.vmss.patch`. */
  of(prefix: string): LoggedRequest[] {
    return this.entries.filter((e) => e.route === prefix || e.route.startsWith(`${prefix}.`) || e.service === prefix);
  }

  /** ARM writes: every PATCH, PUT, POST and DELETE that reached ARM. */
  writes(): LoggedRequest[] {
    return this.entries.filter((e) => e.service === 'arm' && e.method !== 'GET');
  }
}
