// ARM counts every caller's requests per subscription (reads refill 25/s, writes 10/s) and
// Compute per scale set, and says what is left in headers on every answer. A fleet step reads
// them and slows down before a budget reaches zero, instead of running into 429s.
import type { PipelinePolicy, PipelineRequest, PipelineResponse } from '@azure/core-rest-pipeline';
import { sleep } from '../abort.ts';

interface Budget {
  /** What the last answer said was left. */
  remaining: number;
  /** Requests sent since that answer whose own answers have not come back: they spend it too. */
  inFlight: number;
  /** Requests the bucket regains per second. */
  refillPerSecond: number;
  /** At or below this many, requests are spaced at the refill rate. */
  low: number;
  /** When the next spaced request may leave. */
  nextSlot: number;
}

const READ = { refillPerSecond: 25, low: 25 };
const WRITE = { refillPerSecond: 10, low: 10 };
/** Compute's per-scale-set windows are minutes long and one step writes each scale set once: space only at zero. */
const RESOURCE = { refillPerSecond: 1, low: 0 };

type Kind = 'reads' | 'writes';

export class Pacer {
  private readonly budgets = new Map<string, Budget>();
  /**
   * Milliseconds of the run during which at least one request was waiting for a budget: a
   * span of time, not a sum over requests (50 requests waiting the same second count once).
   */
  waitingMs = 0;
  /** The longest one request waited, in milliseconds. */
  longestWaitMs = 0;
  private waiting = 0;
  private waitingSince = 0;
  private readonly onSlowDown: (what: string) => void;

  constructor(onSlowDown: (what: string) => void = () => undefined) {
    this.onSlowDown = onSlowDown;
  }

  private keys(request: PipelineRequest): string[] {
    const kind: Kind = request.method === 'GET' ? 'reads' : 'writes';
    const path = new URL(request.url).pathname.toLowerCase();
    const subscription = /\/subscriptions\/([^/]+)/.exec(path)?.[1] ?? '-';
    // Compute counts reads and writes of one resource against different policies.
    return [`${subscription}|${kind}`, `${path}|resource-${kind}`];
  }

  private async before(request: PipelineRequest): Promise<void> {
    for (const key of this.keys(request)) {
      const b = this.budgets.get(key);
      if (!b) continue;
      if (b.remaining - b.inFlight <= b.low) {
        const now = Date.now();
        const slot = Math.max(now, b.nextSlot);
        b.nextSlot = slot + 1000 / b.refillPerSecond;
        const waitMs = slot - now;
        if (waitMs > 0) {
          this.onSlowDown(`${key}: ${b.remaining} left, ${b.inFlight} in flight; waiting ${waitMs} ms`);
          this.longestWaitMs = Math.max(this.longestWaitMs, waitMs);
          if (this.waiting++ === 0) this.waitingSince = Date.now();
          try {
            await (request.abortSignal ? sleep(waitMs, request.abortSignal as AbortSignal) : new Promise((r) => setTimeout(r, waitMs)));
          } finally {
            if (--this.waiting === 0) this.waitingMs += Date.now() - this.waitingSince;
          }
        }
      }
      b.inFlight++;
    }
  }

  private after(request: PipelineRequest, response: PipelineResponse | undefined): void {
    const kind: Kind = request.method === 'GET' ? 'reads' : 'writes';
    const [subscriptionKey, resourceKey] = this.keys(request) as [string, string];
    const settle = (key: string, remaining: number | undefined, shape: typeof READ) => {
      const b = this.budgets.get(key);
      if (b) b.inFlight = Math.max(0, b.inFlight - 1);
      if (remaining === undefined) return;
      if (b) b.remaining = remaining;
      else this.budgets.set(key, { remaining, inFlight: 0, nextSlot: 0, ...shape });
    };
    const header = response?.headers.get(`x-ms-ratelimit-remaining-subscription-${kind}`);
    settle(subscriptionKey, header && Number.isFinite(Number(header)) ? Number(header) : undefined, kind === 'reads' ? READ : WRITE);
    // e.g. Microsoft.Compute/GetVMScaleSet3Min;197,Microsoft.Compute/GetVMScaleSet30Min;1297
    const counts = (response?.headers.get('x-ms-ratelimit-remaining-resource') ?? '').split(',').map((p) => Number(p.split(';')[1])).filter(Number.isFinite);
    settle(resourceKey, counts.length ? Math.min(...counts) : undefined, RESOURCE);
  }

  policy(): PipelinePolicy {
    return {
      name: 'armBudgetPacing',
      sendRequest: async (request, next) => {
        await this.before(request);
        let response: PipelineResponse | undefined;
        try {
          response = await next(request);
          return response;
        } finally {
          this.after(request, response);
        }
      },
    };
  }
}
