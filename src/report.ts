// Step outputs and the step's failure. Ids are never masked: a masked value silently drops
// job outputs. Tokens never come here.
import { identityType, type ScaleSetIdentity } from './identity.ts';
import { grantsToWrite, plannedExtensionRemovals, reportedIdentity, reportedWrite, type TargetResult } from './result.ts';
import { clip } from './text.ts';
import { fail, output } from './writer.ts';

export const OUTPUTS = ['principal-id', 'tenant-id', 'identity-type', 'user-assigned-identities', 'principal-ids', 'client-ids', 'changed', 'results', 'role-assignment-ids', 'plan'] as const;
export type OutputName = (typeof OUTPUTS)[number];

function userAssignedMap(identity: ScaleSetIdentity): Record<string, { principalId: string; clientId: string }> {
  return Object.fromEntries(identity.userAssigned.map((u) => [u.id, { principalId: u.principalId ?? '', clientId: u.clientId ?? '' }]));
}

function principalIds(identity: ScaleSetIdentity): string[] {
  return [identity.system?.principalId, ...identity.userAssigned.map((u) => u.principalId)].filter((v): v is string => Boolean(v));
}

/** First occurrence wins, compared case-insensitively (GUIDs and ARM ids). */
function unique(values: string[]): string[] {
  const seen = new Set<string>();
  const kept: string[] = [];
  for (const v of values) {
    const key = v.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(v);
  }
  return kept;
}

/** The writes of the plan (dry run: that the real run would make; real run: that it set out to make). */
function plannedWrites(r: TargetResult, removeLegacy: boolean) {
  const identity = (r.applied?.patch ?? (r.plan?.changed ? r.plan.patch : undefined))?.identity;
  const roles = grantsToWrite(r).map((g) => ({ role: g.role, scope: g.scope }));
  const extensions = plannedExtensionRemovals(r, removeLegacy).length ? plannedExtensionRemovals(r, removeLegacy) : r.removedExtensions;
  if (!identity && roles.length === 0 && extensions.length === 0) return undefined;
  return { ...(identity ? { identity } : {}), ...(roles.length ? { roleAssignments: roles } : {}), ...(extensions.length ? { removeExtensions: extensions } : {}) };
}

export function resultJson(r: TargetResult, removeLegacy = false) {
  const identity = reportedIdentity(r);
  const plan = plannedWrites(r, removeLegacy);
  return {
    scaleSet: r.id,
    ...(identity
      ? {
          identityType: identityType(identity),
          principalId: identity.system?.principalId ?? '',
          userAssignedIdentities: userAssignedMap(identity),
        }
      : {}),
    changed: r.changed,
    write: reportedWrite(r),
    ...(plan ? { plan } : {}),
    ...(r.operationUrl && r.write === 'accepted' ? { operationUrl: r.operationUrl } : {}),
    ...(r.roles.length ? { roleAssignments: r.roles.map((g) => ({ role: g.role, scope: g.scope, id: g.id, created: g.created, ...(g.planned ? { planned: true } : {}) })) } : {}),
    ...(r.removedExtensions.length ? { removedExtensions: r.removedExtensions } : {}),
    ...(r.missingIdentities.length ? { missingIdentities: r.missingIdentities } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}

/**
 * JSON in which the characters a shell or HTML give meaning to (`$`, backtick, `'`, `<`, `>`,
 * `&`) are written as \uXXXX escapes: the same value to any JSON parser, inert text to a
 * script that pastes the output despite the advice (an `error` carries Azure's words).
 */
export const inertJson = (value: unknown): string => JSON.stringify(value).replace(/[$`'<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/**
 * Every output, on every path. Aggregates follow the order of the scale sets in the inputs
 * (system-assigned principal first, then user-assigned ones as Azure lists them), each value once.
 */
export function writeOutputs(results: TargetResult[], signInTenant: string, removeLegacy = false, plan = ''): void {
  const set = (name: OutputName, value: string) => output(name, value);
  set('plan', plan);
  const identities = results.map(reportedIdentity).filter((i): i is ScaleSetIdentity => i !== undefined);
  set('results', inertJson(results.map((r) => resultJson(r, removeLegacy))));
  set('principal-ids', inertJson(unique(identities.flatMap(principalIds))));
  set('client-ids', inertJson(unique(identities.flatMap((i) => i.userAssigned.map((u) => u.clientId ?? '').filter(Boolean)))));
  set('changed', String(results.some((r) => r.changed || r.acceptedUnfinished.length > 0)));
  set('role-assignment-ids', inertJson(unique(results.flatMap((r) => r.roles.map((g) => g.id).filter(Boolean)))));
  const only = results.length === 1 ? reportedIdentity(results[0] as TargetResult) : undefined;
  set('principal-id', only?.system?.principalId ?? '');
  set('tenant-id', only?.system?.tenantId ?? signInTenant);
  set('identity-type', only ? identityType(only) : '');
  set('user-assigned-identities', inertJson(only ? userAssignedMap(only) : {}));
}

/** Failures listed in full in the step's error; the rest are counted (each has its own annotation). */
const LISTED_FAILURES = 10;

/** Fails the step naming each failed scale set (the first few); nothing when all succeeded. */
export function failStep(results: TargetResult[]): void {
  const failed = results.filter((r) => r.error);
  if (failed.length === 0) return;
  if (results.length === 1) return fail(failed[0]?.error ?? 'failed');
  const listed = failed.slice(0, LISTED_FAILURES).map((r) => `- ${r.label || r.id || 'fleet'}: ${clip(r.error ?? '', 300)}`);
  const more = failed.length > LISTED_FAILURES ? [`… and ${failed.length - LISTED_FAILURES} more (see the results output and the annotations).`] : [];
  fail(`${failed.length} of ${results.length} failed:\n${[...listed, ...more].join('\n')}`);
}
