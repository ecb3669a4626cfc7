// The job summary: one section per target, each value from outside escaped by the writer's
// `html` template, and the whole kept under GitHub's size limit however large the fleet.
import { identityType, type ScaleSetIdentity } from './identity.ts';
import { plannedIdentity, type Plan } from './plan.ts';
import type { TargetResult } from './result.ts';
import type { Settings } from './settings.ts';
import { html, Summary, type Html } from './writer.ts';

function identityRows(identity: ScaleSetIdentity | undefined): string[] {
  if (!identity) return ['(unknown)'];
  const rows = [`Type: ${identityType(identity)}`];
  if (identity.system) rows.push(`System-assigned principal: ${identity.system.principalId ?? '(pending)'}`);
  for (const u of identity.userAssigned) rows.push(`${u.id.split('/').pop()}: principal ${u.principalId ?? '(pending)'}, client ${u.clientId ?? '(pending)'}`);
  return rows;
}

const lines = (rows: string[]): Html[] => rows.map((row, i) => (i ? html`<br>${row}` : html`${row}`));

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
  changes.push(...r.roles.filter((g) => !settings.dryRun || g.planned).map((g) => (settings.dryRun ? `Granted '${g.role}' at ${g.scope}` : `${g.created ? 'Granted' : 'Kept the existing'} '${g.role}' at ${g.scope}`)));
  if (settings.dryRun) return changes.map((c) => `Would have: ${c.charAt(0).toLowerCase()}${c.slice(1)}`);
  return changes;
}

function identityTable(r: TargetResult, settings: Settings): Html {
  if (settings.operation === 'show') return html`<table><tr><th>Identity</th></tr><tr><td>${lines(identityRows(r.after ?? r.before))}</td></tr></table>`;
  const unchanged = r.write === 'none' && !r.confirmedByReading ? r.before : undefined;
  const planned = settings.dryRun && r.before && r.plan ? plannedIdentity(r.before, r.plan) : r.after ?? unchanged;
  return html`<table><tr><th>Before</th><th>${settings.dryRun ? 'Planned' : 'After'}</th></tr><tr><td>${lines(identityRows(r.before))}</td><td>${lines(identityRows(planned))}</td></tr></table>`;
}

function notes(r: TargetResult, settings: Settings): Html[] {
  const out: Html[] = [];
  for (const id of r.missingIdentities) out.push(html`<p>⚠️ References ${id.split('/').pop() ?? id}, which no longer exists (${id}).</p>`);
  for (const w of r.warnings) out.push(html`<p>⚠️ Cannot be undone${settings.dryRun ? ' (planned)' : ''}: ${w}.</p>`);
  const changes = settings.operation === 'show' ? [] : changeLines(r, settings);
  if (changes.length || (!r.error && settings.operation !== 'show')) out.push(html`<ul>${(changes.length ? changes : ['No change needed']).map((c) => html`<li>${c}</li>`)}</ul>`);
  if (r.error) out.push(html`<p><strong>Failed:</strong> ${r.error}</p>`);
  if (r.legacyExtensions.length) out.push(html`<p>⚠️ Retired extension ${r.legacyExtensions.join(', ')} is installed; move workloads to the Instance Metadata Service endpoint and remove it.</p>`);
  if (r.changed && r.upgradePolicy?.toLowerCase() === 'manual') out.push(html`<p>Upgrade policy is Manual: no instance upgrade is needed, the identity is a scale-set-level setting.</p>`);
  if (r.removedExtensions.length && r.upgradePolicy?.toLowerCase() === 'manual') {
    out.push(html`<p>Removing an extension changes the VM model: with the Manual upgrade policy, existing instances keep it until you run <code>az vmss update-instances -g ${r.ref.resourceGroup} -n ${r.ref.name} --instance-ids '*'</code>.</p>`);
  }
  return out;
}

/** One target's section, a line of markup per block. */
function section(r: TargetResult, settings: Settings): Html[] {
  const title = r.ref.name ? `${r.ref.name}${settings.query ? ` (${r.ref.resourceGroup}, ${r.ref.subscriptionId})` : ''}` : r.id || 'Fleet';
  if (!r.ref.name) return [html`<h3>${title}</h3>`, html`<p><strong>Failed:</strong> ${r.error ?? ''}</p>`];
  return [html`<h3>${title}</h3>`, identityTable(r, settings), ...notes(r, settings)];
}

export async function writeSummary(results: TargetResult[], settings: Settings): Promise<void> {
  const summary = new Summary();
  summary.add(html`<h2>Scale set identities: ${settings.operation}${settings.dryRun ? ' (dry run, nothing written)' : ''}</h2>`);
  if (settings.query) summary.add(html`<p>Chosen by pattern or tag: ${results.filter((r) => r.ref.name).length} scale set(s).</p>`);
  for (const r of results) summary.add(section(r, settings));
  await summary.write((omitted) => html`<p>${omitted} more target(s) are not shown: the summary is kept under GitHub's 1 MiB limit. Every target is in the <code>results</code> output.</p>`);
}
