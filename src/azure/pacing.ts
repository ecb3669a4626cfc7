// ARM counts every caller's requests per subscription (reads refill 25/s, writes 10/s) and
// Compute per scale set, and says what is left in headers on every answer. A fleet step reads
// them and slows down before a budget reaches zero, instead of running into 429s.
import type { PipelinePolicy, PipelineRequest, PipelineResponse } from '@azure/core-rest-pipeline';
import { sleep } from '../abort.ts';

interface Budget {
  remaining: number;
  /** Requests the bucket regains per second. */
  refillPerSecond: number;
  low: number;
}

const READ = { refillPerSecond: 25, low: 25 };
const WRITE = { refillPerSecond: 10, low: 10 };
/** Compute's per-scale-set windows are minutes long: near zero, wait a while between requests. */
const RESOURCE = { refillPerSecond: 1, low: 3 };

export class Pacer {
  private readonly budgets = new Map<string, Budget>();
  /** Milliseconds spent waiting for budgets, for the log. */
  waitedMs = 0;
  private readonly onSlowDown: (what: string) => void;

  constructor(onSlowDown: (what: string) => void = () => undefined) {
    this.onSlowDown = onSlowDown;
  }

  private key(request: PipelineRequest, kind: 'reads' | 'writes'): string {
    return `${/\/subscriptions\/([^/?]+)/i.exec(new URL(request.url).pathname)?.[1]?.toLowerCase() ?? '-'}|${kind}`;
  }

  /** How long to wait before this request, and the budgets it spends. */
  private async before(request: PipelineRequest): Promise<void> {
    const kind = request.method === 'GET' ? 'reads' : 'writes';
    for (const key of [this.key(request, kind), `${new URL(request.url).pathname.toLowerCase()}|resource`]) {
      const b = this.budgets.get(key);
      if (!b) continue;
      if (b.remaining <= b.low) {
        const waitMs = Math.ceil(((b.low - b.remaining + 1) / b.refillPerSecond) * 1000);
        this.onSlowDown(`${key.split('|')[1]} budget down to ${b.remaining}; waiting ${waitMs} ms`);
        this.waitedMs += waitMs;
        await (request.abortSignal ? sleep(waitMs, request.abortSignal as AbortSignal) : new Promise((r) => setTimeout(r, waitMs)));
        b.remaining += (waitMs / 1000) * b.refillPerSecond;
      }
      b.remaining -= 1;
    }
  }

  private after(request: PipelineRequest, response: PipelineResponse): void {
    const headers = response.headers;
    const kind = request.method === 'GET' ? 'reads' : 'writes';
    const subscription = Number(headers.get(`x-ms-ratelimit-remaining-subscription-${kind}`));
    if (headers.get(`x-ms-ratelimit-remaining-subscription-${kind}`) && Number.isFinite(subscription)) {
      this.budgets.set(this.key(request, kind), { remaining: subscription, ...(kind === 'reads' ? READ : WRITE) });
    }
    // e.g. Microsoft.Compute/GetVMScaleSet3Min;197,Microsoft.Compute/GetVMScaleSet30Min;1297
    const resource = headers.get('x-ms-ratelimit-remaining-resource');
    const counts = (resource ?? '').split(',').map((p) => Number(p.split(';')[1])).filter(Number.isFinite);
    if (counts.length) this.budgets.set(`${new URL(request.url).pathname.toLowerCase()}|resource`, { remaining: Math.min(...counts), ...RESOURCE });
  }

  policy(): PipelinePolicy {
    return {
      name: 'armBudgetPacing',
      sendRequest: async (request, next) => {
        await this.before(request);
        const response = await next(request);
        this.after(request, response);
        return response;
      },
    };
  }
}
