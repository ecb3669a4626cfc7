// One run of the action, top to bottom: inputs → sign-in → per scale set (read, plan, write,
// wait) → outputs and summary. Failures are phrased for the user and fail the step.
import * as core from '@actions/core';
import { applyToScaleSet, grantRoles, removeLegacyExtensions, type TargetResult } from './apply.ts';
import { RoleAssignments } from './azure/roles.ts';
import { describeArmError } from './azure/arm-errors.ts';
import { pollIntervalMs, ScaleSets } from './azure/scale-sets.ts';
import { describeSignInError, signIn, type Session } from './azure/sign-in.ts';
import { ActionError, InputError } from './errors.ts';
import type { Settings } from './inputs.ts';
import { writeOutputs, writeSummary } from './report.ts';
import { scaleSetId, type ScaleSetRef } from './resource-id.ts';

class Cancelled extends Error {
  constructor(signal: string) {
    super(`Cancelled by ${signal}.`);
    this.name = 'Cancelled';
  }
}

function describeFailure(error: unknown, r: TargetResult, settings: Settings, session: Session): string {
  const name = r.ref.name;
  const check = `Check with: az vmss show -g ${r.ref.resourceGroup} -n ${name} --query identity`;
  if (error instanceof Cancelled || (error as Error)?.name === 'TimeoutError' || (error as Error)?.name === 'AbortError') {
    const why = error instanceof Cancelled ? error.message : `Timed out after ${settings.timeoutSeconds} s (timeout-seconds).`;
    if (r.written) {
      return `${why} Azure had accepted the change to ${name} and may still complete it${r.operationUrl ? ` (operation ${r.operationUrl.split('?')[0]})` : ''}. ${check}`;
    }
    return `${why} Nothing was written to ${name}.`;
  }
  if (error instanceof ActionError || error instanceof InputError) return error.message;
  const signInProblem = describeSignInError(error, settings.signIn, session, process.env);
  if (signInProblem) return signInProblem;
  const message = (error as Error)?.message ?? String(error);
  if (/long-running operation has failed/i.test(message)) {
    return `Azure reported the identity update of ${name} as failed: ${message.replace(/^.*has failed\.?\s*/i, '')} Nothing else was changed by this step. ${check}`;
  }
  return describeArmError(error, r.ref, session.describe);
}

async function forEachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function newResult(ref: ScaleSetRef): TargetResult {
  return { ref, id: scaleSetId(ref), changed: false, legacyExtensions: [], written: false, attemptedWrite: false, roles: [], removedExtensions: [] };
}

export async function run(settings: Settings, env: NodeJS.ProcessEnv, idToken?: Promise<string | undefined>): Promise<void> {
  const cancel = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => cancel.abort(new Cancelled(signal));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let session: Session;
  try {
    session = signIn(settings.signIn, settings.cloud, env, idToken);
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error));
    return;
  }
  const signal = AbortSignal.any([cancel.signal, AbortSignal.timeout(settings.timeoutSeconds * 1000)]);
  core.debug(`settings: ${JSON.stringify({ ...settings, signIn: settings.signIn.kind })}`);

  const signedIn = await core.group('Sign in', async () => {
    try {
      // enableCae as the SDK's bearer policy asks, so both share MSAL's cache: one sign-in per run.
      const token = await session.credential.getToken(settings.cloud.scope, { abortSignal: signal, enableCae: true });
      if (token) core.setSecret(token.token);
      core.info(`Signed in as ${session.describe}.`);
      return true;
    } catch (error) {
      const problem = describeSignInError(error, settings.signIn, session, env)
        ?? (signal.aborted ? describeFailure(signal.reason, newResult(settings.targets[0] as ScaleSetRef), settings, session) : undefined)
        ?? `Sign-in failed: ${(error as Error)?.message ?? String(error)}`;
      core.setFailed(problem);
      return false;
    }
  });
  if (!signedIn) return;

  const scaleSets = new ScaleSets(session.credential, settings.cloud, pollIntervalMs(Math.min(settings.maxParallel, settings.targets.length)));
  const roles = new RoleAssignments(session.credential, settings.cloud);
  const results = settings.targets.map((ref) => newResult(ref));
  const fleet = results.length > 1;
  // Log groups cannot interleave: one per scale set alone, one for the fleet (lines carry the name).
  const grouped = <T>(name: string, body: () => Promise<T>) => (fleet ? body() : core.group(name, body));
  if (fleet) core.startGroup(`${results.length} scale sets, ${Math.min(settings.maxParallel, results.length)} at a time`);
  await forEachLimited(results, settings.maxParallel, (r) =>
    grouped(`Scale set ${r.ref.name}`, async () => {
      try {
        const ctx = { scaleSets, roles, settings, signal };
        await applyToScaleSet(ctx, r.ref, r);
        await removeLegacyExtensions(ctx, r.ref, r);
        await grantRoles(ctx, r.ref, r);
      } catch (error) {
        r.error = describeFailure(signal.aborted ? signal.reason : error, r, settings, session);
        if (fleet) core.error(r.error, { title: `Scale set ${r.ref.name}` });
      }
      for (const name of r.legacyExtensions) {
        core.warning(`${r.ref.name} still has the retired ${name} extension (token endpoint on port 50342). Workloads should request tokens from the Instance Metadata Service (169.254.169.254) instead; then remove it (remove-legacy-extension: true).`, { title: 'Retired managed identity extension' });
      }
    }),
  );
  if (fleet) core.endGroup();

  writeOutputs(results, settings);
  try {
    await writeSummary(results, settings);
  } catch (error) {
    core.warning(`Could not write the job summary: ${(error as Error).message}`);
  }
  const failed = results.filter((r) => r.error);
  if (failed.length === 1 && results.length === 1) core.setFailed(failed[0]?.error ?? 'failed');
  else if (failed.length) core.setFailed(`${failed.length} of ${results.length} scale sets failed:\n${failed.map((r) => `- ${r.ref.name}: ${r.error}`).join('\n')}`);
  if (cancel.signal.aborted) process.exit(1);
}
