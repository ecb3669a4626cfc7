// Step outputs and the job summary. Ids are never masked: a masked value silently drops
// job outputs. Tokens never come here.
import * as core from '@actions/core';
import { identityType, type ScaleSetIdentity } from './identity.ts';
import { plannedIdentity, type Plan } from './plan.ts';
import { reportedWrite, type TargetResult } from './result.ts';
import type { Settings } from './settings.ts';

export const OUTPUTS = ['principal-id', 'tenant-id', 'identity-type', 'user-assigned-identities', 'principal-ids', 'client-ids', 'changed', 'results', 'role-assignment-ids'] as const;
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
  return values.filter((v) => !seen.has(v.toLowerCase()) && seen.add(v.toLowerCase()));
}

export function resultJson(r: TargetResult) {
  const identity = r.after ?? r.before;
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
    ...(r.operationUrl && r.write === 'accepted' ? { operationUrl: r.operationUrl } : {}),
    ...(r.roles.length ? { roleAssignments: r.roles.map((g) => ({ role: g.role, scope: g.scope, id: g.id, created: g.created })) } : {}),
    ...(r.removedExtensions.length ? { removedExtensions: r.removedExtensions } : {}),
    ...(r.missingIdentities.length ? { missingIdentities: r.missingIdentities } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}

/**
 * Every output, on every path. Aggregates follow the order of the scale sets in the inputs
 * (system-assigned principal first, then user-assigned ones as Azure lists them), each value once.
 */
export function writeOutputs(results: TargetResult[], signInTenant: string): void {
  const set = (name: OutputName, value: string) => core.setOutput(name, value);
  const identities = results.map((r) => r.after ?? r.before).filter((i): i is ScaleSetIdentity => i !== undefined);
  set('results', JSON.stringify(results.map(resultJson)));
  set('principal-ids', JSON.stringify(unique(identities.flatMap(principalIds))));
  set('client-ids', JSON.stringify(unique(identities.flatMap((i) => i.userAssigned.map((u) => u.clientId ?? '').filter(Boolean)))));
  set('changed', String(results.some((r) => r.changed || r.removedExtensions.length > 0 || r.acceptedUnfinished.length > 0 || r.roles.some((g) => g.created))));
  set('role-assignment-ids', JSON.stringify(unique(results.flatMap((r) => r.roles.map((g) => g.id).filter(Boolean)))));
  const only = results.length === 1 ? identities[0] : undefined;
  set('principal-id', only?.system?.principalId ?? '');
  set('tenant-id', only?.system?.tenantId ?? signInTenant);
  set('identity-type', only ? identityType(only) : '');
  set('user-assigned-identities', JSON.stringify(only ? userAssignedMap(only) : {}));
}

/** Fails the step naming each failed scale set; nothing when all succeeded. */
export function failStep(results: TargetResult[]): void {
  const failed = results.filter((r) => r.error);
  if (failed.length === 0) return;
  if (results.length === 1) core.setFailed(failed[0]?.error ?? 'failed');
  else core.setFailed(`${failed.length} of ${results.length} failed:\n${failed.map((r) => `- ${r.ref.name || r.id || 'fleet'}: ${r.error}`).join('\n')}`);
}

function identityRows(identity: ScaleSetIdentity | undefined): string[] {
  if (!identity) return ['(unknown)'];
  const rows = [`Type: ${identityType(identity)}`];
  if (identity.system) rows.push(`System-assigned principal: ${identity.system.principalId ?? '(pending)'}`);
  for (const u of identity.userAssigned) rows.push(`${u.id.split('/').pop()}: principal ${u.principalId ?? '(pending)'}, client ${u.clientId ?? '(pending)'}`);
  return rows;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** What the plan changed; `requested`: what it asked for (Azure accepted it, the run did not see it finish). */
function identityChanges(p: Plan | undefined, requested = false): string[] {
  if (!p) return [];
  const [enabled, disabled, added, removed] = requested ? ['Requested: enable', 'Requested: disable', 'Requested: add', 'Requested: remove'] : ['Enabled', 'Disabled', 'Added', 'Removed'];
  return [
    p.enableSystem ? `${enabled} the system-assigned identity` : '',
    p.disableSystem ? `${disabled} the system-assigned identity` : '',
    ...p.add.map((id) => `${added} ${id}`),
    ...p.remove.map((id) => `${removed} ${id}${p.unlisted.includes(id) ? ' (not listed in user-assigned-ids)' : ''}`),
  ].filter(Boolean);
}

function changeLines(r: TargetResult, settings: Settings): string[] {
  const shown = settings.dryRun ? (r.plan?.changed ? r.plan : undefined) : r.applied;
  const changes = identityChanges(shown, r.write === 'accepted');
  if (r.write === 'accepted') changes.push(`Azure accepted the change and had not finished it when the step ended${r.operationUrl ? ` (operation ${r.operationUrl.split('?')[0]})` : ''}`);
  if (r.confirmedByReading) changes.push("The answer to the write was lost; reading the scale set showed the requested change in place (this run's write, or another writer's at the same moment)");
  if (r.write === 'sent') changes.push('A change was sent and its answer never arrived: it may have been applied');
  changes.push(...r.removedExtensions.map((n) => `Removed the retired extension ${n}`));
  changes.push(...r.roles.map((g) => (settings.dryRun ? `Granted '${g.role}' at ${g.scope}` : `${g.created ? 'Granted' : 'Kept the existing'} '${g.role}' at ${g.scope}`)));
  if (settings.dryRun) return changes.map((c) => `Would have: ${c.charAt(0).toLowerCase()}${c.slice(1)}`);
  return changes;
}

export async function writeSummary(results: TargetResult[], settings: Settings): Promise<void> {
  if (!process.env['GITHUB_STEP_SUMMARY']) return;
  const show = settings.operation === 'show';
  const s = core.summary.addHeading(`Scale set identities: ${settings.operation}${settings.dryRun ? ' (dry run, nothing written)' : ''}`, 2);
  if (settings.query) s.addRaw(`<p>Chosen by pattern or tag: ${results.filter((r) => r.ref.name).length} scale set(s).</p>`, true);
  for (const r of results) {
    s.addHeading(esc(r.ref.name ? `${r.ref.name}${settings.query ? ` (${r.ref.resourceGroup}, ${r.ref.subscriptionId})` : ''}` : r.id || 'Fleet'), 3);
    if (!r.ref.name) {
      s.addRaw(`<p><strong>Failed:</strong> ${esc(r.error ?? '')}</p>`, true);
      continue;
    }
    if (show) {
      s.addTable([[{ data: 'Identity', header: true }], [identityRows(r.after ?? r.before).map(esc).join('<br>')]]);
    } else {
      const unchanged = r.write === 'none' && !r.confirmedByReading ? r.before : undefined;
      const planned = settings.dryRun && r.before && r.plan ? plannedIdentity(r.before, r.plan) : r.after ?? unchanged;
      s.addTable([
        [{ data: 'Before', header: true }, { data: settings.dryRun ? 'Planned' : 'After', header: true }],
        [identityRows(r.before).map(esc).join('<br>'), identityRows(planned).map(esc).join('<br>')],
      ]);
    }
    for (const id of r.missingIdentities) s.addRaw(`<p>⚠️ References ${esc(id.split('/').pop() ?? id)}, which no longer exists (${esc(id)}).</p>`, true);
    for (const w of r.warnings) s.addRaw(`<p>⚠️ Cannot be undone${settings.dryRun ? ' (planned)' : ''}: ${esc(w)}.</p>`, true);
    const changes = show ? [] : changeLines(r, settings);
    if (changes.length || (!r.error && !show)) s.addList(changes.length ? changes.map(esc) : ['No change needed']);
    if (r.error) s.addRaw(`<p><strong>Failed:</strong> ${esc(r.error)}</p>`, true);
    if (r.legacyExtensions.length) {
      s.addRaw(`<p>⚠️ Retired extension ${esc(r.legacyExtensions.join(', '))} is installed; move workloads to the Instance Metadata Service endpoint and remove it.</p>`, true);
    }
    if (r.changed && r.upgradePolicy?.toLowerCase() === 'manual') {
      s.addRaw('<p>Upgrade policy is Manual: no instance upgrade is needed, the identity is a scale-set-level setting.</p>', true);
    }
    if (r.removedExtensions.length && r.upgradePolicy?.toLowerCase() === 'manual') {
      s.addRaw(`<p>Removing an extension changes the VM model: with the Manual upgrade policy, existing instances keep it until you run <code>az vmss update-instances -g ${esc(r.ref.resourceGroup)} -n ${esc(r.ref.name)} --instance-ids '*'</code>.</p>`, true);
    }
  }
  await s.write();
}
