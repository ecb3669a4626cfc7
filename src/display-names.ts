// Names that tell twins apart. A scale set (or user-assigned identity) is shown by its bare
// name when no other shown resource has that name; by resource-group/name when the name
// repeats across resource groups; by subscription/resource-group/name when it repeats within
// the same resource group name in several subscriptions (the subscription cut to its first 8
// characters when that alone still tells them apart). Pure: ids in, names out.
import type { TargetResult } from './result.ts';

interface Parts {
  id: string;
  subscription: string;
  group: string;
  name: string;
}

/** `/subscriptions/S/resourceGroups/G/providers/NS/TYPE/NAME`; anything else is shown whole. */
function parts(id: string): Parts | undefined {
  const p = id.split('/');
  if (p.length !== 9 || p[1]?.toLowerCase() !== 'subscriptions' || p[3]?.toLowerCase() !== 'resourcegroups') return undefined;
  return { id, subscription: p[2] ?? '', group: p[4] ?? '', name: p[8] ?? '' };
}

const key = (...values: string[]) => values.map((v) => v.toLowerCase()).join('/');

function count(values: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

/** Each distinct id (compared case-insensitively) → the shortest name that tells it apart from the others. */
export function displayNames(ids: Iterable<string>): Map<string, string> {
  const distinct = new Map<string, Parts | string>();
  for (const id of ids) if (!distinct.has(id.toLowerCase())) distinct.set(id.toLowerCase(), parts(id) ?? id);
  const parsed = [...distinct.values()].filter((p): p is Parts => typeof p !== 'string');
  const byName = count(parsed.map((p) => key(p.name)));
  const byGroup = count(parsed.map((p) => key(p.group, p.name)));
  const byShortSub = count(parsed.map((p) => key(p.subscription.slice(0, 8), p.group, p.name)));
  const names = new Map<string, string>();
  for (const [lower, p] of distinct) {
    if (typeof p === 'string') names.set(lower, p);
    else if (byName.get(key(p.name)) === 1) names.set(lower, p.name);
    else if (byGroup.get(key(p.group, p.name)) === 1) names.set(lower, `${p.group}/${p.name}`);
    else if (byShortSub.get(key(p.subscription.slice(0, 8), p.group, p.name)) === 1) names.set(lower, `${p.subscription.slice(0, 8)}/${p.group}/${p.name}`);
    else names.set(lower, `${p.subscription}/${p.group}/${p.name}`);
  }
  return names;
}

/** A lookup over `displayNames(ids)`: an id it was not given is shown by its last segment. */
export function namer(ids: Iterable<string>): (id: string) => string {
  const names = displayNames(ids);
  return (id) => names.get(id.toLowerCase()) ?? id.split('/').pop() ?? id;
}

/** Gives every result the name it is shown by in the log, annotations and summary. */
export function labelTargets(results: TargetResult[]): void {
  const name = namer(results.filter((r) => r.ref.name).map((r) => r.id));
  for (const r of results) r.label = r.ref.name ? name(r.id) : r.id;
}

/** The user-assigned identities the results show (before, after, planned, missing), each named apart from the others. */
export function identityNamer(results: TargetResult[]): (id: string) => string {
  const ids: string[] = [];
  for (const r of results) {
    for (const identity of [r.before, r.after]) for (const u of identity?.userAssigned ?? []) ids.push(u.id);
    for (const p of [r.plan, r.applied]) ids.push(...(p?.add ?? []), ...(p?.remove ?? []));
    ids.push(...r.missingIdentities);
  }
  return namer(ids);
}
