// The role assignments of the plan: which the run writes, which are in place already, and
// which another target grants (a user-assigned identity shared by several scale sets gets each
// role once). Planned before any write, so a dry run counts them as the real run makes them.
import { abortable } from './abort.ts';
import { assignmentName } from './azure/roles.ts';
import { forEachLimited } from './concurrency.ts';
import type { ApplyContext } from './context.ts';
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
async function grantsOf(ctx: ApplyContext, r: TargetResult): Promise<PlannedGrant[]> {
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

/**
 * Plans every target's grants; the first target (in input order) to need a shared one makes it.
 * A role that does not resolve, or a lookup Azure refuses, fails its target through `fail`.
 */
export async function planGrants(ctx: ApplyContext, targets: TargetResult[], fail: (r: TargetResult, error: unknown) => void): Promise<void> {
  if (ctx.settings.roleAssignments.length === 0 || ctx.settings.operation === 'show') return;
  const planned = new Map<TargetResult, PlannedGrant[]>();
  await forEachLimited(targets, ctx.settings.maxParallel, async (r) => {
    try {
      planned.set(r, await grantsOf(ctx, r));
    } catch (error) {
      fail(r, error);
    }
  });
  const owners = new Map<string, string>();
  targets.forEach((r) => {
    r.grants = (planned.get(r) ?? []).map((g) => {
      if (g.exists || !g.principalId) return g;
      const key = grantKey(g.scope, g.roleDefinitionId, g.principalId);
      const owner = owners.get(key);
      if (owner === undefined) owners.set(key, r.id);
      return owner === undefined ? g : { ...g, grantedBy: owner };
    });
  });
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
 * already. A grant several targets share (one user-assigned identity) is made by the first of
 * them to get here with its identity written, whichever the plan named: if that one fails
 * before, the next makes it. The others report nothing of it, so it is reported once.
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
    const key = grantKey(g.scope, g.roleDefinitionId, principalId);
    const made = ctx.grantsMade.get(key);
    if (made && (await made.then(() => true, () => false))) continue;
    const what = `the role assignment ${q(g.role)} at ${g.scope}`;
    const making = abortable(ctx.roles.create(g, principalId, ctx.signal, (inFlight) => (r.inFlight = inFlight ? what : undefined)), ctx.signal);
    ctx.grantsMade.set(key, making);
    const granted = await making;
    r.inFlight = undefined;
    if (granted.created) r.changed = true;
    info(`${r.label}: ${granted.created ? 'granted' : 'already had'} ${q(g.role)} at ${g.scope} to principal ${principalId} (${granted.id}).`);
    r.roles.push(granted);
  }
}
