// One run of the action, top to bottom: cloud → sign-in → check every scale set (read, plan,
// no writes) → change them → outputs and summary. Outputs are written on every path.
import { abortable, isStopped, sinceStop } from './abort.ts';
import { applyChange, prepare, removeLegacyExtensions } from './apply.ts';
import { Access } from './azure/access.ts';
import { checkWrites } from './checks.ts';
import { forEachLimited } from './concurrency.ts';
import { CheckFailed, type ApplyContext } from './context.ts';
import { dryRunRoles, releaseGrants, writeGrants } from './grants.ts';
import { readCloudMetadata } from './azure/cloud-metadata.ts';
import { RoleAssignments } from './azure/roles.ts';
import type { ScaleSets } from './azure/scale-sets.ts';
import { signIn, type Session } from './azure/sign-in.ts';
import { resolveCloud, type Cloud } from './cloud.ts';
import { ActionError } from './errors.ts';
import { armFailure } from './azure/arm-errors.ts';
import { discover, type Discovery } from './azure/fleet.ts';
import { Pacer } from './azure/pacing.ts';
import { Tenants } from './azure/tenants.ts';
import { describeScopeFailure, describeSignInError, describeTargetFailure, NO_ID_TOKEN } from './messages.ts';
import { describeTags } from './selectors.ts';
import type { Prefetch } from './oidc-prefetch.ts';
import { failStep, writeOutputs } from './report.ts';
import { writeSummary } from './summary.ts';
import { newResult, planWrites, type TargetResult } from './result.ts';
import { githubRun } from './environment.ts';
import { planMarkdown, runUrl } from './plan-markdown.ts';
import type { FleetQuery, Settings } from './settings.ts';
import { clip, q } from './text.ts';
import { identityNamer, labelTargets } from './display-names.ts';
import { doneLine } from './changes.ts';
import { totals, totalsLine } from './totals.ts';
import { debug, endGroup, error as annotateError, group, info, notice, secret, startGroup, warning } from './writer.ts';

async function connect(settings: Settings, signal: AbortSignal): Promise<Cloud> {
  const request = settings.cloud;
  if (request.kind === 'builtin') return resolveCloud(request);
  info(`resource-manager-endpoint ${request.resourceManager} is a custom cloud: reading its metadata.`);
  const metadata = await abortable(readCloudMetadata(request.resourceManager, signal), signal);
  const cloud = resolveCloud(request, metadata);
  info(`Custom cloud ${cloud.name}: token audience ${cloud.audience}, login endpoint ${cloud.authorityHost}.`);
  return cloud;
}

// Compute's client (@azure/arm-compute, core-lro) is much of what is left to load: it loads while
// the sign-in's requests to Entra ID are in flight, not before the first of them leaves.
let scaleSetsModule: Promise<typeof import('./azure/scale-sets.ts')> | undefined;
const loadScaleSets = () => (scaleSetsModule ??= import('./azure/scale-sets.ts'));

/**
 * A results entry that stands for no single scale set: a scope that could not be listed, an
 * exact name that matched nothing, or a fleet query that failed before it found any.
 */
function fleetEntry(subscriptionId: string, id: string, error?: string, resourceGroup = ''): TargetResult {
  return { ...newResult({ subscriptionId, resourceGroup, name: '' }), id, ...(error !== undefined ? { error } : {}) };
}

function startFailure(error: unknown, settings: Settings, session: Session | undefined, env: NodeJS.ProcessEnv): string {
  if (isStopped(error)) return `${error.message} The step stopped while signing in; nothing was written to Azure.`;
  return describeSignInError(error, settings.signIn, session?.facts ?? {}, env, session?.audience)
    ?? `Sign-in failed: ${clip((error as Error)?.message ?? String(error), 1000)} Nothing was written to Azure.`;
}

export async function run(settings: Settings, env: NodeJS.ProcessEnv, stop: AbortController, prefetch?: Prefetch): Promise<void> {
  const { signal } = stop;
  const results: TargetResult[] = settings.targets.map((t) => ({ ...newResult(t), named: true }));
  labelTargets(results);
  let session: Session | undefined;
  const cloud = await group('Sign in', async () => {
    try {
      if (settings.signIn.kind === 'oidc' && (!env['ACTIONS_ID_TOKEN_REQUEST_URL'] || !env['ACTIONS_ID_TOKEN_REQUEST_TOKEN'])) throw new ActionError(NO_ID_TOKEN);
      const c = await connect(settings, signal);
      session = signIn(settings.signIn, c, env, signal, prefetch);
      // enableCae as the SDK's bearer policy asks, so both share MSAL's cache: one sign-in per run.
      const signedIn = session.credential.getToken(c.scope, { abortSignal: signal, enableCae: true });
      void loadScaleSets().catch(() => undefined); // awaited, and any failure reported, in configure()
      const token = await abortable(signedIn, signal);
      if (token) secret(token.token);
      info(`Signed in as ${session.describe}.`);
      return c;
    } catch (error) {
      const message = startFailure(error, settings, session, env);
      // A fleet chosen by query has no targets yet: one entry carries the failure.
      if (results.length === 0) results.push(fleetEntry(settings.query?.subscriptions[0] ?? '', ''));
      for (const r of results) r.error = message;
      return undefined;
    }
  });
  if (cloud && session) {
    try {
      await configure(settings, results, cloud, session, env, signal);
    } catch (error) {
      // Finding the fleet was cut short (a cancel, the deadline): nothing was written yet.
      const message = isStopped(signal.reason) ? `${(signal.reason as Error).message} The step stopped before its first write (finding or checking the scale sets); nothing was written to Azure.` : `Could not find the scale sets: ${clip((error as Error)?.message ?? String(error), 1000)}`;
      if (results.length === 0) results.push(fleetEntry(settings.query?.subscriptions[0] ?? '', ''));
      for (const r of results) r.error ??= message;
    }
  }
  await finish(results, settings, signal, env);
}

/** The scale sets a query matches, as results; scopes that could not be listed fail on their own. */
async function findFleet(query: FleetQuery, allowNoMatch: boolean, scaleSets: ScaleSets, session: Session, signal: AbortSignal): Promise<TargetResult[] | string> {
  return group('Finding scale sets', async () => {
    const found = await abortable(discover(query, scaleSets, signal), signal);
    info(`${found.matched.length} of ${found.seen} scale sets match${found.failures.length ? `; ${found.failures.length} scope(s) could not be listed` : ''}.`);
    for (const v of found.matched) info(`  ${v.ref.subscriptionId}/${v.ref.resourceGroup}/${v.ref.name} (${describeTags(v.tags)})`);
    const matched = found.matched.map((v) => ({ ...newResult(v.ref), id: v.id, listed: v }));
    const failed = found.failures.map((f) => fleetEntry(f.subscriptionId, f.scope, describeScopeFailure(armFailure(f.error), f.scope, session.describe, query.subscriptions.length), f.scope.split('/')[4]));
    // An exact name is a claim that the scale set exists, allow-no-match or not: one that matched
    // nothing fails on its own (an entry with no scale set id; the message names it).
    const missing = found.unmatchedNames.map((name) => ({ ...fleetEntry(query.subscriptions[0] ?? '', '', unmatchedName(query, name, found)), invalid: true }));
    if (matched.length || failed.length || missing.length) return [...matched, ...failed, ...missing];
    return noMatch(query, found, allowNoMatch);
  });
}

/** Adds the scale sets a query matches to the results; false when there is nothing to do. */
async function addFleet(query: FleetQuery, allowNoMatch: boolean, results: TargetResult[], scaleSets: ScaleSets, session: Session, signal: AbortSignal): Promise<boolean> {
  const fleet = await findFleet(query, allowNoMatch, scaleSets, session, signal);
  if (typeof fleet === 'string') {
    if (allowNoMatch) notice(`${fleet} allow-no-match is set: nothing to do.`);
    else results.push(fleetEntry(query.subscriptions[0] ?? '', '', fleet));
    return false;
  }
  for (const r of fleet) results.push(r);
  return true;
}

/** ARM's read budget is per subscription: polls are shared out by the most targets one subscription has. */
function mostInOneSubscription(results: TargetResult[]): number {
  const perSubscription = new Map<string, number>();
  let most = 1;
  for (const r of results) {
    const key = r.ref.subscriptionId.toLowerCase();
    const count = (perSubscription.get(key) ?? 0) + 1;
    perSubscription.set(key, count);
    most = Math.max(most, count);
  }
  return most;
}

async function configure(settings: Settings, results: TargetResult[], cloud: Cloud, session: Session, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<void> {
  const { pollIntervalMs, ScaleSets } = await loadScaleSets();
  const pacer = new Pacer((what) => debug(`ARM request budget: ${what}`));
  const home = settings.signIn.kind === 'oidc' ? settings.signIn.tenantId : '';
  const endpoint = { ...cloud, pacer, ...(home ? { tenants: new Tenants(session.credential, home, cloud.scope) } : {}) };
  if (settings.query && !(await addFleet(settings.query, settings.allowNoMatch, results, new ScaleSets(session.credential, endpoint), session, signal))) return;
  labelTargets(results);
  const parallel = Math.min(settings.maxParallel, results.filter((r) => !r.error).length);
  const busiest = Math.min(parallel, mostInOneSubscription(results));
  const ctx: ApplyContext = {
    scaleSets: new ScaleSets(session.credential, endpoint, pollIntervalMs(busiest)),
    roles: new RoleAssignments(session.credential, endpoint),
    access: new Access(session.credential, endpoint),
    settings,
    signal,
    signedInAs: session.describe,
    grantOwners: new Map(),
  };
  const pending = results.filter((r) => !r.error);
  const fleet = results.length > 1 || settings.query !== undefined;
  const fail = (r: TargetResult, error: unknown) => {
    if (r.error) return;
    if (error instanceof CheckFailed && !signal.aborted) r.invalid = true;
    r.error = describeTargetFailure(signal.aborted ? signal.reason : error, r, settings.signIn, session.facts, env, session.describe);
    if (fleet) annotateError(r.error, `Scale set ${r.label}`);
  };
  // Log groups cannot nest or interleave: one for a lone scale set, one for a fleet (lines carry the name).
  if (pending.length === 0) return;
  startGroup(fleet ? (pending.length === 1 ? '1 scale set' : `${pending.length} scale sets, ${parallel} at a time`) : `Scale set ${pending[0]?.label ?? ''}`);
  try {
    if (!(await check(ctx, results, pending, fail))) return;
    const identityName = identityNamer(results);
    // A dry run goes the same way, and each step stops where it would write.
    await forEachLimited(pending.filter((r) => !r.error), settings.maxParallel, async (r) => {
      try {
        await applyChange(ctx, r);
        await removeLegacyExtensions(ctx, r);
        if (!settings.dryRun) await writeGrants(ctx, r);
        const done = settings.dryRun ? undefined : doneLine(r, identityName);
        if (done) info(done);
      } catch (error) {
        fail(r, error);
      } finally {
        releaseGrants(ctx, r);
      }
    });
    if (settings.dryRun) reportDryRun(ctx, pending);
  } finally {
    endGroup();
  }
  if (pacer.waitingMs) info(`To stay within ARM's request budgets, requests were held back during ${(pacer.waitingMs / 1000).toFixed(1)} s of the run (time with at least one request waiting; the longest single wait ${(pacer.longestWaitMs / 1000).toFixed(1)} s).`);
}

/**
 * Reads and plans every target, then checks every write of the plan, with no write anywhere.
 * False when a check failed: then no target is written, and each says why.
 */
async function check(ctx: ApplyContext, results: TargetResult[], pending: TargetResult[], fail: (r: TargetResult, error: unknown) => void): Promise<boolean> {
  await forEachLimited(pending, ctx.settings.maxParallel, async (r) => {
    try {
      await prepare(ctx, r);
    } catch (error) {
      // A scale set named exactly that cannot be read (not there, or not readable: ARM answers a
      // typo in a resource group the app may not read with 403) stops every write.
      fail(r, r.named && !ctx.signal.aborted ? new CheckFailed(describeTargetFailure(error, r, ctx.settings.signIn, {}, {}, ctx.signedInAs)) : error);
    }
  });
  if (!results.some((r) => r.invalid)) await checkWrites(ctx, pending.filter((r) => !r.error), fail);
  const invalid = results.filter((r) => r.invalid);
  if (invalid.length === 0) return true;
  // Named once for all, and only the first few: 10,000 messages naming 10,000 scale sets each would take gigabytes.
  const names = `${invalid.slice(0, 5).map((r) => r.label || r.id || 'a vmss-name that matched nothing').join(', ')}${invalid.length > 5 ? ` and ${invalid.length - 5} more` : ''}`;
  for (const r of pending.filter((t) => !t.error)) r.error = `Not changed: every write is checked before any is made, and the checks failed for ${names}. Nothing was written to any scale set.`;
  return false;
}

/** A dry run ends where the real run would write: `changed` says whether it would. */
function reportDryRun(ctx: ApplyContext, pending: TargetResult[]): void {
  for (const r of pending.filter((t) => !t.error)) {
    r.changed = planWrites(r, ctx.settings.removeLegacyExtension);
    r.roles = dryRunRoles(r);
    const to = ctx.settings.roleAssignee ? ` to ${q(ctx.settings.roleAssignee)} (its principal could not be read)` : ' to the system-assigned identity the change creates';
    for (const g of r.roles.filter((x) => x.planned)) info(`${r.label}: dry run, would grant ${q(g.role)} at ${g.scope}${g.principalId ? ` to principal ${g.principalId}` : to}.`);
  }
}

/** Not asked to remove them (a failure to remove is reported on its own, not as advice to ask). */
function warnLegacyExtensions(results: TargetResult[]): void {
  for (const r of results) {
    for (const name of r.legacyExtensions) {
      warning(`${r.label} still has the retired ${name} extension (token endpoint on port 50342). Workloads should request tokens from the Instance Metadata Service (169.254.169.254) instead; then remove it (remove-legacy-extension: true).`, 'Retired managed identity extension');
    }
  }
}

/** An exact vmss-name no scale set answered to: absent, or left out by the other selectors. */
function unmatchedName(query: FleetQuery, name: string, found: Discovery): string {
  const leftOut = found.leftOut.get(name.toLowerCase()) ?? [];
  if (leftOut.length) {
    const shown = leftOut.map((v) => `${v.ref.subscriptionId}/${v.ref.resourceGroup}/${v.ref.name} (${describeTags(v.tags)})`).join('; ');
    return `vmss-name ${q(name)} names scale set(s) that resource-group (${describeGroups(query)})${query.tags.length ? ` or vmss-tags (${describeTagFilters(query.tags)})` : ''} leave out: ${clip(shown, 800)}. Take the name out of vmss-name, or change the selectors (or the scale set's tags).`;
  }
  const unlisted = found.failures.length;
  const maybe = unlisted ? ` ${unlisted} scope(s) could not be listed (${clip(few(found.failures.map((f) => f.scope)), 300)}): it may be there.` : '';
  return `vmss-name ${q(name)} matched no scale set in resource group(s) ${describeGroups(query)} of subscription(s) ${few(query.subscriptions)}.${maybe} Check the name; a name that may be absent belongs in a pattern (with allow-no-match: true), since an exact name must exist.`;
}

/** The first few of a list, for a message: every message stays short however long the inputs are. */
const few = (values: string[], max = 10) => clip(`${values.slice(0, max).join(', ')}${values.length > max ? `, … (${values.length} in all)` : ''}`, 600);
const describeGroups = (query: FleetQuery) => few(query.resourceGroups.map((g) => g.text));
const describeTagFilters = (tags: FleetQuery['tags']) => few(tags.map((t) => (t.value === undefined ? t.key : `${t.key}=${t.value}`)));

/** Tag lines a person plausibly meant as several tags, or as key: value. */
function tagHint(query: FleetQuery): string {
  const commas = query.tags.filter((t) => /,\s*[^\s=,]+\s*=/.test(t.value ?? ''));
  const colons = query.tags.filter((t) => t.value === undefined && /^[^:]+:\s*\S/.test(t.key));
  if (!commas.length && !colons.length) return '';
  const first = commas[0] ? `${commas[0].key}=${commas[0].value ?? ''}` : colons[0]?.key ?? '';
  return ` vmss-tags takes one key=value per line; ${q(clip(first, 100))} is one ${commas.length ? 'tag whose value holds the comma' : 'tag name, colon included'}: write each tag on a line of its own.`;
}

/** Nothing matched: say what was asked and what the listings did show. */
function noMatch(query: FleetQuery, found: Discovery, allowNoMatch: boolean): string {
  const asked = [
    query.names ? `vmss-name ${query.names.map((n) => n.text).join(', ')}` : 'every scale set',
    query.tags.length ? `vmss-tags ${describeTagFilters(query.tags)}` : '',
    `resource-group ${describeGroups(query)}`,
    `subscription ${query.subscriptions.join(', ')}`,
  ].filter(Boolean).join('; ');
  const shown = found.others.map((v) => `${v.ref.resourceGroup}/${v.ref.name} (${describeTags(v.tags)})`).join('; ');
  const advice = allowNoMatch ? '' : ' Check the patterns and tags (tag names compare in any case, values exactly), or set allow-no-match: true when an empty fleet is fine.';
  return `No scale set matched (${clip(asked, 600)}). The listings showed ${found.seen} scale set(s)${found.seen ? `: ${clip(shown, 1500)}${found.seen > found.others.length ? ' …' : ''}` : ''}.${tagHint(query)}${advice}`;
}

async function finish(results: TargetResult[], settings: Settings, signal: AbortSignal, env: NodeJS.ProcessEnv): Promise<void> {
  // On every path, as the totals count them.
  if (!settings.removeLegacyExtension) warnLegacyExtensions(results);
  const plan = planMarkdown(results, settings, runUrl(githubRun(env)));
  writeOutputs(results, settings.signIn.kind === 'oidc' ? settings.signIn.tenantId : '', settings.removeLegacyExtension, plan);
  info(totalsLine(totals(results, { dryRun: settings.dryRun, show: settings.operation === 'show', removeLegacy: settings.removeLegacyExtension })));
  try {
    await writeSummary(results, settings);
  } catch (error) {
    warning(`Could not write the job summary: ${clip((error as Error).message)}`);
  }
  // Also after a stop (within a grace of its own): the comment then shows what the run did. A
  // stop while commenting only ends the comment: it does not change the step's result.
  const stopped = signal.aborted;
  if (settings.pullRequestComment) await (await import('./pull-request.ts')).postPlan(plan, settings, env, signal);
  failStep(results);
  // Requests the deadline or a cancel cut short may still hold sockets open: do not wait for them.
  if (stopped) {
    // The action's own measure of how fast it honoured the stop (tests read it: a loaded
    // machine delays the harness's clock, not this one).
    debug(`Stop to exit: ${sinceStop() ?? 0} ms (${(signal.reason as Error).message}); ${Math.round(process.uptime() * 1000)} ms since the process started.`);
    process.exit(1);
  }
}
