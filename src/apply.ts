// One scale set, start to finish: read (waiting out a busy scale set), plan, write with
// If-Match, wait for Azure, and report what Azure says afterwards. A 412 means someone else
// changed the scale set between our read and our write: read again and plan again.
import * as core from '@actions/core';
import { armFailure } from './azure/arm-errors.ts';
import type { GrantedRole, RoleAssignments } from './azure/roles.ts';
import type { ScaleSets, ScaleSetState } from './azure/scale-sets.ts';
import { ActionError } from './errors.ts';
import { sameIdentity, type ScaleSetIdentity } from './identity.ts';
import type { Settings } from './inputs.ts';
import { plan, type IdentityRequest, type Plan } from './plan.ts';
import { identityId, sameId, type ScaleSetRef } from './resource-id.ts';
import { sleep } from './sleep.ts';

/** Re-plans after a 412 before giving up; busy and throttled waits are bounded by the deadline instead. */
export const MAX_REPLANS = 10;
const IDLE_STATES = new Set(['succeeded', 'failed', 'canceled']);

export interface TargetResult {
  ref: ScaleSetRef;
  id: string;
  before?: ScaleSetIdentity;
  after?: ScaleSetIdentity;
  plan?: Plan;
  changed: boolean;
  legacyExtensions: string[];
  upgradePolicy?: string;
  operationUrl?: string;
  /** True once Azure accepted a write for this scale set. */
  written: boolean;
  /** True once a write was sent, even if its answer never came back. */
  attemptedWrite: boolean;
  /** Roles granted (or, in a dry run, to be granted) to the scale set's identity. */
  roles: GrantedRole[];
  /** Retired extensions removed by this step. */
  removedExtensions: string[];
  error?: string;
}

export interface ApplyContext {
  scaleSets: ScaleSets;
  roles: RoleAssignments;
  settings: Settings;
  signal: AbortSignal;
}

/** Bare identity names live in the scale set's resource group. */
export function requestFor(settings: Settings, ref: ScaleSetRef): IdentityRequest {
  const ids = settings.userAssignedIds.map((v) => (v.startsWith('/') ? v : identityId(ref.subscriptionId, ref.resourceGroup, v)));
  ids.forEach((id, i) => {
    const twin = ids.slice(0, i).find((o) => sameId(o, id));
    if (twin) throw new ActionError(`Input 'user-assigned-ids' names identity '${id}' twice for scale set '${ref.name}' (a bare name and a full id resolve to the same identity). List it once.`);
  });
  return { operation: settings.operation, ...(settings.system !== undefined ? { system: settings.system } : {}), userAssignedIds: ids };
}

function describePlan(name: string, p: Plan): string {
  if (!p.changed) return `${name}: already as requested (${p.before}); nothing to change.`;
  const steps = [
    p.enableSystem ? 'enable the system-assigned identity' : '',
    p.disableSystem ? 'disable the system-assigned identity' : '',
    ...p.add.map((id) => `add ${id}`),
    ...p.remove.map((id) => `remove ${id}`),
  ].filter(Boolean);
  return `${name}: ${p.before} → ${p.after}: ${steps.join('; ')}.`;
}

function isThrottledOrBusy(error: unknown): boolean {
  const f = armFailure(error);
  return f.statusCode === 429 || (f.statusCode === 409 && f.code !== 'OperationNotAllowed') || f.statusCode === 503;
}

/**
 * What Azure asked for (Retry-After), else 1 s, 2 s, 4 s … capped at 30 s, with jitter so
 * parallel jobs waiting on the same scale set do not retry in lockstep.
 */
export function backoffMs(attempt: number, error?: unknown): number {
  const retryAfter = Number((error as { response?: { headers?: { get(n: string): string | undefined } } })?.response?.headers?.get('retry-after'));
  if (Number.isFinite(retryAfter) && retryAfter > 0) return retryAfter * 1000;
  const cap = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5));
  return Math.round(cap / 2 + Math.random() * (cap / 2));
}

async function readWhenIdle(ctx: ApplyContext, ref: ScaleSetRef): Promise<ScaleSetState> {
  for (let attempt = 0; ; attempt++) {
    let state: ScaleSetState;
    try {
      state = await ctx.scaleSets.read(ref, ctx.signal);
    } catch (error) {
      if (!isThrottledOrBusy(error)) throw error;
      const wait = backoffMs(attempt, error);
      core.info(`${ref.name}: Azure is throttling or busy (${armFailure(error).code ?? armFailure(error).statusCode}); reading again in ${(wait / 1000).toFixed(1)} s.`);
      await sleep(wait, ctx.signal);
      continue;
    }
    const busy = state.provisioningState !== undefined && !IDLE_STATES.has(state.provisioningState.toLowerCase());
    if (!busy || ctx.settings.operation === 'show') return state;
    const wait = backoffMs(attempt);
    core.info(`${ref.name}: provisioning state is '${state.provisioningState}'; waiting ${(wait / 1000).toFixed(1)} s for Azure to finish before changing the identity.`);
    await sleep(wait, ctx.signal);
  }
}

export async function applyToScaleSet(ctx: ApplyContext, ref: ScaleSetRef, result: TargetResult): Promise<void> {
  const request = requestFor(ctx.settings, ref);
  let replans = 0;
  for (let attempt = 1; ; attempt++) {
    const state = await readWhenIdle(ctx, ref);
    result.id = state.id;
    result.before ??= state.identity;
    result.legacyExtensions = state.legacyExtensions;
    if (state.upgradePolicy) result.upgradePolicy = state.upgradePolicy;
    const p = plan(state.identity, request, { name: ref.name, ...(state.orchestrationMode ? { orchestrationMode: state.orchestrationMode } : {}) });
    result.plan = p;
    if (ctx.settings.operation !== 'show') core.info(describePlan(ref.name, p));
    if (p.alreadyAbsent.length) core.info(`${ref.name}: not assigned, nothing to remove: ${p.alreadyAbsent.join(', ')}`);
    if (!p.changed || !p.patch || ctx.settings.operation === 'show') {
      result.after = state.identity;
      // A write whose answer was lost, confirmed by this read rather than sent again.
      result.changed = result.attemptedWrite && !sameIdentity(result.before, state.identity);
      return;
    }
    if (p.unlisted.length) {
      core.warning(`${ref.name}: operation 'set' removes user-assigned identities not listed in user-assigned-ids: ${p.unlisted.join(', ')}. Use operation 'assign' to keep them.`, { title: 'Identities will be removed' });
    }
    if (ctx.settings.dryRun) {
      core.info(`${ref.name}: dry run, nothing written. The PATCH would be: ${JSON.stringify(p.patch)}`);
      result.changed = true;
      result.after = state.identity;
      return;
    }
    try {
      result.attemptedWrite = true;
      const final = await ctx.scaleSets.update(ref, p.patch, state.etag, {
        signal: ctx.signal,
        onAccepted: (url) => {
          result.written = true;
          if (url) result.operationUrl = url;
          core.info(`${ref.name}: Azure accepted the change; waiting for it to finish.`);
        },
      });
      result.changed = true;
      result.after = final.identity;
      return;
    } catch (error) {
      const f = armFailure(error);
      if (result.written) throw error;
      if (f.statusCode === 412) {
        if (++replans > MAX_REPLANS) {
          throw new ActionError(`${ref.name} kept changing between our read and our write (${MAX_REPLANS} times 412 PreconditionFailed); nothing was written by this step. Another process is updating it continuously: run this step again once it settles.`);
        }
        core.info(`${ref.name}: the scale set changed since it was read (412 PreconditionFailed); reading it again and re-planning (${replans} of ${MAX_REPLANS}).`);
        continue;
      }
      if (isThrottledOrBusy(error)) {
        const wait = backoffMs(attempt - 1, error);
        core.info(`${ref.name}: Azure answered ${f.statusCode} ${f.code ?? ''}; reading again and retrying in ${(wait / 1000).toFixed(1)} s.`);
        await sleep(wait, ctx.signal);
        continue;
      }
      throw error;
    }
  }
}

/** Whose principal receives the roles: the named user-assigned identity, else the system-assigned one. */
export function assigneePrincipal(settings: Settings, ref: ScaleSetRef, identity: ScaleSetIdentity): string {
  const assignee = settings.roleAssignee;
  if (assignee) {
    const id = assignee.startsWith('/') ? assignee : identityId(ref.subscriptionId, ref.resourceGroup, assignee);
    const found = identity.userAssigned.find((u) => sameId(u.id, id));
    if (!found?.principalId) {
      throw new ActionError(`Input 'role-assignee': '${assignee}' is not a user-assigned identity of scale set '${ref.name}', so it cannot receive roles. Assign it first (user-assigned-ids) or name one the scale set has.`);
    }
    return found.principalId;
  }
  if (!identity.system?.principalId) {
    throw new ActionError(`Scale set '${ref.name}' has no system-assigned identity to grant roles to. Add SystemAssigned to identity-type, or name a user-assigned identity in role-assignee.`);
  }
  return identity.system.principalId;
}

/** Grants the requested roles once the identity is in place (idempotent: deterministic names). */
export async function grantRoles(ctx: ApplyContext, ref: ScaleSetRef, result: TargetResult): Promise<void> {
  const requests = ctx.settings.roleAssignments;
  if (requests.length === 0 || !result.after) return;
  if (ctx.settings.dryRun) {
    result.roles = requests.map((r) => ({ ...r, principalId: '', id: '', created: false }));
    return;
  }
  const principalId = assigneePrincipal(ctx.settings, ref, result.after);
  for (const r of requests) {
    const granted = await ctx.roles.grant(r.role, r.scope, principalId, ctx.signal);
    core.info(`${ref.name}: ${granted.created ? 'granted' : 'already had'} '${r.role}' at ${r.scope} (${granted.id}).`);
    result.roles.push(granted);
  }
}

/** Removes the retired ManagedIdentityExtensionForWindows/ForLinux when asked to. */
export async function removeLegacyExtensions(ctx: ApplyContext, ref: ScaleSetRef, result: TargetResult): Promise<void> {
  if (!ctx.settings.removeLegacyExtension || result.legacyExtensions.length === 0 || ctx.settings.operation === 'show') return;
  for (const name of result.legacyExtensions) {
    if (ctx.settings.dryRun) {
      core.info(`${ref.name}: dry run, would remove the retired extension ${name}.`);
      continue;
    }
    core.info(`${ref.name}: removing the retired extension ${name}; waiting for Azure to finish.`);
    await ctx.scaleSets.removeExtension(ref, name, ctx.signal);
    result.removedExtensions.push(name);
  }
  result.legacyExtensions = result.legacyExtensions.filter((n) => !result.removedExtensions.includes(n));
}
