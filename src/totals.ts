// The counts a fleet's report opens with: how many targets, how many changed (or, in a dry run,
// would change), stayed as they were, failed; roles granted and warnings. Pure: results in.
import type { TargetResult } from './result.ts';

export interface Totals {
  dryRun: boolean;
  show: boolean;
  targets: number;
  /** Targets with at least one write (in a dry run: that the real run would make), and no failure. */
  changed: number;
  unchanged: number;
  failed: number;
  /** Failed targets that had a write Azure accepted (finished or not) before they failed. */
  failedAfterWrite: number;
  /** Role assignments created (in a dry run: to create). */
  roles: number;
  /** Removals warned about, an IMDS default identity lost, references to deleted identities, retired extensions left in place. */
  warnings: number;
}

/**
 * Whether the target has a write: `changed` (in a dry run: the plan holds a write; in a real run:
 * Azure accepted one), or a write that was sent and not seen to finish.
 */
export function hasWrite(r: TargetResult): boolean {
  return r.changed || r.acceptedUnfinished.length > 0;
}

/** A role assignment this run created, or in a dry run one it would create. */
const isGrant = (g: TargetResult['roles'][number], dryRun: boolean) => g.created || (dryRun && g.planned === true);

export function totals(results: TargetResult[], options: { dryRun: boolean; show?: boolean; removeLegacy?: boolean }): Totals {
  const t: Totals = { dryRun: options.dryRun, show: options.show ?? false, targets: results.length, changed: 0, unchanged: 0, failed: 0, failedAfterWrite: 0, roles: 0, warnings: 0 };
  for (const r of results) {
    if (r.error) {
      t.failed++;
      if (!options.dryRun && (hasWrite(r) || r.write !== 'none')) t.failedAfterWrite++;
    }
    else if (hasWrite(r)) t.changed++;
    else t.unchanged++;
    t.roles += r.roles.filter((g) => isGrant(g, options.dryRun)).length;
    // A retired extension is a warning only when the step leaves it in place.
    t.warnings += r.warnings.length + (r.removals?.length ?? 0) + (r.imdsWarning ? 1 : 0) + r.missingIdentities.length + (options.removeLegacy ? 0 : r.legacyExtensions.length);
  }
  return t;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The counts by name, in the order the report shows them: [label, count]. */
export function totalsTable(t: Totals): [string, number][] {
  if (t.show) return [['Targets', t.targets], ['Read', t.targets - t.failed], ['Failed', t.failed], ['Warnings', t.warnings]];
  return [
    ['Targets', t.targets],
    [t.dryRun ? 'To change' : 'Changed', t.changed],
    ['Unchanged', t.unchanged],
    ['Failed', t.failed],
    ...(t.failedAfterWrite ? [['Failed after a write', t.failedAfterWrite] as [string, number]] : []),
    [t.dryRun ? 'Roles to grant' : 'Roles granted', t.roles],
    ['Warnings', t.warnings],
  ];
}

/** One sentence: `12 targets: 3 changed, 8 unchanged, 1 failed.`, then roles and warnings when there are any. */
export function totalsLine(t: Totals): string {
  const head = t.show
    ? `${plural(t.targets, 'target')}: ${t.targets - t.failed} read, ${t.failed} failed.`
    : `${plural(t.targets, 'target')}: ${t.changed} ${t.dryRun ? 'to change' : 'changed'}, ${t.unchanged} unchanged, ${t.failed} failed${t.failedAfterWrite ? ` (${t.failedAfterWrite} after a write Azure accepted, which may have finished since)` : ''}.`;
  const extra = [
    t.roles && !t.show ? `${plural(t.roles, 'role assignment')} ${t.dryRun ? 'to grant' : 'granted'}` : '',
    t.warnings ? plural(t.warnings, 'warning') : '',
  ].filter(Boolean);
  return extra.length ? `${head} ${extra.join(', ')}.` : head;
}
