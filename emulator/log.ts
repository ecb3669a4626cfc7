// The request log tests read: "exactly one write", "no write at all", who called.
// Tokens never enter it: only method, path, api-version, status, timing and caller.
export interface LoggedRequest {
  seq: number;
  at: number;
  service: 'github' | 'entra' | 'arm' | 'emulator';
  route: string;
  method: string;
  path: string;
  apiVersion?: string;
  status: number;
  durationMs: number;
  caller?: string;
  fault?: string;
}

export class RequestLog {
  readonly entries: LoggedRequest[] = [];
  private seq = 0;

  add(entry: Omit<LoggedRequest, 'seq'>): void {
    this.entries.push({ seq: ++this.seq, ...entry });
  }

  clear(): void {
    this.entries.length = 0;
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
