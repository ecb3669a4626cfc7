// A reusable engine for ARM's long-running operations: each write starts an operation that
// finishes after a planned time (or never, or fails), clients follow it through the
// Azure-AsyncOperation URL (status document) or the Location URL (202 until done, then 200).
import type { Exchange, Headers } from './http.ts';
import { send } from './http.ts';
import type { IdSource } from './ids.ts';

export interface OperationPlan {
  outcome?: 'Succeeded' | 'Failed' | 'Never';
  durationMs?: number;
  error?: { code: string; message: string };
}

export interface Operation {
  id: string;
  subscriptionId: string;
  location: string;
  /** What the operation works on (lower-case resource id): one write at a time per resource. */
  resourceKey: string;
  kind: string;
  startedAt: number;
  /** When the emulator marks the operation finished (Infinity: never). */
  endsAt: number;
  outcome: 'Succeeded' | 'Failed';
  error?: { code: string; message: string };
  settled: boolean;
  polls: number;
  onSuccess: () => void;
  onFailure: () => void;
}

export interface OperationSettings {
  /** How long an update takes in Azure; the reference saw 5-33 s, tests use less. */
  updateDurationMs: number;
  /** Plans for the next operations, consumed in order. */
  nextOperations: OperationPlan[];
  /** A Retry-After (seconds) to put on write answers and status polls; Compute sends none. */
  retryAfterSeconds?: number;
}

export interface StartRequest {
  subscriptionId: string;
  location: string;
  resourceId: string;
  kind: string;
  onSuccess: () => void;
  onFailure: () => void;
}

/** ARM's timestamp style: 7 fractional digits and +00:00. */
export function armTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000+00:00');
}

export class OperationEngine {
  readonly operations: Map<string, Operation>;
  private readonly settings: OperationSettings;
  private readonly ids: IdSource;
  private readonly provider: string;

  constructor(settings: OperationSettings, ids: IdSource, provider: string, operations = new Map<string, Operation>()) {
    this.settings = settings;
    this.ids = ids;
    this.provider = provider;
    this.operations = operations;
  }

  /** Operations not settled yet: settling walks these only, not every operation ever started. */
  private readonly pending = new Set<Operation>();

  /** Applies operations whose time has come. Called whenever a resource or operation is read. */
  settle(): void {
    const now = Date.now();
    for (const op of this.pending) {
      if (op.settled) {
        this.pending.delete(op);
        continue;
      }
      if (now < op.endsAt) continue;
      op.settled = true;
      this.pending.delete(op);
      if (op.outcome === 'Succeeded') op.onSuccess();
      else op.onFailure();
    }
  }

  busy(resourceId: string): boolean {
    this.settle();
    const key = resourceId.toLowerCase();
    for (const op of this.pending) if (!op.settled && op.resourceKey === key) return true;
    return false;
  }

  start(r: StartRequest): Operation {
    const plan = this.settings.nextOperations.shift() ?? {};
    const now = Date.now();
    const op: Operation = {
      id: this.ids.guid(),
      subscriptionId: r.subscriptionId,
      location: r.location,
      resourceKey: r.resourceId.toLowerCase(),
      kind: r.kind,
      startedAt: now,
      endsAt: plan.outcome === 'Never' ? Infinity : now + (plan.durationMs ?? this.settings.updateDurationMs),
      outcome: plan.outcome === 'Failed' ? 'Failed' : 'Succeeded',
      ...(plan.outcome === 'Failed'
        ? { error: plan.error ?? { code: 'InternalExecutionError', message: 'An internal execution error occurred. Please retry later.' } }
        : {}),
      settled: false,
      polls: 0,
      onSuccess: r.onSuccess,
      onFailure: r.onFailure,
    };
    this.operations.set(op.id.toLowerCase(), op);
    this.pending.add(op);
    return op;
  }

  url(x: Exchange, op: Operation, apiVersion: string, monitor = false): string {
    const q = new URLSearchParams({ p: this.ids.guid(), ...(monitor ? { monitor: 'true' } : {}), 'api-version': apiVersion });
    return `${x.base}/subscriptions/${op.subscriptionId}/providers/${this.provider}/locations/${op.location}/operations/${op.id}?${q}`;
  }

  retryAfter(): Headers {
    return this.settings.retryAfterSeconds !== undefined ? { 'retry-after': String(this.settings.retryAfterSeconds) } : {};
  }

  /** 202 Accepted with both ways to follow the operation, as Compute answers POST and DELETE. */
  accepted(x: Exchange, op: Operation, apiVersion: string, headers: Headers): Promise<void> {
    return send(x, 202, undefined, {
      'azure-asyncoperation': this.url(x, op, apiVersion),
      location: this.url(x, op, apiVersion, true),
      'azure-asyncnotification': 'Enabled',
      ...headers,
    });
  }

  /** Answers a poll of the status URL or the Location (monitor) URL. */
  status(x: Exchange, subscriptionId: string, operationId: string, headers: Headers): Promise<void> | undefined {
    this.settle();
    const op = this.operations.get(operationId.toLowerCase());
    if (!op || op.subscriptionId.toLowerCase() !== subscriptionId.toLowerCase()) return undefined;
    op.polls++;
    const retry = this.retryAfter();
    if (x.url.searchParams.get('monitor') === 'true') {
      if (!op.settled) return send(x, 202, undefined, { location: `${x.base}${x.url.pathname}${x.url.search}`, ...retry, ...headers });
      return send(x, 200, undefined, headers);
    }
    return send(x, 200, {
      startTime: armTime(op.startedAt),
      ...(op.settled ? { endTime: armTime(op.endsAt) } : {}),
      status: op.settled ? op.outcome : 'InProgress',
      ...(op.settled && op.error ? { error: op.error } : {}),
      name: op.id,
    }, { ...headers, ...(op.settled ? {} : retry) });
  }
}
