// The planner: pure functions from (current identity, request) to the smallest PATCH that
// makes Azure match, or to "nothing to do". No I/O here.
import { ActionError } from './errors.ts';
import { identityType, typeOf, type IdentityType, type ScaleSetIdentity, type UserAssignedIdentity } from './identity.ts';
import { q } from './text.ts';
import type { Operation } from './settings.ts';

export type { Operation };

export interface IdentityRequest {
  operation: Operation;
  /**
   * set: whether the system-assigned identity should exist;
   * assign: true adds it; remove: true removes it; undefined leaves it alone.
   */
  system?: boolean;
  /** Full user-assigned identity resource ids, as the user wrote them. */
  userAssignedIds: string[];
  /** References to identities that no longer exist, to drop in the same write (remove-missing-identities). */
  dropMissing?: string[];
}

export interface IdentityPatch {
  identity: {
    type: IdentityType;
    userAssignedIdentities?: Record<string, Record<string, never> | null>;
  };
}

export interface Plan {
  changed: boolean;
  before: IdentityType;
  after: IdentityType;
  enableSystem: boolean;
  disableSystem: boolean;
  /** Ids to add, as the user wrote them. */
  add: string[];
  /** Ids to remove, spelled as Azure returned them. */
  remove: string[];
  /** Removals the user did not ask for by name (operation `set`): warned about before writing. */
  unlisted: string[];
  /** Listed for removal but not assigned: nothing to do for them. */
  alreadyAbsent: string[];
  /** Listed for assignment but already assigned. */
  alreadyPresent: string[];
  patch?: IdentityPatch;
}

export interface ScaleSetFacts {
  name: string;
  orchestrationMode?: string;
}

/** Membership by ARM id, compared case-insensitively. */
function idSet(ids: string[]): (id: string) => boolean {
  const set = new Set(ids.map((id) => id.toLowerCase()));
  return (id) => set.has(id.toLowerCase());
}

/**
 * The assigned ids by lower-cased id, as Azure spells them (the first of any two that differ in
 * case): looked up, not searched for, so 150 ids against 150 assigned on 1,000 scale sets stays linear.
 */
function assignedById(current: ScaleSetIdentity): Map<string, string> {
  const assigned = new Map<string, string>();
  for (const u of current.userAssigned) if (!assigned.has(u.id.toLowerCase())) assigned.set(u.id.toLowerCase(), u.id);
  return assigned;
}

/** Missing identities to drop, as Azure spells them: never one the user listed (assigning it again is theirs to decide), nor one already removed. */
function droppedMissing(missing: string[], assigned: Map<string, string>, isListed: (id: string) => boolean, removing: (id: string) => boolean): string[] {
  return missing.filter((id) => assigned.has(id.toLowerCase()) && !isListed(id) && !removing(id)).map((id) => assigned.get(id.toLowerCase()) ?? id);
}

export function plan(current: ScaleSetIdentity, request: IdentityRequest, facts: ScaleSetFacts): Plan {
  const hasSystem = current.system !== undefined;
  const listed = request.userAssignedIds;
  const assigned = assignedById(current);
  const isListed = idSet(listed);
  const present = listed.filter((id) => assigned.has(id.toLowerCase()));
  const missing = listed.filter((id) => !assigned.has(id.toLowerCase()));
  let wantSystem = hasSystem;
  let add: string[] = [];
  let remove: string[] = [];
  let unlisted: string[] = [];
  switch (request.operation) {
    case 'show':
      break;
    case 'set':
      wantSystem = request.system ?? hasSystem;
      add = missing;
      unlisted = current.userAssigned.filter((u) => !isListed(u.id)).map((u) => u.id);
      remove = unlisted;
      break;
    case 'assign':
      wantSystem = hasSystem || request.system === true;
      add = missing;
      break;
    case 'remove':
      wantSystem = hasSystem && request.system !== true;
      remove = present.map((id) => assigned.get(id.toLowerCase()) ?? id);
      break;
  }

  if (request.operation !== 'show') remove = [...remove, ...droppedMissing(request.dropMissing ?? [], assigned, isListed, idSet(remove))];
  const removed = idSet(remove);
  const keep = current.userAssigned.filter((u) => !removed(u.id));
  const after = typeOf(wantSystem, keep.length + add.length > 0);
  if (wantSystem && !hasSystem && facts.orchestrationMode?.toLowerCase() === 'flexible') {
    throw new ActionError(
      `Scale set ${q(facts.name)} uses Flexible orchestration, which supports only user-assigned identities at the scale-set level (Azure rejects SystemAssigned). ` +
        'Use identity-type: UserAssigned with user-assigned-ids, or enable a system-assigned identity on each VM instead.',
    );
  }
  const changed = wantSystem !== hasSystem || add.length > 0 || remove.length > 0;
  const result: Plan = {
    changed,
    before: identityType(current),
    after,
    enableSystem: wantSystem && !hasSystem,
    disableSystem: hasSystem && !wantSystem,
    add,
    remove,
    unlisted: request.operation === 'set' ? unlisted : [],
    alreadyAbsent: request.operation === 'remove' ? missing : [],
    alreadyPresent: request.operation === 'assign' || request.operation === 'set' ? present : [],
  };
  if (changed) result.patch = patchFor(after, add, remove);
  return result;
}

/**
 * ARM merges `userAssignedIdentities` by key: `{}` adds, `null` removes, absent keeps.
 * When the new type has no UserAssigned the map is left out and ARM drops them all.
 */
function patchFor(type: IdentityType, add: string[], remove: string[]): IdentityPatch {
  if (!type.includes('UserAssigned') || add.length + remove.length === 0) return { identity: { type } };
  const map: Record<string, Record<string, never> | null> = {};
  for (const id of add) map[id] = {};
  for (const id of remove) map[id] = null;
  return { identity: { type, userAssignedIdentities: map } };
}

/**
 * The identity the plan leads to, for reports: an added identity carries the principal and
 * client ids its own read gave (`known`); ids Azure has yet to create are left out.
 */
export function plannedIdentity(before: ScaleSetIdentity, p: Plan, known: UserAssignedIdentity[] = []): ScaleSetIdentity {
  const system = p.disableSystem ? undefined : p.enableSystem ? {} : before.system;
  const removed = idSet(p.remove);
  const kept = before.userAssigned.filter((u) => !removed(u.id));
  const added = p.add.map((id) => ({ ...known.find((k) => k.id.toLowerCase() === id.toLowerCase()), id }));
  return { ...(system ? { system } : {}), userAssigned: [...kept, ...added] };
}
