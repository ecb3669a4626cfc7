// The check phase: before the first write to any target, in dry runs and real runs alike, every
// write of the plan is known to be possible: the identities it adds exist (and those it removes),
// no reference to a deleted identity would make its write fail, every role scope exists, and the
// signed-in principal holds each permission the writes need. A failure stops every write.
import { abortable } from './abort.ts';
import type { PermissionsAnswer } from './azure/access.ts';
import { armFailure, type ArmFailure } from './azure/arm-errors.ts';
import { forEachLimited } from './concurrency.ts';
import { CheckFailed, type ApplyContext } from './context.ts';
import { planGrants } from './grants.ts';
import { identityExists, missingIdentities, readIdentity, shortName } from './identities.ts';
import { bareNameFor } from './inputs.ts';
import { missingIdentityMessage, unknownIdentityMessage, unknownRemovalMessage } from './messages.ts';
import { ACTIONS, allows, GRANTING_ROLE, type Action } from './permissions.ts';
import { sameId } from './resource-id.ts';
import { grantsToWrite, plannedExtensionRemovals, type TargetResult } from './result.ts';
import { clip, q } from './text.ts';
import { notice, warning } from './writer.ts';

type Fail = (r: TargetResult, error: unknown) => void;

/** A permission the plan needs at a scope, for the targets whose writes need it. */
interface Need {
  action: Action;
  scope: string;
  /** A scope above to ask first: a grant there covers every scale set below it in one read. */
  parent?: string;
  what: string;
  targets: TargetResult[];
}

/** The identities the plan adds exist; those `remove` names exist too (a typo must not pass as "not assigned"). */
async function checkIdentities(ctx: ApplyContext, r: TargetResult): Promise<void> {
  const p = r.plan;
  if (!p) return;
  r.added = [];
  for (const id of p.add) {
    const found = await readIdentity(ctx, id);
    if (found === null) throw new CheckFailed(unknownIdentityMessage(r.ref, id, bareNameFor(ctx.settings, r.ref, id)));
    if (found) r.added.push(found);
  }
  for (const id of p.alreadyAbsent) {
    const exists = await identityExists(ctx, id);
    if (exists === false) throw new CheckFailed(unknownRemovalMessage(r.ref, id, bareNameFor(ctx.settings, r.ref, id)));
    if (exists) notice(`${r.label}: ${shortName(id)} exists but is not assigned to this scale set: nothing to remove (${id}).`);
  }
  if (!p.patch) return;
  // The write would fail on a reference to a deleted identity it keeps.
  r.missingIdentities = [...new Set([...r.missingIdentities, ...(await missingIdentities(ctx, r.after ?? { userAssigned: [] }))])];
  const kept = r.missingIdentities.find((id) => !p.remove.some((x) => sameId(x, id)));
  if (kept) throw new CheckFailed(missingIdentityMessage(r.ref.name, kept));
}

/** Every scope a grant writes at exists: a typo must not fail after the identity was written. */
async function checkRoleScopes(ctx: ApplyContext, targets: TargetResult[], fail: Fail): Promise<void> {
  const scopes = new Map<string, TargetResult[]>();
  for (const r of targets) for (const g of grantsToWrite(r)) scopes.set(g.scope.toLowerCase(), [...(scopes.get(g.scope.toLowerCase()) ?? []), r]);
  await forEachLimited([...scopes.values()], ctx.settings.maxParallel, async (owners) => {
    const scope = owners[0]?.grants.find((g) => scopes.get(g.scope.toLowerCase()) === owners)?.scope ?? '';
    const found = await abortable(ctx.access.scopeExists(scope, ctx.signal), ctx.signal).catch(unconfirmed(ctx));
    if (found === true) return;
    if (found === false) {
      for (const r of owners) fail(r, new CheckFailed(`Input 'role-assignments': the scope ${q(scope)} does not exist, so no role can be granted there. Check the subscription, resource group and resource names in the scope (they are case-insensitive, but must exist).`));
      return;
    }
    warning(`Could not confirm that the role scope ${q(scope)} exists (${describe(found)}). Going on: Azure checks it when the role is granted.`, 'Role scope not checked');
  });
}

/** A read the checks could not complete (no answer after the retries, an answer that breaks the rules): not known, so not a failure. */
const unconfirmed = (ctx: ApplyContext) => (error: unknown): ArmFailure => {
  if (ctx.signal.aborted) throw error;
  return armFailure(error);
};

const describe = (f: ArmFailure) => {
  const head = [f.statusCode, f.code].filter(Boolean).join(' ');
  return clip(`${head ? `${head}: ` : ''}${f.message}`, 300);
};
const groupOf = (id: string) => /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+/i.exec(id)?.[0];

/** What each target's writes need, gathered by action and scope. */
function needs(ctx: ApplyContext, targets: TargetResult[]): Need[] {
  const found = new Map<string, Need>();
  const need = (r: TargetResult, action: Action, scope: string, what: string, parent?: string) => {
    const key = `${action}|${scope}`.toLowerCase();
    const n = found.get(key) ?? { action, scope, what, targets: [], ...(parent ? { parent } : {}) };
    if (!n.targets.includes(r)) n.targets.push(r);
    found.set(key, n);
  };
  for (const r of targets) {
    if (r.plan?.patch) need(r, ACTIONS.scaleSetWrite, r.id, `changing the identity of scale set ${q(r.ref.name)}`, groupOf(r.id));
    for (const id of r.plan?.patch ? r.plan.add : []) need(r, ACTIONS.assignIdentity, id, `assigning the user-assigned identity ${q(shortName(id))}`);
    for (const g of grantsToWrite(r)) need(r, ACTIONS.roleAssignmentWrite, g.scope, `granting ${q(g.role)}`);
    if (plannedExtensionRemovals(r, ctx.settings.removeLegacyExtension).length) need(r, ACTIONS.extensionDelete, r.id, `removing the retired extension from ${q(r.ref.name)}`, groupOf(r.id));
  }
  return [...found.values()];
}

/** true: granted; false: not in the list; a failure: ARM would not say. */
async function holds(ctx: ApplyContext, n: Need): Promise<boolean | ArmFailure> {
  const ask = (scope: string): Promise<PermissionsAnswer> => abortable(ctx.access.permissionsAt(scope, ctx.signal), ctx.signal);
  if (n.parent) {
    const above = await ask(n.parent);
    if ('blocks' in above && allows(above.blocks, n.action)) return true;
  }
  const at = await ask(n.scope);
  return 'blocks' in at ? allows(at.blocks, n.action) : at.refused;
}

function missingPermission(ctx: ApplyContext, n: Need): string {
  const advice = ctx.settings.permissionCheck === 'warn'
    ? 'permission-check is warn: going on, and Azure decides at the write.'
    : 'If it holds the permission in a way the list does not show (through an Entra group, or an ABAC condition), set permission-check: warn. Nothing was written.';
  return `The signed-in principal (${ctx.signedInAs}) does not hold ${n.action} on ${n.scope}, which ${n.what} needs: no role assignment that ARM's permissions list shows there grants it. ` +
    `Grant it ${GRANTING_ROLE[n.action]} on that scope (or one above it). ${advice}`;
}

async function checkPermissions(ctx: ApplyContext, targets: TargetResult[], fail: Fail): Promise<void> {
  await forEachLimited(needs(ctx, targets), ctx.settings.maxParallel, async (n) => {
    const held = await holds(ctx, n).catch(unconfirmed(ctx));
    if (held === true) return;
    if (held !== false) {
      warning(`Could not confirm that the signed-in principal holds ${n.action} on ${n.scope} (${describe(held)}). Going on: Azure checks each write itself.`, 'Permissions not confirmed');
      return;
    }
    if (ctx.settings.permissionCheck === 'warn') {
      warning(missingPermission(ctx, n), 'Permission not shown');
      return;
    }
    for (const r of n.targets) fail(r, new CheckFailed(missingPermission(ctx, n)));
  });
}

/** Runs every check over the targets that passed their own; failures are recorded through `fail`. */
export async function checkWrites(ctx: ApplyContext, targets: TargetResult[], fail: Fail): Promise<void> {
  if (ctx.settings.operation === 'show') return;
  await forEachLimited(targets, ctx.settings.maxParallel, async (r) => {
    await checkIdentities(ctx, r).catch((error: unknown) => fail(r, error));
  });
  await planGrants(ctx, targets.filter((r) => !r.error), fail);
  const ok = () => targets.filter((r) => !r.error);
  await checkRoleScopes(ctx, ok(), fail);
  await checkPermissions(ctx, ok(), fail);
}
