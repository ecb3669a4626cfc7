// One scale set in two phases. prepare: read it (waiting out a busy scale set), plan, and check
// every rule that needed the read, with no write anywhere. apply: write with If-Match, wait
// for Azure, then extensions and roles. A 412 means someone else changed the scale set between
// our read and our write: read again, plan again, check again.
import { info, warning } from './writer.ts';
import { abortable, sleep } from './abort.ts';
import { InvalidAnswer } from './azure/answers.ts';
import { armFailure } from './azure/arm-errors.ts';
import { OperationFailedError, type ScaleSetState } from './azure/scale-sets.ts';
import { CheckFailed, type ApplyContext } from './context.ts';
import { backoffMs } from './backoff.ts';
import { ActionError } from './errors.ts';
import { sameIdentity, type ScaleSetIdentity } from './identity.ts';
import { bareNameFor, resolveIdentity } from './inputs.ts';
import { identityExists, missingIdentities, shortName } from './identities.ts';
import { imdsWarningText, lostImdsDefault } from './imds-default.ts';
import { missingIdentityMessage, unknownIdentityMessage } from './messages.ts';
import { plan, plannedIdentity, type IdentityPatch, type IdentityRequest, type Plan } from './plan.ts';
import type { TargetResult } from './result.ts';
import { sameId, type ScaleSetRef } from './resource-id.ts';
import type { Settings } from './settings.ts';
import { q } from './text.ts';

/** Re-plans after a 412 before giving up; busy and throttled waits are bounded by the deadline instead. */
export const MAX_REPLANS = 10;
/** Reads that failed for want of an answer, on top of the SDK's own retries. */
const MAX_READ_RETRIES = 20;
/** Writes whose answer was lost (no answer, or a gateway's 502/504), each checked by reading. */
const MAX_LOST_WRITES = 3;
const IDLE_STATES = new Set(['succeeded', 'failed', 'canceled']);

export function requestFor(settings: Settings, ref: ScaleSetRef, missing: string[] = []): IdentityRequest {
  return {
    operation: settings.operation,
    ...(settings.system !== undefined ? { system: settings.system } : {}),
    userAssignedIds: settings.userAssignedIds.map((v) => resolveIdentity(v, ref)),
    ...(settings.removeMissingIdentities && missing.length ? { dropMissing: missing } : {}),
  };
}

function describePlan(name: string, p: Plan): string {
  if (!p.changed) return `${name}: identity already as requested (${p.before}).`;
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
  // Otherwise the check phase looks, for scale sets whose identity the plan writes.
  if (ctx.settings.removeMissingIdentities || ctx.settings.operation === 'show') {
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
  // A re-plan (after a 412) warns only of what it adds to what was already said.
  const said = new Set([...r.warnings, ...(r.removals ?? [])]);
  r.warnings = lost;
  r.removals = removed;
  for (const line of lost.filter((l) => !said.has(l))) warning(`${r.label} (operation 'set'): ${line}. Use operation 'assign' to keep it.`, 'Removal that cannot be undone');
  for (const line of removed.filter((l) => !said.has(l))) warning(`${r.label} (operation 'set'): ${line}. Use operation 'assign' to keep it.`, 'User-assigned identity removed');
}

/** How often a target's write has been tried again, and why. */
interface Attempts {
  attempt: number;
  replans: number;
  lost: number;
  /** The plan of a write whose answer was lost: it may land later, whatever comes after. */
  lostPlan?: Plan;
}

/**
 * Warns when the plan leaves IMDS no default identity. `r.after` is the identity this plan was
 * made against (the latest read); a re-plan after a 412 warns again only if the warning changed.
 */
function warnImdsDefault(r: TargetResult, p: Plan): void {
  const current = r.after ?? r.before ?? { userAssigned: [] };
  const after = plannedIdentity(current, p);
  const lost = lostImdsDefault(current, after);
  const text = lost ? imdsWarningText(lost, after) : undefined;
  if (text && text !== r.imdsWarning) warning(`${r.label}: ${text}.`, 'IMDS default identity lost');
  r.imdsWarning = text;
}

/** Phase two: make the change, waiting for Azure to finish. */
export async function applyChange(ctx: ApplyContext, r: TargetResult): Promise<void> {
  let p = r.plan as Plan;
  const tries: Attempts = { attempt: 0, replans: 0, lost: 0 };
  for (; ; tries.attempt++) {
    if (!p.changed || !p.patch || ctx.settings.operation === 'show') {
      if (tries.lostPlan) settleLostWrite(r, tries.lostPlan);
      return;
    }
    warnIrreversible(ctx, r, p);
    warnImdsDefault(r, p);
    if (ctx.settings.dryRun) {
      info(`${r.label}: dry run, nothing written. The PATCH would be: ${JSON.stringify(p.patch)}`);
      return;
    }
    try {
      await writeIdentity(ctx, r, p, p.patch);
      return;
    } catch (error) {
      p = await recover(ctx, r, p, error, tries);
    }
  }
}

/** Sends the PATCH and waits for Azure to finish it, recording each step on the result. */
async function writeIdentity(ctx: ApplyContext, r: TargetResult, p: Plan, patch: IdentityPatch): Promise<void> {
  // A fleet's later scale sets still come through here after a cancel: they fail without a request.
  ctx.signal.throwIfAborted();
  const final = await abortable(ctx.scaleSets.update(r.ref, patch, r.etag, {
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
}

/** After a write that failed: the plan to try next (read afresh), or the error to stop with. */
async function recover(ctx: ApplyContext, r: TargetResult, p: Plan, error: unknown, tries: Attempts): Promise<Plan> {
  if (error instanceof OperationFailedError) r.operationFailed = true;
  if (r.write === 'accepted' || ctx.signal.aborted) throw error;
  const f = armFailure(error);
  // No answer, or a gateway's word that the backend did not answer: the write may have landed.
  if (f.network || f.statusCode === 502 || f.statusCode === 504) {
    if (++tries.lost > MAX_LOST_WRITES) throw error;
    // It stays 'sent' from here on: the read may come too early to see it, and a cancel
    // during the read must not say that nothing was written.
    tries.lostPlan = p;
    info(`${r.label}: the answer to the write was lost (${f.message}); reading the scale set to see whether it landed.`);
    return readAndPlan(ctx, r);
  }
  // Azure answered this write; an earlier one whose answer was lost may still have landed.
  if (!tries.lostPlan) r.write = 'none';
  if (f.statusCode === 412) {
    if (++tries.replans > MAX_REPLANS) {
      throw new ActionError(`${r.label} kept changing between our read and our write (${MAX_REPLANS} times 412 PreconditionFailed); nothing was written by this step. Another process is updating it continuously: run this step again once it settles.`);
    }
    info(`${r.label}: the scale set changed since it was read (412 PreconditionFailed); reading it again and re-planning (${tries.replans} of ${MAX_REPLANS}).`);
    const next = await readAndPlan(ctx, r);
    info(describePlan(r.label, next));
    return next;
  }
  if (isThrottledOrBusy(error)) {
    const wait = backoffMs(tries.attempt, f.headers);
    info(`${r.label}: Azure answered ${f.statusCode} ${f.code ?? ''}; reading again and retrying in ${(wait / 1000).toFixed(1)} s.`);
    await sleep(wait, ctx.signal);
    return readAndPlan(ctx, r);
  }
  if (f.code === 'FailedIdentityOperation') throw await explainMissingIdentity(ctx, r, f.message, error);
  throw error;
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
      r.changed = true;
      r.acceptedUnfinished.push(`the removal of the retired extension ${name}`);
    }), ctx.signal);
    r.acceptedUnfinished = r.acceptedUnfinished.filter((w) => !w.endsWith(` ${name}`));
    r.removedExtensions.push(name);
  }
  r.legacyExtensions = r.legacyExtensions.filter((n) => !r.removedExtensions.includes(n));
}
