// The emulator's own controls, apart from the services it plays: timings, faults, planned
// operation outcomes, directory lag and paging, settable in-process (tests) or over HTTP under
// /_emulator/ (the CLI), which also serves state and the request log.
import type { PrincipalSettings } from './arm-common.ts';
import type { Operation, OperationEngine, OperationPlan, OperationSettings } from './arm-operations.ts';
import type { Entra } from './entra.ts';
import type { Faults, FaultRule } from './faults.ts';
import { subjectOf, type GithubOidc } from './github-oidc.ts';
import { parseJsonObject, send, type Exchange } from './http.ts';
import type { RequestLog } from './log.ts';
import { PAGE_SIZE } from './arm-common.ts';
import type { Budgets, BudgetsInput, Limits } from './limits.ts';
import type { State } from './state.ts';

export interface ControlOptions {
  updateDurationMs: number;
  latencyMs: number;
}

export class Controls implements OperationSettings, PrincipalSettings {
  updateDurationMs: number;
  /** Added to every request, to model the network (the benchmark uses 25 ms). */
  latencyMs: number;
  retryAfterSeconds?: number;
  nextOperations: OperationPlan[] = [];
  directoryLagMs = 0;
  lagIgnoresPrincipalType = false;
  /** Items per page in ARM lists. */
  pageSize = PAGE_SIZE;

  private readonly faults: Faults;
  /** Token lifetimes are set here: `github.lifetimeSeconds`, `entra.accessTokenLifetimeSeconds`. */
  readonly github: GithubOidc;
  readonly entra: Entra;

  private readonly limits: Limits;

  constructor(faults: Faults, github: GithubOidc, entra: Entra, limits: Limits, options: ControlOptions) {
    this.faults = faults;
    this.limits = limits;
    this.github = github;
    this.entra = entra;
    this.updateDurationMs = options.updateDurationMs;
    this.latencyMs = options.latencyMs;
  }

  /** The operations started so far, for completion-lag measurements. */
  readonly operations = new Map<string, Operation>();

  fault(rule: FaultRule): void {
    this.faults.add(rule);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  planOperation(plan: OperationPlan): void {
    this.nextOperations.push(plan);
  }

  /** ARM's request limits in force (limits.ts `Budgets`). */
  get budgets(): Budgets {
    return this.limits.budgets;
  }

  /** Changes some budgets (the rest stay) or turns them `'off'`; every bucket starts full again. */
  setBudgets(input: BudgetsInput | 'off'): void {
    this.limits.set(input);
  }

  /** How many 429s the emulator sent because a budget ran out (fault rules not counted). */
  get throttled(): number {
    return this.limits.throttled;
  }

  /** The same by budget: `reads`, `writes`, `deletes` (ARM's front door) or a Compute policy name. */
  get throttledBy(): Readonly<Record<string, number>> {
    return this.limits.throttledBy;
  }
}

type Settable = Partial<Pick<Controls, 'updateDurationMs' | 'latencyMs' | 'retryAfterSeconds' | 'directoryLagMs' | 'pageSize'>> & { nextOperations?: OperationPlan[]; budgets?: BudgetsInput | 'off' };

export interface AdminTargets {
  controls: Controls;
  state: State;
  log: RequestLog;
  faults: Faults;
  compute: OperationEngine;
}

export function isAdminPath(path: string): boolean {
  return path.startsWith('/_emulator/');
}

export async function handleAdmin(x: Exchange, t: AdminTargets): Promise<void> {
  t.compute.settle();
  const what = x.url.pathname.slice('/_emulator/'.length);
  if (x.method === 'GET' && what === 'state') return send(x, 200, t.state.snapshot());
  if (x.method === 'GET' && what === 'log') return send(x, 200, t.log.entries);
  if (x.method === 'GET' && what === 'refused') return send(x, 200, t.log.refusedConnects);
  if (x.method === 'GET' && what === 'throttled') return send(x, 200, { throttled: t.controls.throttled, by: t.controls.throttledBy, budgets: t.controls.budgets });
  if (x.method === 'GET' && what === 'subject') return send(x, 200, { subject: subjectOf(t.state) });
  if (what === 'faults' && x.method === 'DELETE') {
    t.faults.clear();
    return send(x, 204, undefined);
  }
  if (what === 'faults' && x.method === 'POST') {
    const rule = parseJsonObject(x.body) as FaultRule | undefined;
    if (!rule?.action) return send(x, 400, { message: 'A fault rule needs route and action.' });
    if (rule.action.kind === 'after') return send(x, 400, { message: "'after' faults are in-process only" });
    t.faults.add(rule);
    return send(x, 201, rule);
  }
  if (what === 'controls' && x.method === 'POST') {
    const patch = (parseJsonObject(x.body) ?? {}) as Settable;
    const c = t.controls;
    if (patch.updateDurationMs !== undefined) c.updateDurationMs = patch.updateDurationMs;
    if (patch.latencyMs !== undefined) c.latencyMs = patch.latencyMs;
    if (patch.retryAfterSeconds !== undefined) c.retryAfterSeconds = patch.retryAfterSeconds;
    if (patch.directoryLagMs !== undefined) c.directoryLagMs = patch.directoryLagMs;
    if (patch.pageSize !== undefined) c.pageSize = patch.pageSize;
    if (patch.nextOperations) c.nextOperations.push(...patch.nextOperations);
    if (patch.budgets !== undefined) c.setBudgets(patch.budgets);
    return send(x, 204, undefined);
  }
  return send(x, 404, { message: `No emulator route ${x.method} ${x.url.pathname}` });
}
