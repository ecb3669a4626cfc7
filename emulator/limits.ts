// ARM's request limits (reference 14.5, 5.1, 4.1): token buckets at the front door per
// subscription and caller (reads, writes, deletes, with a subscription-wide bucket 15 times as
// large), and Compute's own policies per scale set, per operation and per subscription. Every
// ARM answer carries the remaining counts; a request over a budget gets 429 with Retry-After.
import type { Headers } from './http.ts';

/** A token bucket: `capacity` requests at once, refilled at `perSecond` (fractions allowed). */
export interface Bucket {
  capacity: number;
  perSecond: number;
}

/** Compute's policies, named as Compute names them in `x-ms-ratelimit-remaining-resource`. */
export type ComputePolicy =
  | 'GetVMScaleSet3Min' | 'GetVMScaleSet30Min' | 'GetVMScaleSetSubscriptionMaximum' | 'GetVMScaleSetResource'
  | 'HighCostGet3Min' | 'HighCostGet30Min'
  | 'VMScaleSetActionsResource' | 'VMScaleSetActionsSubscriptionMaximum'
  | 'GetOperationResource' | 'GetOperationSubscriptionMaximum';

/**
 * The emulator's budgets. Defaults follow the reference: ARM's front door 250 reads refilling
 * 25/s, 200 writes and 200 deletes refilling 10/s, per subscription and caller (tenant-level
 * calls: per tenant and caller), and 15 times that per subscription for all callers together;
 * Compute's policies as in `DEFAULT_BUDGETS.compute`. Set `off: true` to enforce nothing (the
 * headers then stay at full capacity). Every field may be given alone: the rest keep their
 * defaults. Changing budgets resets the buckets.
 */
export interface Budgets {
  off: boolean;
  reads: Bucket;
  writes: Bucket;
  deletes: Bucket;
  /** The subscription-wide buckets are this many times the per-caller ones (docs: 15). */
  subscriptionFactor: number;
  compute: Record<ComputePolicy, Bucket>;
}

export type BudgetsInput = Partial<Omit<Budgets, 'compute'>> & { compute?: Partial<Record<ComputePolicy, Bucket>> };

const perWindow = (capacity: number, seconds: number): Bucket => ({ capacity, perSecond: capacity / seconds });

/**
 * Compute's defaults. Per scale set: 200 GETs per 3 minutes and 1,300 per 30 minutes (the
 * reference's `GetVMScaleSet3Min;197`, `GetVMScaleSet30Min;1297`), `GetVMScaleSetResource` 120 a
 * minute, 12 writes at once refilling one a second (`VMScaleSetActionsResource;11` after one
 * PATCH; the refill is quicker than a per-minute reading so that retries of one scale set wait 1 s). Per subscription:
 * 2,400 scale-set GETs and 1,500 writes per 3 minutes (`…SubscriptionMaximum;2399` and `;1499`),
 * list pages 250 per 3 minutes and 800 per 30 minutes (`HighCostGet30Min` allowed 800, §5.1),
 * 15,000 status polls per 3 minutes; per operation 45 polls a minute (`GetOperationResource;44`).
 * The windows are this emulator's reading; Azure publishes the names and counts, not the refill.
 */
export const DEFAULT_BUDGETS: Budgets = {
  off: false,
  reads: { capacity: 250, perSecond: 25 },
  writes: { capacity: 200, perSecond: 10 },
  deletes: { capacity: 200, perSecond: 10 },
  subscriptionFactor: 15,
  compute: {
    GetVMScaleSet3Min: perWindow(200, 180),
    GetVMScaleSet30Min: perWindow(1300, 1800),
    GetVMScaleSetSubscriptionMaximum: perWindow(2400, 180),
    GetVMScaleSetResource: perWindow(120, 60),
    HighCostGet3Min: perWindow(250, 180),
    HighCostGet30Min: perWindow(800, 1800),
    VMScaleSetActionsResource: perWindow(12, 12),
    VMScaleSetActionsSubscriptionMaximum: perWindow(1500, 180),
    GetOperationResource: perWindow(45, 60),
    GetOperationSubscriptionMaximum: perWindow(15000, 180),
  },
};

export function mergeBudgets(base: Budgets, input: BudgetsInput | 'off' | undefined): Budgets {
  if (input === 'off') return { ...structuredClone(base), off: true };
  if (!input) return structuredClone(base);
  return {
    off: input.off ?? base.off,
    reads: input.reads ?? base.reads,
    writes: input.writes ?? base.writes,
    deletes: input.deletes ?? base.deletes,
    subscriptionFactor: input.subscriptionFactor ?? base.subscriptionFactor,
    compute: { ...base.compute, ...(input.compute ?? {}) },
  };
}

/** What a request costs: the front door's kind, and Compute's policies with the key each is counted under. */
export interface Charge {
  kind: 'reads' | 'writes' | 'deletes';
  /** `sub:<id>` or `tenant:<id>` */
  scope: string;
  caller: string;
  compute: { policy: ComputePolicy; key: string }[];
}

/** A 429 to send: who refused, the policy, and the seconds to wait. */
export type Refusal =
  | { by: 'arm'; kind: Charge['kind']; scope: string; retryAfter: number; headers: Headers }
  | { by: 'compute'; policy: ComputePolicy; bucket: Bucket; retryAfter: number; headers: Headers };

interface Live {
  tokens: number;
  at: number;
}

export class Limits {
  budgets: Budgets;
  /** 429s sent because a budget ran out (fault rules are not counted). */
  throttled = 0;
  /** The same, by policy: `reads`, `writes`, `deletes` (front door) or Compute's policy name. */
  readonly throttledBy: Record<string, number> = {};
  private buckets = new Map<string, Live>();

  constructor(budgets: Budgets) {
    this.budgets = budgets;
  }

  set(input: BudgetsInput | 'off'): void {
    this.budgets = mergeBudgets(this.budgets, input);
    this.buckets.clear();
  }

  private level(key: string, b: Bucket, now: number): Live {
    let live = this.buckets.get(key);
    if (!live) {
      live = { tokens: b.capacity, at: now };
      this.buckets.set(key, live);
    }
    live.tokens = Math.min(b.capacity, live.tokens + ((now - live.at) / 1000) * b.perSecond);
    live.at = now;
    return live;
  }

  private wait(live: Live, b: Bucket): number {
    return Math.max(1, Math.ceil((1 - live.tokens) / Math.max(b.perSecond, 1e-9)));
  }

  /**
   * Takes one token from every bucket the request draws on, or none when one of them is empty.
   * Returns the headers for the answer and, when refused, the 429 to send.
   */
  charge(c: Charge, now = Date.now()): { headers: Headers; refusal?: Refusal } {
    const b = this.budgets;
    const front = b[c.kind];
    const wide: Bucket = { capacity: front.capacity * b.subscriptionFactor, perSecond: front.perSecond * b.subscriptionFactor };
    if (b.off) return { headers: this.headersFor(c, front.capacity, c.compute.map((p) => [p.policy, b.compute[p.policy].capacity])) };
    const mine = this.level(`${c.kind}|${c.scope}|${c.caller}`.toLowerCase(), front, now);
    const all = this.level(`${c.kind}|${c.scope}`.toLowerCase(), wide, now);
    const policies = c.compute.map((p) => ({ ...p, bucket: b.compute[p.policy], live: this.level(`${p.policy}|${p.key}`.toLowerCase(), b.compute[p.policy], now) }));
    const remaining = () => Math.floor(Math.min(mine.tokens, all.tokens / b.subscriptionFactor));
    if (mine.tokens < 1 || all.tokens < 1) {
      const retryAfter = Math.max(mine.tokens < 1 ? this.wait(mine, front) : 0, all.tokens < 1 ? this.wait(all, wide) : 0);
      const headers = this.headersFor(c, Math.max(0, remaining()), policies.map((p) => [p.policy, Math.floor(p.live.tokens)]));
      return { headers, refusal: { by: 'arm', kind: c.kind, scope: c.scope, retryAfter, headers } };
    }
    const empty = policies.find((p) => p.live.tokens < 1);
    if (empty) {
      // Compute refuses after the front door let the request through: the front door's token is spent.
      mine.tokens -= 1;
      all.tokens -= 1;
      const headers = this.headersFor(c, remaining(), policies.map((p) => [p.policy, Math.max(0, Math.floor(p.live.tokens))]));
      return { headers, refusal: { by: 'compute', policy: empty.policy, bucket: empty.bucket, retryAfter: this.wait(empty.live, empty.bucket), headers } };
    }
    mine.tokens -= 1;
    all.tokens -= 1;
    for (const p of policies) p.live.tokens -= 1;
    return { headers: this.headersFor(c, remaining(), policies.map((p) => [p.policy, Math.floor(p.live.tokens)])) };
  }

  count(policy: string): void {
    this.throttled++;
    this.throttledBy[policy] = (this.throttledBy[policy] ?? 0) + 1;
  }

  private headersFor(c: Charge, front: number, compute: [ComputePolicy, number][]): Headers {
    const name = c.scope.startsWith('tenant:') ? `x-ms-ratelimit-remaining-tenant-${c.kind}` : `x-ms-ratelimit-remaining-subscription-${c.kind}`;
    const headers: Headers = { [name]: String(front) };
    if (compute.length > 0) headers['x-ms-ratelimit-remaining-resource'] = compute.map(([p, n]) => `Microsoft.Compute/${p};${n}`).join(',');
    return headers;
  }
}

/** Which Compute policies a route draws on, and the key each counts under. */
export function computePolicies(route: string, params: Record<string, string>): Charge['compute'] {
  const sub = params['sub'] ?? '';
  const set = params['name'] ? `/subscriptions/${sub}/resourceGroups/${params['rg'] ?? ''}/providers/Microsoft.Compute/virtualMachineScaleSets/${params['name']}` : '';
  const subKey = `/subscriptions/${sub}`;
  if (route === 'arm.vmss.list') return [{ policy: 'HighCostGet3Min', key: subKey }, { policy: 'HighCostGet30Min', key: subKey }];
  if (route === 'arm.operation') return [{ policy: 'GetOperationResource', key: params['op'] ?? '' }, { policy: 'GetOperationSubscriptionMaximum', key: subKey }];
  if (!route.startsWith('arm.vmss.')) return [];
  if (route.endsWith('.get') || route === 'arm.vmss.extensions.list') {
    return [
      { policy: 'GetVMScaleSet3Min', key: set },
      { policy: 'GetVMScaleSet30Min', key: set },
      { policy: 'GetVMScaleSetSubscriptionMaximum', key: subKey },
      { policy: 'GetVMScaleSetResource', key: set },
    ];
  }
  return [{ policy: 'VMScaleSetActionsSubscriptionMaximum', key: subKey }, { policy: 'VMScaleSetActionsResource', key: set }];
}
