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
  /** Exact names (no wildcard) that matched no scale set: a typo, a scale set that is gone, or one the other selectors leave out. */
  unmatchedNames: string[];
  /** Scale sets that bear an exact name from vmss-name but that resource-group or vmss-tags leave out. */
  leftOut: ListedScaleSet[];
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
  const found: Discovery = { matched: [], seen: 0, others: [], failures: [], unmatchedNames: [], leftOut: [] };
  const named = query.resourceGroups.every((g) => !g.glob);
  const exactNames = (query.names ?? []).filter((n) => !n.glob);
  const groupsSeen = new Set<string>();
  const list = async ({ subscriptionId, resourceGroup }: { subscriptionId: string; resourceGroup: string | undefined }) => {
    try {
      for await (const page of scaleSets.list(subscriptionId, resourceGroup, signal)) {
        for (const vmss of page) {
          found.seen++;
          groupsSeen.add(vmss.ref.resourceGroup.toLowerCase());
          const nameFits = !query.names || matchesName(query.names, vmss.ref.name);
          const chosen = nameFits && matchesName(query.resourceGroups, vmss.ref.resourceGroup) && matchesTags(query.tags, vmss.tags);
          if (chosen) found.matched.push(vmss);
          else if (found.others.length < SAMPLE) found.others.push(vmss);
          if (!chosen && matchesName(exactNames, vmss.ref.name)) found.leftOut.push(vmss);
        }
      }
    } catch (error) {
      if (signal.aborted) throw error;
      found.failures.push({ scope: `/subscriptions/${subscriptionId}${resourceGroup ? `/resourceGroups/${resourceGroup}` : ''}`, subscriptionId, error });
    }
  };
  const listings = query.subscriptions.flatMap((subscriptionId) =>
    named ? query.resourceGroups.map((g) => ({ subscriptionId, resourceGroup: g.text as string | undefined })) : [{ subscriptionId, resourceGroup: undefined }]);
  await inParallel(listings, 8, list);
  if (!named) {
    // Patterns beside named groups: the subscriptions were listed whole. A named group none of
    // them showed is empty, or a typo: list it on its own to tell (ResourceGroupNotFound).
    const unseen = query.resourceGroups.filter((g) => !g.glob && !groupsSeen.has(g.text.toLowerCase()));
    const listedWhole = query.subscriptions.filter((sub) => !found.failures.some((f) => f.subscriptionId === sub));
    const checks = listedWhole.flatMap((subscriptionId) => unseen.map((g) => ({ subscriptionId, resourceGroup: g.text as string | undefined })));
    listings.push(...checks);
    await inParallel(checks, 8, list);
  }
  // A named resource group need exist in only one of the subscriptions: it is missing (an
  // error) only when no subscription has it.
  const missing = (f: ScopeFailure) => armFailure(f.error).code === 'ResourceGroupNotFound';
  const groupOf = (scope: string) => (scope.split('/')[4] ?? '').toLowerCase();
  const listed = new Set(listings.filter((l) => l.resourceGroup && !found.failures.some((f) => f.scope.toLowerCase() === `/subscriptions/${l.subscriptionId}/resourcegroups/${l.resourceGroup}`.toLowerCase())).map((l) => (l.resourceGroup ?? '').toLowerCase()));
  // Nor is it proof when another subscription could not be listed there: it may hold the group.
  const unknownIn = (subscriptionId: string, group: string) => found.failures.some((f) => f.subscriptionId === subscriptionId && !missing(f) && (f.scope.split('/').length === 3 || groupOf(f.scope) === group));
  const reported = new Set<string>();
  found.failures = found.failures.filter((f) => {
    if (!missing(f)) return true;
    const group = groupOf(f.scope);
    if (listed.has(group) || reported.has(group)) return false;
    if (query.subscriptions.some((sub) => sub !== f.subscriptionId && unknownIn(sub, group))) return false;
    reported.add(group);
    return true;
  });
  found.unmatchedNames = (query.names ?? []).filter((n) => !n.glob && !found.matched.some((v) => matchesName([n], v.ref.name))).map((n) => n.text);
  // Input order of subscriptions, then by id: results read the same on every run.
  const order = (v: ListedScaleSet) => query.subscriptions.findIndex((s) => s.toLowerCase() === v.ref.subscriptionId.toLowerCase());
  found.matched.sort((a, b) => order(a) - order(b) || a.id.toLowerCase().localeCompare(b.id.toLowerCase()));
  return found;
}
