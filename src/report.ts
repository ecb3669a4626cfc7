// Step outputs and the job summary. Ids are never masked: a masked value silently drops
// job outputs. Tokens never come here.
import * as core from '@actions/core';
import type { TargetResult } from './apply.ts';
import { identityType, type ScaleSetIdentity } from './identity.ts';
import type { Settings } from './inputs.ts';
import { plannedIdentity } from './plan.ts';

export const OUTPUTS = ['principal-id', 'tenant-id', 'identity-type', 'user-assigned-identities', 'principal-ids', 'client-ids', 'changed', 'results', 'role-assignment-ids'] as const;
export type OutputName = (typeof OUTPUTS)[number];

function userAssignedMap(identity: ScaleSetIdentity): Record<string, { principalId: string; clientId: string }> {
  return Object.fromEntries(identity.userAssigned.map((u) => [u.id, { principalId: u.principalId ?? '', clientId: u.clientId ?? '' }]));
}

function principalIds(identity: ScaleSetIdentity): string[] {
  return [identity.system?.principalId, ...identity.userAssigned.map((u) => u.principalId)].filter((v): v is string => Boolean(v));
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
    ...(r.roles.length ? { roleAssignments: r.roles.map((g) => ({ role: g.role, scope: g.scope, id: g.id, created: g.created })) } : {}),
    ...(r.removedExtensions.length ? { removedExtensions: r.removedExtensions } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}

export function writeOutputs(results: TargetResult[], settings: Settings): void {
  const set = (name: OutputName, value: string) => core.setOutput(name, value);
  const identities = results.map((r) => r.after ?? r.before).filter((i): i is ScaleSetIdentity => i !== undefined);
  set('results', JSON.stringify(results.map(resultJson)));
  set('principal-ids', JSON.stringify(identities.flatMap(principalIds)));
  set('client-ids', JSON.stringify(identities.flatMap((i) => i.userAssigned.map((u) => u.clientId).filter(Boolean))));
  set('changed', String(results.some((r) => r.changed || r.removedExtensions.length > 0 || r.roles.some((g) => g.created))));
  set('role-assignment-ids', JSON.stringify(results.flatMap((r) => r.roles.map((g) => g.id).filter(Boolean))));
  const only = results.length === 1 ? identities[0] : undefined;
  const signInTenant = settings.signIn.kind === 'oidc' ? settings.signIn.tenantId : '';
  set('principal-id', only?.system?.principalId ?? '');
  set('tenant-id', only?.system?.tenantId ?? signInTenant);
  set('identity-type', only ? identityType(only) : '');
  set('user-assigned-identities', JSON.stringify(only ? userAssignedMap(only) : {}));
}

function identityRows(identity: ScaleSetIdentity | undefined): string[] {
  if (!identity) return ['(unknown)'];
  const rows = [`Type: ${identityType(identity)}`];
  if (identity.system) rows.push(`System-assigned principal: ${identity.system.principalId ?? '(pending)'}`);
  for (const u of identity.userAssigned) rows.push(`${u.id.split('/').pop()}: principal ${u.principalId ?? '(pending)'}, client ${u.clientId ?? '(pending)'}`);
  return rows;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export async function writeSummary(results: TargetResult[], settings: Settings): Promise<void> {
  if (!process.env['GITHUB_STEP_SUMMARY']) return;
  const s = core.summary.addHeading(`Scale set identities: ${settings.operation}${settings.dryRun ? ' (dry run, nothing written)' : ''}`, 2);
  for (const r of results) {
    s.addHeading(esc(r.ref.name), 3);
    s.addTable([
      [{ data: 'Before', header: true }, { data: settings.dryRun ? 'Planned' : 'After', header: true }],
      [identityRows(r.before).map(esc).join('<br>'), identityRows(settings.dryRun && r.before && r.plan ? plannedIdentity(r.before, r.plan) : r.after).map(esc).join('<br>')],
    ]);
    const p = r.plan;
    const changes = p
      ? [
          p.enableSystem ? 'Enabled the system-assigned identity' : '',
          p.disableSystem ? 'Disabled the system-assigned identity' : '',
          ...p.add.map((id) => `Added ${id}`),
          ...p.remove.map((id) => `Removed ${id}${p.unlisted.includes(id) ? ' (not listed in user-assigned-ids)' : ''}`),
        ].filter(Boolean)
      : [];
    changes.push(...r.removedExtensions.map((n) => `Removed the retired extension ${n}`));
    changes.push(...r.roles.map((g) => settings.dryRun ? `Granted '${g.role}' at ${g.scope}` : `${g.created ? 'Granted' : 'Kept the existing'} '${g.role}' at ${g.scope}`));
    if (settings.dryRun) changes.forEach((c, i) => (changes[i] = `Would have: ${c.charAt(0).toLowerCase()}${c.slice(1)}`));
    if (r.error) s.addRaw(`<p><strong>Failed:</strong> ${esc(r.error)}</p>`, true);
    else if (settings.operation !== 'show') s.addList(changes.length ? changes.map(esc) : ['No change needed']);
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
