// A fleet query → the scale sets it matches, through ARM's list calls (every page). One
// listing per resource group when they are named, one per subscription when a pattern chooses
// them. A subscription or resource group that cannot be listed fails on its own.
import { MAX_TARGETS } from '../bounds.ts';
import { ActionError } from '../errors.ts';
import { matchesTags, nameMatcher } from '../selectors.ts';
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
  /** How many scale sets the listings showed, matched or not (a matched one listed twice counts once). */
  seen: number;
  /** A few of those that did not match, for the no-match message. */
  others: ListedScaleSet[];
  /** Exact names (no wildcard) that matched no scale set: a typo, a scale set that is gone, or one the other selectors leave out. */
  unmatchedNames: string[];
  /** By exact name from vmss-name (lower-cased): a few scale sets bearing it that resource-group or vmss-tags leave out. */
  leftOut: Map<string, ListedScaleSet[]>;
  failures: ScopeFailure[];
}

const SAMPLE = 20;
const LEFT_OUT_SAMPLE = 5;

interface Listing {
  subscriptionId: string;
  resourceGroup: string | undefined;
}

async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++] as T);
  }));
}

/**
 * What the listings show, kept as they go: the matches (once each, by id in any case), and only
 * bounded samples of the rest, so a listing of any size costs the matches' memory at most.
 */
class Sieve {
  readonly matched = new Map<string, ListedScaleSet>();
  readonly found: Discovery = { matched: [], seen: 0, others: [], failures: [], unmatchedNames: [], leftOut: new Map() };
  /** Named resource groups (lower-cased) that some listing showed a scale set of. */
  readonly groupsSeen = new Set<string>();
  private readonly fitsName: (name: string) => boolean;
  private readonly fitsGroup: (name: string) => boolean;
  private readonly namedGroups: Set<string>;
  private readonly exactNames: Set<string>;
  private readonly tags: FleetQuery['tags'];

  constructor(query: FleetQuery) {
    this.fitsName = query.names ? nameMatcher(query.names) : () => true;
    this.fitsGroup = nameMatcher(query.resourceGroups);
    this.namedGroups = new Set(query.resourceGroups.filter((g) => !g.glob).map((g) => g.text.toLowerCase()));
    this.exactNames = new Set((query.names ?? []).filter((n) => !n.glob).map((n) => n.text.toLowerCase()));
    this.tags = query.tags;
  }

  take(vmss: ListedScaleSet): void {
    const key = vmss.id.toLowerCase();
    if (this.matched.has(key)) return;
    this.found.seen++;
    const group = vmss.ref.resourceGroup.toLowerCase();
    if (this.namedGroups.has(group)) this.groupsSeen.add(group);
    if (this.fitsName(vmss.ref.name) && this.fitsGroup(vmss.ref.resourceGroup) && matchesTags(this.tags, vmss.tags)) {
      this.matched.set(key, vmss);
      return;
    }
    if (this.found.others.length < SAMPLE && !this.found.others.some((v) => v.id.toLowerCase() === key)) this.found.others.push(vmss);
    const name = vmss.ref.name.toLowerCase();
    if (!this.exactNames.has(name)) return;
    const sample = this.found.leftOut.get(name) ?? [];
    if (sample.length < LEFT_OUT_SAMPLE && !sample.some((v) => v.id.toLowerCase() === key)) sample.push(vmss);
    this.found.leftOut.set(name, sample);
  }
}

export async function discover(query: FleetQuery, scaleSets: ScaleSets, signal: AbortSignal): Promise<Discovery> {
  const sieve = new Sieve(query);
  const { found } = sieve;
  const named = query.resourceGroups.every((g) => !g.glob);
  // Once the matches pass the cap, the listings still running are stopped: no more is read.
  const enough = new AbortController();
  const listingSignal = AbortSignal.any([signal, enough.signal]);
  const list = async ({ subscriptionId, resourceGroup }: Listing) => {
    if (enough.signal.aborted) return;
    try {
      for await (const page of scaleSets.list(subscriptionId, resourceGroup, listingSignal)) {
        for (const vmss of page) sieve.take(vmss);
        if (sieve.matched.size > MAX_TARGETS) {
          enough.abort();
          return;
        }
      }
    } catch (error) {
      if (signal.aborted) throw error;
      if (enough.signal.aborted) return;
      found.failures.push({ scope: `/subscriptions/${subscriptionId}${resourceGroup ? `/resourceGroups/${resourceGroup}` : ''}`, subscriptionId, error });
    }
  };
  const listings: Listing[] = query.subscriptions.flatMap((subscriptionId) =>
    named ? query.resourceGroups.map((g) => ({ subscriptionId, resourceGroup: g.text as string | undefined })) : [{ subscriptionId, resourceGroup: undefined }]);
  await inParallel(listings, 8, list);
  if (!named && !enough.signal.aborted) {
    // Patterns beside named groups: the subscriptions were listed whole. A named group none of
    // them showed is empty, or a typo: list it on its own to tell (ResourceGroupNotFound).
    const unseen = query.resourceGroups.filter((g) => !g.glob && !sieve.groupsSeen.has(g.text.toLowerCase()));
    const failedWhole = new Set(found.failures.map((f) => f.subscriptionId.toLowerCase()));
    const checks = query.subscriptions.filter((sub) => !failedWhole.has(sub.toLowerCase()))
      .flatMap((subscriptionId) => unseen.map((g) => ({ subscriptionId, resourceGroup: g.text as string | undefined })));
    for (const check of checks) listings.push(check);
    await inParallel(checks, 8, list);
  }
  if (sieve.matched.size > MAX_TARGETS) throw new ActionError(tooMany(query));
  found.failures = reportedFailures(found.failures, listings);
  found.matched = inQueryOrder([...sieve.matched.values()], query.subscriptions);
  const matchedNames = new Set(found.matched.map((v) => v.ref.name.toLowerCase()));
  found.unmatchedNames = (query.names ?? []).filter((n) => !n.glob && !matchedNames.has(n.text.toLowerCase())).map((n) => n.text);
  return found;
}

function tooMany(query: FleetQuery): string {
  const scope = query.subscriptions.length > 1 ? `${query.subscriptions.length} subscriptions` : `subscription ${query.subscriptions[0] ?? ''}`;
  return `The query matches more than ${MAX_TARGETS} scale sets in ${scope}; one step changes at most ${MAX_TARGETS}, so the listing stopped there and nothing was written to Azure. ` +
    'Narrow the query (vmss-tags, resource-group, or a vmss-name pattern), or fan out over a matrix of jobs (for example one per subscription or resource group).';
}

/**
 * A named resource group need exist in only one of the subscriptions: it is missing (an error)
 * only when no subscription has it, and not even then when another subscription could not be
 * listed there (it may hold the group).
 */
function reportedFailures(failures: ScopeFailure[], listings: Listing[]): ScopeFailure[] {
  const missing = (f: ScopeFailure) => armFailure(f.error).code === 'ResourceGroupNotFound';
  const groupOf = (scope: string) => (scope.split('/')[4] ?? '').toLowerCase();
  const failedScopes = new Set(failures.map((f) => f.scope.toLowerCase()));
  const listed = new Set(listings.filter((l) => l.resourceGroup && !failedScopes.has(`/subscriptions/${l.subscriptionId}/resourcegroups/${l.resourceGroup}`.toLowerCase())).map((l) => (l.resourceGroup ?? '').toLowerCase()));
  // Subscriptions that may hold a group though their listing failed: whole (any group), or by group.
  const unknownWhole = new Set<string>();
  const unknownByGroup = new Map<string, Set<string>>();
  for (const f of failures) {
    if (missing(f)) continue;
    const sub = f.subscriptionId.toLowerCase();
    if (f.scope.split('/').length === 3) unknownWhole.add(sub);
    else unknownByGroup.set(groupOf(f.scope), (unknownByGroup.get(groupOf(f.scope)) ?? new Set()).add(sub));
  }
  // Every failure is of a listed subscription: another one is there when the set holds more than this one.
  const elsewhere = (subs: Set<string> | undefined, sub: string) => (subs?.size ?? 0) > (subs?.has(sub) ? 1 : 0);
  const reported = new Set<string>();
  return failures.filter((f) => {
    if (!missing(f)) return true;
    const group = groupOf(f.scope);
    const sub = f.subscriptionId.toLowerCase();
    if (listed.has(group) || reported.has(group)) return false;
    if (elsewhere(unknownWhole, sub) || elsewhere(unknownByGroup.get(group), sub)) return false;
    reported.add(group);
    return true;
  });
}

/** Input order of subscriptions, then by id: results read the same on every run. */
function inQueryOrder(matched: ListedScaleSet[], subscriptions: string[]): ListedScaleSet[] {
  const position = new Map(subscriptions.map((s, i) => [s.toLowerCase(), i]));
  const keyed = matched.map((v) => ({ v, at: position.get(v.ref.subscriptionId.toLowerCase()) ?? -1, id: v.id.toLowerCase() }));
  keyed.sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
  return keyed.map((k) => k.v);
}
