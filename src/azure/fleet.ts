// A fleet query → the scale sets it matches, through ARM's list calls (every page). One
// listing per resource group when they are named, one per subscription when a pattern chooses
// them. A subscription or resource group that cannot be listed fails on its own.
import { matchesName, matchesTags } from '../selectors.ts';
import type { FleetQuery } from '../settings.ts';
import { armFailure } from './arm-errors.ts';
import type { ListedScaleSet, ScaleSets } from './scale-sets.ts';

export interface ScopeFailure {
  /** `/subscriptions/{id}` or `/subscriptions/{id}/resourceGroups/{name}`. */
  scope: string;
  subscriptionId: string;
  error: unknown;
}

export interface Discovery {
  matched: ListedScaleSet[];
  /** How many scale sets the listings showed, matched or not. */
  seen: number;
  /** A few of those that did not match, for the no-match message. */
  others: ListedScaleSet[];
  /** Exact names (no wildcard) that matched no scale set: a typo, or a scale set that is gone. */
  unmatchedNames: string[];
  failures: ScopeFailure[];
}

const SAMPLE = 20;

async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++] as T);
  }));
}

export async function discover(query: FleetQuery, scaleSets: ScaleSets, signal: AbortSignal): Promise<Discovery> {
  const found: Discovery = { matched: [], seen: 0, others: [], failures: [], unmatchedNames: [] };
  const named = query.resourceGroups.every((g) => !g.glob);
  const listings = query.subscriptions.flatMap((subscriptionId) =>
    named ? query.resourceGroups.map((g) => ({ subscriptionId, resourceGroup: g.text as string | undefined })) : [{ subscriptionId, resourceGroup: undefined }]);
  await inParallel(listings, 8, async ({ subscriptionId, resourceGroup }) => {
    try {
      for await (const page of scaleSets.list(subscriptionId, resourceGroup, signal)) {
        for (const vmss of page) {
          found.seen++;
          const chosen = matchesName(query.resourceGroups, vmss.ref.resourceGroup)
            && (!query.names || matchesName(query.names, vmss.ref.name))
            && matchesTags(query.tags, vmss.tags);
          if (chosen) found.matched.push(vmss);
          else if (found.others.length < SAMPLE) found.others.push(vmss);
        }
      }
    } catch (error) {
      if (signal.aborted) throw error;
      found.failures.push({ scope: `/subscriptions/${subscriptionId}${resourceGroup ? `/resourceGroups/${resourceGroup}` : ''}`, subscriptionId, error });
    }
  });
  // A named resource group need exist in only one of the subscriptions: it is missing (an
  // error) only when no subscription has it.
  const missing = (f: ScopeFailure) => armFailure(f.error).code === 'ResourceGroupNotFound';
  const groupOf = (scope: string) => (scope.split('/')[4] ?? '').toLowerCase();
  const listed = new Set(listings.filter((l) => l.resourceGroup && !found.failures.some((f) => f.scope.toLowerCase() === `/subscriptions/${l.subscriptionId}/resourcegroups/${l.resourceGroup}`.toLowerCase())).map((l) => (l.resourceGroup ?? '').toLowerCase()));
  const reported = new Set<string>();
  found.failures = found.failures.filter((f) => {
    if (!missing(f)) return true;
    if (listed.has(groupOf(f.scope)) || reported.has(groupOf(f.scope))) return false;
    reported.add(groupOf(f.scope));
    return true;
  });
  found.unmatchedNames = (query.names ?? []).filter((n) => !n.glob && !found.matched.some((v) => matchesName([n], v.ref.name))).map((n) => n.text);
  // Input order of subscriptions, then by id: results read the same on every run.
  const order = (v: ListedScaleSet) => query.subscriptions.findIndex((s) => s.toLowerCase() === v.ref.subscriptionId.toLowerCase());
  found.matched.sort((a, b) => order(a) - order(b) || a.id.toLowerCase().localeCompare(b.id.toLowerCase()));
  return found;
}
