// The role assignments of the plan: which the run writes, which are in place already, and
// which another target grants (a user-assigned identity shared by several scale sets gets each
// role once). Planned before any write, so a dry run counts them as the real run makes them.
import { abortable } from './abort.ts';
import { assignmentName } from './azure/roles.ts';
import { MAX_TARGETS } from './bounds.ts';
import { forEachLimited } from './concurrency.ts';
import { CheckFailed, type ApplyContext, type Settle } from './context.ts';
import { ActionError } from './errors.ts';
import type { ScaleSetIdentity } from './identity.ts';
import { readIdentity } from './identities.ts';
import { resolveIdentity } from './inputs.ts';
import { plannedIdentity } from './plan.ts';
import { sameId } from './resource-id.ts';
import type { GrantedRole, PlannedGrant, TargetResult } from './result.ts';
import type { ScaleSetRef, Settings } from './settings.ts';
import { q } from './text.ts';
import { info } from './writer.ts';

/**
 * The principal that receives the roles once the plan is applied: the named user-assigned
 * identity's (read from the scale set, or from the identity itself when the plan adds it), else
 * the system-assigned one's; undefined when this run's write creates it.
 */
async function plannedAssignee(ctx: ApplyContext, r: TargetResult): Promise<string | undefined> {
  if (!r.after || !r.plan) return undefined;
  const planned = plannedIdentity(r.after, r.plan);
  const assignee = ctx.settings.roleAssignee;
  if (!assignee) return planned.system?.principalId;
  const id = resolveIdentity(assignee, r.ref);
  const onScaleSet = r.after.userAssigned.find((u) => sameId(u.id, id));
  return onScaleSet?.principalId ?? (await readIdentity(ctx, id))?.principalId;
}

/** One target's grants, each resolved and looked up (not yet shared out). */
async function grantsOf(ctx: ApplyContext, r: TargetResult): Promise<Omit<PlannedGrant, 'key'>[]> {
  const principalId = await plannedAssignee(ctx, r);
  return Promise.all(ctx.settings.roleAssignments.map(async ({ role, scope }) => {
    const roleDefinitionId = await abortable(ctx.roles.resolve(role, scope, ctx.signal), ctx.signal);
    if (!principalId) return { role, scope, roleDefinitionId, exists: false };
    const existing = await abortable(ctx.roles.findAssignment(scope, roleDefinitionId, principalId, ctx.signal), ctx.signal);
    return { role, scope, roleDefinitionId, principalId, exists: existing !== undefined, ...(existing ? { assignmentId: existing } : {}) };
  }));
}

/** The same role for the same principal at the same scope: one assignment, whoever asks. */
const grantKey = (scope: string, roleDefinitionId: string, principalId: string) => `${scope}|${roleDefinitionId.split('/').pop()}|${principalId}`.toLowerCase();

/** A promise settled once: `made` when the grant is in place, false when its owner gave up. */
function settleable(): Settle {
  let settle: (made: boolean) => void = () => undefined;
  const done = new Promise<boolean>((resolve) => (settle = resolve));
  return { done, settle };
}

/**
 * Plans every target's grants; the first target (in input order) to need a shared one makes it.
 * A role that does not resolve, or a lookup Azure refuses, stops every write (through `fail`).
 */
export async function planGrants(ctx: ApplyContext, targets: TargetResult[], fail: (r: TargetResult, error: unknown) => void): Promise<void> {
  if (ctx.settings.roleAssignments.length === 0 || ctx.settings.operation === 'show') return;
  const planned = new Map<TargetResult, Omit<PlannedGrant, 'key'>[]>();
  await forEachLimited(targets, ctx.settings.maxParallel, async (r) => {
    try {
      planned.set(r, await grantsOf(ctx, r));
    } catch (error) {
      fail(r, error instanceof ActionError && !ctx.signal.aborted ? new CheckFailed(error.message) : error);
    }
  });
  const owners = new Map<string, string>();
  for (const r of targets) {
    r.grants = (planned.get(r) ?? []).map((g) => {
      // A system-assigned principal this run creates is the target's own: the same role twice is one grant.
      const key = grantKey(g.scope, g.roleDefinitionId, g.principalId ?? `the system identity ${r.id} gets`);
      const owner = owners.get(key);
      if (g.exists || owner !== undefined) return { ...g, key, ...(owner !== undefined && !g.exists ? { grantedBy: owner } : {}) };
      owners.set(key, r.id);
      ctx.grantOwners.set(key, settleable());
      return { ...g, key };
    });
  }
}

/** Whose principal receives the roles after the write: the named user-assigned identity, else the system-assigned one. */
export function assigneePrincipal(settings: Settings, ref: ScaleSetRef, identity: ScaleSetIdentity): string {
  const assignee = settings.roleAssignee;
  if (assignee) {
    const id = resolveIdentity(assignee, ref);
    const found = identity.userAssigned.find((u) => sameId(u.id, id));
    if (!found?.principalId) throw new ActionError(`Azure reports no principal id for ${q(assignee)} on scale set ${q(ref.name)} after the change, so no role was granted. Run the step again.`);
    return found.principalId;
  }
  if (!identity.system?.principalId) throw new ActionError(`Azure reports no system-assigned principal id on scale set ${q(ref.name)} after the change, so no role was granted. Run the step again.`);
  return identity.system.principalId;
}

/** The grants as a dry run reports them: nothing created, `planned` where the real run would write. */
export function dryRunRoles(r: TargetResult): GrantedRole[] {
  return r.grants.map((g) => ({ role: g.role, scope: g.scope, principalId: g.principalId ?? '', id: g.assignmentId ?? '', created: false, planned: !g.exists && !g.grantedBy }));
}

/**
 * Makes the target's planned grants, once its identity is in place; reports those in place
 * already. A grant several targets share (one user-assigned identity) is made by the target
 * the plan named; the others wait for it and report nothing of it, so it is reported once. If
 * that target gave up before making it, the next one makes it.
 */
export async function writeGrants(ctx: ApplyContext, r: TargetResult): Promise<void> {
  if (r.grants.length === 0 || !r.after) return;
  const principalId = assigneePrincipal(ctx.settings, r.ref, r.after);
  for (const g of r.grants) {
    if (g.exists) {
      const id = g.assignmentId ?? `${g.scope}/providers/Microsoft.Authorization/roleAssignments/${assignmentName(g.scope, g.roleDefinitionId, principalId)}`;
      info(`${r.label}: already had ${q(g.role)} at ${g.scope} (${id}).`);
      r.roles.push({ role: g.role, scope: g.scope, principalId, id, created: false });
      continue;
    }
    const owned = g.grantedBy ? await takeOver(ctx, g.key) : ctx.grantOwners.get(g.key);
    if (owned === null) continue;
    const what = `the role assignment ${q(g.role)} at ${g.scope}`;
    let granted: GrantedRole | undefined;
    try {
      granted = await abortable(ctx.roles.create(g, principalId, ctx.signal, (inFlight) => (r.inFlight = inFlight ? what : undefined)), ctx.signal);
    } finally {
      owned?.settle(granted !== undefined);
    }
    r.inFlight = undefined;
    if (granted.created) r.changed = true;
    info(`${r.label}: ${granted.created ? 'granted' : 'already had'} ${q(g.role)} at ${g.scope} to principal ${principalId} (${granted.id}).`);
    r.roles.push(granted);
  }
}

/**
 * Waits for the target that makes a shared grant. Null when it made it; otherwise this target
 * takes the grant over, under a new entry the others then wait on (one takes over at a time).
 */
async function takeOver(ctx: ApplyContext, key: string): Promise<Settle | null> {
  for (let turn = 0; turn < MAX_TARGETS; turn++) {
    const entry = ctx.grantOwners.get(key);
    if (!entry) return null;
    if (await abortable(entry.done, ctx.signal)) return null;
    if (ctx.grantOwners.get(key) !== entry) continue;
    const mine = settleable();
    ctx.grantOwners.set(key, mine);
    return mine;
  }
  return null;
}

/** A target gave up (or is done): grants it was to make and did not are left to the next target that shares them. */
export function releaseGrants(ctx: ApplyContext, r: TargetResult): void {
  for (const g of r.grants) if (!g.exists && !g.grantedBy) ctx.grantOwners.get(g.key)?.settle(false);
}
