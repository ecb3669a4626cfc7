// One scale set in two phases. prepare: read it (waiting out a busy scale set), plan, and check
// every rule that needed the read, with no write anywhere. apply: write with If-Match, wait
// for Azure, then extensions and roles. A 412 means someone else changed the scale set between
// our read and our write: read again, plan again, check again.
import { info, warning } from './writer.ts';
import { abortable, sleep } from './abort.ts';
import { InvalidAnswer } from './azure/answers.ts';
import { armFailure } from './azure/arm-errors.ts';
import type { RoleAssignments } from './azure/roles.ts';
import type { ScaleSets, ScaleSetState } from './azure/scale-sets.ts';
import { backoffMs } from './backoff.ts';
import { ActionError } from './errors.ts';
import { sameIdentity, type ScaleSetIdentity } from './identity.ts';
import { resolveIdentity } from './inputs.ts';
import { missingIdentityMessage, unknownIdentityMessage } from './messages.ts';
import { plan, plannedIdentity, type IdentityRequest, type Plan } from './plan.ts';
import type { TargetResult } from './result.ts';
import { sameId, type ScaleSetRef } from './resource-id.ts';
import type { Settings } from './settings.ts';
import { clip, q } from './text.ts';

/** Re-plans after a 412 before giving up; busy and throttled waits are bounded by the deadline instead. */
export const MAX_REPLANS = 10;
/** Reads that failed for want of an answer, on top of the SDK's own retries. */
const MAX_READ_RETRIES = 20;
/** Writes whose answer was lost (no answer, or a gateway's 502/504), each checked by reading. */
const MAX_LOST_WRITES = 3;
const IDLE_STATES = new Set(['succeeded', 'failed', 'canceled']);

export interface ApplyContext {
  scaleSets: ScaleSets;
  roles: RoleAssignments;
  settings: Settings;
  signal: AbortSignal;
  /** One read per user-assigned identity for the whole fleet: whether it still exists. */
  identityChecks?: Map<string, Promise<boolean | undefined>>;
}

/** A rule the inputs break for this scale set, found before any write. */
export class CheckFailed extends ActionError {
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailed';
  }
}

export function requestFor(settings: Settings, ref: ScaleSetRef, missing: string[] = []): IdentityRequest {
  return {
    operation: settings.operation,
    ...(settings.system !== undefined ? { system: settings.system } : {}),
    userAssignedIds: settings.userAssignedIds.map((v) => resolveIdentity(v, ref)),
    ...(settings.removeMissingIdentities && missing.length ? { dropMissing: missing } : {}),
  };
}

/**
 * Whether a user-assigned identity exists: only a 404 proves it does not. A read that fails
 * otherwise (no read permission there, throttling past the retries) is undefined, with a
 * warning: not knowing is no reason to fail a step the real write might pass.
 */
function identityExists(ctx: ApplyContext, id: string): Promise<boolean | undefined> {
  ctx.identityChecks ??= new Map();
  const key = id.toLowerCase();
  let check = ctx.identityChecks.get(key);
  if (!check) {
    check = abortable(ctx.scaleSets.identityExists(id, ctx.signal), ctx.signal).catch((error: unknown) => {
      if (ctx.signal.aborted) {
        ctx.identityChecks?.delete(key);
        throw error;
      }
      warning(`Could not check whether user-assigned identity ${shortName(id)} (${id}) exists: ${clip(armFailure(error).message, 300).replace(/\.?$/, '.')} Going on as if it does.`, 'Identity not checked');
      return undefined;
    });
    ctx.identityChecks.set(key, check);
  }
  return check;
}

/** The user-assigned identities the scale set references that no longer exist in Azure (reading them answers 404). */
async function missingIdentities(ctx: ApplyContext, identity: ScaleSetIdentity): Promise<string[]> {
  const exists = await Promise.all(identity.userAssigned.map((u) => identityExists(ctx, u.id)));
  return identity.userAssigned.filter((_, i) => exists[i] === false).map((u) => u.id);
}

const shortName = (id: string) => id.split('/').pop() ?? id;

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

/** Worth another read: throttled, busy, no answer, or a token that expired on its way. */
function isRetryableRead(error: unknown): boolean {
  const f = armFailure(error);
  return isThrottledOrBusy(error) || f.network || f.code === 'ExpiredAuthenticationToken';
}

async function readWhenIdle(ctx: ApplyContext, ref: ScaleSetRef, label = ref.name): Promise<ScaleSetState> {
  for (let attempt = 0; ; attempt++) {
    let state: ScaleSetState;
    try {
      state = await abortable(ctx.scaleSets.read(ref, ctx.signal), ctx.signal);
    } catch (error) {
      if (!isRetryableRead(error) || attempt >= MAX_READ_RETRIES) throw error;
      const f = armFailure(error);
      const wait = backoffMs(attempt, f.headers);
      info(`${label}: Azure is throttling or busy (${f.code ?? f.statusCode}); reading again in ${(wait / 1000).toFixed(1)} s.`);
      await sleep(wait, ctx.signal);
      continue;
    }
    const busy = state.provisioningState !== undefined && !IDLE_STATES.has(state.provisioningState.toLowerCase());
    if (!busy || ctx.settings.operation === 'show') return state;
    const wait = backoffMs(attempt);
    info(`${label}: provisioning state is '${state.provisioningState}'; waiting ${(wait / 1000).toFixed(1)} s for Azure to finish before changing the identity.`);
    await sleep(wait, ctx.signal);
  }
}

/** The rules that need the scale set's current identity: who receives the roles must be there after the change. */
function checkPlanned(settings: Settings, ref: ScaleSetRef, planned: ScaleSetIdentity): void {
  if (settings.roleAssignments.length === 0) return;
  if (settings.roleAssignee) {
    const id = resolveIdentity(settings.roleAssignee, ref);
    if (!planned.userAssigned.some((u) => sameId(u.id, id))) {
      throw new CheckFailed(`Input 'role-assignee': ${q(settings.roleAssignee)} is not a user-assigned identity of scale set ${q(ref.name)}, and operation '${settings.operation}' does not add it, so it cannot receive roles. Add it to user-assigned-ids, or name one the scale set has.`);
    }
    return;
  }
  if (!planned.system) {
    throw new CheckFailed(`Input 'role-assignments': scale set ${q(ref.name)} will have no system-assigned identity to grant roles to. Add SystemAssigned to identity-type, or name a user-assigned identity in role-assignee.`);
  }
}

/**
 * Reads the scale set (or takes what its list answer said, first time round), looks for
 * references to deleted identities when that matters, and plans.
 */
async function readAndPlan(ctx: ApplyContext, r: TargetResult): Promise<Plan> {
  const listed = r.listed;
  r.listed = undefined;
  const idle = (s: ScaleSetState) => s.provisioningState === undefined || IDLE_STATES.has(s.provisioningState.toLowerCase());
  const state = listed && (ctx.settings.operation === 'show' || (listed.etag && idle(listed))) ? listed : await readWhenIdle(ctx, r.ref, r.label);
  // A dry run looks too: the real run's write would fail on such a reference.
  if (ctx.settings.removeMissingIdentities || ctx.settings.operation === 'show' || ctx.settings.dryRun) {
    const known = r.missingIdentities;
    r.missingIdentities = await missingIdentities(ctx, state.identity);
    // Once per identity and scale set, though a 412 or a lost answer reads it again.
    for (const id of r.missingIdentities.filter((m) => !known.some((k) => sameId(k, m)))) {
      const fix = ctx.settings.removeMissingIdentities && ctx.settings.operation !== 'show' ? ' This step removes the reference (remove-missing-identities).' : ' Every identity change on it fails until the reference is removed: run with remove-missing-identities: true.';
      warning(`${r.label} references user-assigned identity ${shortName(id)} (${id}), which no longer exists: reading it answers 404.${fix}`, 'Identity that no longer exists');
    }
  }
  return planWith(ctx, r, state);
}

/** Plans against `state` (and the deleted identities found in it) and checks the result; records both on the result. */
function planWith(ctx: ApplyContext, r: TargetResult, state: ScaleSetState): Plan {
  const { ref } = r;
  r.id = state.id;
  if (state.etag) r.etag = state.etag;
  r.before ??= state.identity;
  r.legacyExtensions = state.legacyExtensions;
  if (state.upgradePolicy) r.upgradePolicy = state.upgradePolicy;
  let p: Plan;
  try {
    p = plan(state.identity, requestFor(ctx.settings, ref, r.missingIdentities), { name: ref.name, ...(state.orchestrationMode ? { orchestrationMode: state.orchestrationMode } : {}) });
  } catch (error) {
    throw error instanceof ActionError ? new CheckFailed(error.message) : error;
  }
  checkPlanned(ctx.settings, ref, plannedIdentity(state.identity, p));
  r.plan = p;
  r.after = state.identity;
  return p;
}

/** Phase one: read, plan and check, and resolve role names. Writes nothing. */
export async function prepare(ctx: ApplyContext, r: TargetResult): Promise<void> {
  const p = await readAndPlan(ctx, r);
  if (ctx.settings.operation !== 'show') info(describePlan(r.label, p));
  if (p.alreadyAbsent.length) info(`${r.label}: not assigned, nothing to remove: ${p.alreadyAbsent.join(', ')}`);
  for (const role of ctx.settings.roleAssignments) {
    try {
      await abortable(ctx.roles.resolve(role.role, role.scope, ctx.signal), ctx.signal);
    } catch (error) {
      // A role that does not exist is the inputs' fault; an answer Azure got wrong is not.
      throw error instanceof ActionError && !(error instanceof InvalidAnswer) ? new CheckFailed(error.message) : error;
    }
  }
}

/**
 * The removals an operation `set` makes without naming them. Only a system-assigned principal's
 * deletion cannot be undone; a user-assigned identity taken away can be assigned again.
 */
function removals(r: TargetResult, p: Plan): { lost: string[]; removed: string[] } {
  const before = r.before;
  const lost = p.disableSystem ? [`disabling the system-assigned identity deletes its principal ${before?.system?.principalId ?? '(unknown)'} for good, with its role assignments`] : [];
  const removed = p.remove.map((id) => {
    const principal = before?.userAssigned.find((u) => sameId(u.id, id))?.principalId;
    return `removing ${shortName(id)} (${id}, principal ${principal ?? '(unknown)'}) takes that identity, and what its role assignments grant, away from the scale set; assigning it again undoes this`;
  });
  return { lost, removed };
}
function warnIrreversible(ctx: ApplyContext, r: TargetResult, p: Plan): void {
  if (ctx.settings.operation !== 'set') return;
  const { lost, removed } = removals(r, p);
  r.warnings = lost;
  r.removals = removed;
  for (const line of lost) warning(`${r.label} (operation 'set'): ${line}. Use operation 'assign' to keep it.`, 'Removal that cannot be undone');
  for (const line of removed) warning(`${r.label} (operation 'set'): ${line}. Use operation 'assign' to keep it.`, 'User-assigned identity removed');
}

/** Phase two: make the change, waiting for Azure to finish. */
export async function applyChange(ctx: ApplyContext, r: TargetResult): Promise<void> {
  let p = r.plan as Plan;
  let replans = 0;
  let lost = 0;
  /** The plan of a write whose answer was lost: it may land later, whatever comes after. */
  let lostPlan: Plan | undefined;
  for (let attempt = 0; ; attempt++) {
    if (!p.changed || !p.patch || ctx.settings.operation === 'show') {
      if (lostPlan) settleLostWrite(r, lostPlan);
      return;
    }
    warnIrreversible(ctx, r, p);
    if (ctx.settings.dryRun) {
      await checkForDryRun(ctx, r, p);
      info(`${r.label}: dry run, nothing written. The PATCH would be: ${JSON.stringify(p.patch)}`);
      r.changed = true;
      return;
    }
    try {
      // A fleet's later scale sets still come through here after a cancel: they fail without a request.
      ctx.signal.throwIfAborted();
      const final = await abortable(ctx.scaleSets.update(r.ref, p.patch, r.etag, {
        signal: ctx.signal,
        onSent: () => {
          if (r.write === 'none') r.write = 'sent';
        },
        onAccepted: (url) => {
          r.write = 'accepted';
          r.changed = true;
          r.applied = p;
          if (url) r.operationUrl = url;
          info(`${r.label}: Azure accepted the change; waiting for it to finish.`);
        },
        onPollTrouble: (reason, wait) => info(`${r.label}: no answer about the operation (${reason}); asking again in ${(wait / 1000).toFixed(1)} s.`),
      }), ctx.signal);
      r.write = 'completed';
      r.after = final.identity;
      return;
    } catch (error) {
      if (r.write === 'accepted' || ctx.signal.aborted) throw error;
      const f = armFailure(error);
      // No answer, or a gateway's word that the backend did not answer: the write may have landed.
      if (f.network || f.statusCode === 502 || f.statusCode === 504) {
        if (++lost > MAX_LOST_WRITES) throw error;
        // It stays 'sent' from here on: the read may come too early to see it, and a cancel
        // during the read must not say that nothing was written.
        lostPlan = p;
        info(`${r.label}: the answer to the write was lost (${f.message}); reading the scale set to see whether it landed.`);
        p = await readAndPlan(ctx, r);
        continue;
      }
      // Azure answered this write; an earlier one whose answer was lost may still have landed.
      if (!lostPlan) r.write = 'none';
      if (f.statusCode === 412) {
        if (++replans > MAX_REPLANS) {
          throw new ActionError(`${r.ref.name} kept changing between our read and our write (${MAX_REPLANS} times 412 PreconditionFailed); nothing was written by this step. Another process is updating it continuously: run this step again once it settles.`);
        }
        info(`${r.label}: the scale set changed since it was read (412 PreconditionFailed); reading it again and re-planning (${replans} of ${MAX_REPLANS}).`);
        p = await readAndPlan(ctx, r);
        info(describePlan(r.label, p));
        continue;
      }
      if (isThrottledOrBusy(error)) {
        const wait = backoffMs(attempt, f.headers);
        info(`${r.label}: Azure answered ${f.statusCode} ${f.code ?? ''}; reading again and retrying in ${(wait / 1000).toFixed(1)} s.`);
        await sleep(wait, ctx.signal);
        p = await readAndPlan(ctx, r);
        continue;
      }
      if (f.code === 'FailedIdentityOperation') throw await explainMissingIdentity(ctx, r, f.message, error);
      throw error;
    }
  }
}

/**
 * The state is as requested after a write whose answer was lost: it landed (or another writer
 * made the same change at the same moment), as reading the scale set shows.
 */
function settleLostWrite(r: TargetResult, lostPlan: Plan): void {
  r.changed = !sameIdentity(r.before as ScaleSetIdentity, r.after as ScaleSetIdentity);
  r.write = r.changed ? 'completed' : 'none';
  if (r.changed) {
    r.applied = lostPlan;
    r.confirmedByReading = true;
  }
}

/** The user-assigned-ids input that resolved to `id` for this scale set, when it was a bare name. */
function bareNameFor(settings: Settings, ref: ScaleSetRef, id: string): string | undefined {
  return settings.userAssignedIds.find((v) => !v.startsWith('/') && sameId(resolveIdentity(v, ref), id));
}

/**
 * What the real run would meet at the write, which Azure alone checks: an identity to add that
 * does not exist (a typo, a bare name looked up in the wrong resource group), or a reference to
 * a deleted identity the write would keep. One read per identity for the whole fleet.
 */
async function checkForDryRun(ctx: ApplyContext, r: TargetResult, p: Plan): Promise<void> {
  const kept = r.missingIdentities.find((id) => !p.remove.some((x) => sameId(x, id)));
  if (kept) throw new ActionError(`Dry run: the real run would fail. ${missingIdentityMessage(r.ref.name, kept)}`);
  for (const id of p.add) {
    if ((await identityExists(ctx, id)) === false) throw new ActionError(`Dry run: the real run would fail. ${unknownIdentityMessage(r.ref, id, bareNameFor(ctx.settings, r.ref, id))}`);
  }
}

/**
 * Azure refuses an identity write that names an identity that does not exist: one the write
 * adds, or a reference to a deleted one the scale set keeps. Name it, confirm it is gone by
 * reading it, and say what to do.
 */
async function explainMissingIdentity(ctx: ApplyContext, r: TargetResult, message: string, error: unknown): Promise<unknown> {
  const named = /Resource '([^']+)' was not found/i.exec(message)?.[1]?.replace(/\/{2,}/g, '/');
  const reference = named ? r.before?.userAssigned.find((u) => sameId(u.id, named)) : undefined;
  const added = named && !reference ? (r.plan?.add ?? []).find((id) => sameId(id, named)) : undefined;
  if (added) return (await identityExists(ctx, added)) === false ? new ActionError(unknownIdentityMessage(r.ref, added, bareNameFor(ctx.settings, r.ref, added))) : error;
  if (!reference || (await identityExists(ctx, reference.id)) !== false) return error;
  r.missingIdentities = [...new Set([...r.missingIdentities, reference.id])];
  return new ActionError(missingIdentityMessage(r.ref.name, reference.id));
}

/** Whose principal receives the roles: the named user-assigned identity, else the system-assigned one. */
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

/** Grants the requested roles once the identity is in place (idempotent: deterministic names). */
export async function grantRoles(ctx: ApplyContext, r: TargetResult): Promise<void> {
  const requests = ctx.settings.roleAssignments;
  if (requests.length === 0 || !r.after) return;
  if (ctx.settings.dryRun) {
    r.roles = requests.map((g) => ({ ...g, principalId: '', id: '', created: false }));
    return;
  }
  const principalId = assigneePrincipal(ctx.settings, r.ref, r.after);
  for (const g of requests) {
    const what = `the role assignment ${q(g.role)} at ${g.scope}`;
    const granted = await abortable(ctx.roles.grant(g.role, g.scope, principalId, ctx.signal, (inFlight) => (r.inFlight = inFlight ? what : undefined)), ctx.signal);
    r.inFlight = undefined;
    info(`${r.label}: ${granted.created ? 'granted' : 'already had'} ${q(g.role)} at ${g.scope} (${granted.id}).`);
    r.roles.push(granted);
  }
}

/** Removes the retired ManagedIdentityExtensionForWindows/ForLinux when asked to. */
export async function removeLegacyExtensions(ctx: ApplyContext, r: TargetResult): Promise<void> {
  if (!ctx.settings.removeLegacyExtension || r.legacyExtensions.length === 0 || ctx.settings.operation === 'show') return;
  for (const name of r.legacyExtensions) {
    if (ctx.settings.dryRun) {
      info(`${r.label}: dry run, would remove the retired extension ${name}.`);
      continue;
    }
    ctx.signal.throwIfAborted();
    info(`${r.label}: removing the retired extension ${name}; waiting for Azure to finish.`);
    // A DELETE has no body to watch leave: counted as sent from here, which may over-warn.
    r.inFlight = `the removal of the retired extension ${name}`;
    await abortable(ctx.scaleSets.removeExtension(r.ref, name, ctx.signal, () => {
      r.inFlight = undefined;
      r.acceptedUnfinished.push(`the removal of the retired extension ${name}`);
    }), ctx.signal);
    r.acceptedUnfinished = r.acceptedUnfinished.filter((w) => !w.endsWith(` ${name}`));
    r.removedExtensions.push(name);
  }
  r.legacyExtensions = r.legacyExtensions.filter((n) => !r.removedExtensions.includes(n));
}
