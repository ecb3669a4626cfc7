// Faults on demand: per route (glob like `arm.vmss.*`), per method, for a number of
// requests, after skipping some. Each rule is consumed as it fires.
export type FaultAction =
  | { kind: 'latency'; ms: number; phase?: 'before' | 'after' }
  | { kind: 'status'; status: number; code?: string; message?: string; retryAfter?: number; headers?: Record<string, string> }
  | { kind: 'drop' }
  /** The request is carried out, then the connection drops before the answer: a lost response. */
  | { kind: 'loseResponse' }
  /**
   * A hostile or broken Azure: the answer the emulator would give, changed before it leaves.
   * `body` gets the parsed JSON body (or the raw text) and returns the body to send; `headers`
   * are added to (and override) the answer's own.
   */
  | { kind: 'rewrite'; body?: (body: unknown) => unknown; headers?: Record<string, string> }
  /**
   * Holds the request until `until()` holds (checked every 10 ms, at most `maxMs`, default
   * 30 s), then answers it: orders concurrent requests without sleeps of a guessed length.
   */
  | { kind: 'hold'; until: () => boolean; maxMs?: number }
  /** Runs after the matching request was answered: a concurrent writer, a portal user. */
  | { kind: 'after'; run: () => void };

export interface FaultRule {
  route: string;
  method?: string;
  /** How many matching requests it hits; Infinity for all. Default 1. */
  times?: number;
  /** Only requests whose body matches. */
  body?: RegExp;
  /** Matching requests to let through before it starts. Default 0. */
  skip?: number;
  action: FaultAction;
  label?: string;
}

interface LiveRule extends FaultRule {
  remaining: number;
  toSkip: number;
}

function routeMatches(pattern: string, route: string): boolean {
  if (pattern === '*' || pattern === route) return true;
  if (pattern.endsWith('.*')) return route.startsWith(pattern.slice(0, -1));
  return false;
}

export class Faults {
  private rules: LiveRule[] = [];

  add(rule: FaultRule): void {
    this.rules.push({ ...rule, remaining: rule.times ?? 1, toSkip: rule.skip ?? 0 });
  }

  clear(): void {
    this.rules = [];
  }

  /** Rules not yet used up: a test can tell that a request it holds back has arrived. */
  get pending(): number {
    return this.rules.length;
  }

  /** The actions that fire for this request, consuming the rules. */
  take(route: string, method: string, body = ''): FaultRule[] {
    const fired: FaultRule[] = [];
    for (const rule of this.rules) {
      if (rule.remaining <= 0 || !routeMatches(rule.route, route)) continue;
      if (rule.method && rule.method.toUpperCase() !== method) continue;
      if (rule.body && !rule.body.test(body)) continue;
      if (rule.toSkip > 0) {
        rule.toSkip--;
        continue;
      }
      rule.remaining--;
      fired.push(rule);
    }
    this.rules = this.rules.filter((r) => r.remaining > 0);
    return fired;
  }
}
