// The job summary: totals first, then a section for each target that changes, fails or needs
// attention (every target for `show`), then the unchanged ones by name, collapsed. Each value
// from outside is escaped by the writer's `html` template, and the whole is kept under
// GitHub's size limit however large the fleet.
import { identityNamer } from './display-names.ts';
import { identityType, type ScaleSetIdentity } from './identity.ts';
import { plannedIdentity, type Plan } from './plan.ts';
import { reportedIdentity, type TargetResult } from './result.ts';
import type { Settings } from './settings.ts';
import { hasWrite, totals, totalsLine, totalsTable } from './totals.ts';
import { html, Summary, type Html } from './writer.ts';

/** How a user-assigned identity is named: enough of its id to tell it from the others shown. */
type Name = (id: string) => string;

/** Unchanged targets named in the collapsed list, at most; the rest are counted. */
const UNCHANGED_LISTED = 1000;

function identityRows(identity: ScaleSetIdentity | undefined, name: Name): string[] {
  if (!identity) return ['(unknown)'];
  const rows = [`Type: ${identityType(identity)}`];
  if (identity.system) rows.push(`System-assigned principal: ${identity.system.principalId ?? '(pending)'}`);
  for (const u of identity.userAssigned) rows.push(`${name(u.id)}: principal ${u.principalId ?? '(pending)'}, client ${u.clientId ?? '(pending)'}`);
  return rows;
}

const lines = (rows: string[]): Html[] => rows.map((row, i) => (i ? html`<br>${row}` : html`${row}`));

/** What the plan changed; `requested`: what it asked for (Azure accepted it, the run did not see it finish). */
function identityChanges(p: Plan | undefined, name: Name, requested = false): string[] {
  if (!p) return [];
  const [enabled, disabled, added, removed] = requested ? ['Requested: enable', 'Requested: disable', 'Requested: add', 'Requested: remove'] : ['Enabled', 'Disabled', 'Added', 'Removed'];
  return [
    p.enableSystem ? `${enabled} the system-assigned identity` : '',
    p.disableSystem ? `${disabled} the system-assigned identity` : '',
    ...p.add.map((id) => `${added} ${name(id)}`),
    ...p.remove.map((id) => `${removed} ${name(id)}${p.unlisted.includes(id) ? ' (not listed in user-assigned-ids)' : ''}`),
  ].filter(Boolean);
}

function changeLines(r: TargetResult, settings: Settings, name: Name): string[] {
  const shown = settings.dryRun ? (r.plan?.changed ? r.plan : undefined) : r.applied;
  const changes = identityChanges(shown, name, r.write === 'accepted');
  if (r.write === 'accepted') changes.push(`Azure accepted the change and had not finished it when the step ended${r.operationUrl ? ` (operation ${r.operationUrl.split('?')[0]})` : ''}`);
  if (r.confirmedByReading) changes.push("The answer to the write was lost; reading the scale set showed the requested change in place (this run's write, or another writer's at the same moment)");
  if (r.write === 'sent') changes.push('A change was sent and its answer never arrived: it may have been applied');
  changes.push(...r.removedExtensions.map((n) => `Removed the retired extension ${n}`));
  changes.push(...r.roles.filter((g) => !settings.dryRun || g.planned).map((g) => (settings.dryRun ? `Granted '${g.role}' at ${g.scope}` : `${g.created ? 'Granted' : 'Kept the existing'} '${g.role}' at ${g.scope}`)));
  if (settings.dryRun) return changes.map((c) => `Would have: ${c.charAt(0).toLowerCase()}${c.slice(1)}`);
  return changes;
}

function identityTable(r: TargetResult, settings: Settings, name: Name): Html {
  if (settings.operation === 'show') return html`<table><tr><th>Identity</th></tr><tr><td>${lines(identityRows(r.after ?? r.before, name))}</td></tr></table>`;
  const unchanged = r.write === 'none' && !r.confirmedByReading ? r.before : undefined;
  const planned = settings.dryRun && r.before && r.plan ? plannedIdentity(r.before, r.plan, r.added) : reportedIdentity(r) ?? unchanged;
  // A change Azure had not finished (or whose answer never came): its outcome is not known yet.
  const after = planned || settings.dryRun || !r.before ? identityRows(planned, name) : ['(not known yet: Azure had not finished the change when the step ended)'];
  return html`<table><tr><th>Before</th><th>${settings.dryRun ? 'Planned' : 'After'}</th></tr><tr><td>${lines(identityRows(r.before, name))}</td><td>${lines(after)}</td></tr></table>`;
}

function notes(r: TargetResult, settings: Settings, name: Name): Html[] {
  const out: Html[] = [];
  for (const id of r.missingIdentities) out.push(html`<p>⚠️ References ${name(id)}, which no longer exists (${id}).</p>`);
  for (const w of r.warnings) out.push(html`<p>⚠️ Cannot be undone${settings.dryRun ? ' (planned)' : ''}: ${w}.</p>`);
  for (const w of r.removals ?? []) out.push(html`<p>⚠️ Identity taken away${settings.dryRun ? ' (planned)' : ''}: ${w}.</p>`);
  if (r.imdsWarning) out.push(html`<p>⚠️ IMDS default identity lost${settings.dryRun ? ' (planned)' : ''}: ${r.imdsWarning}.</p>`);
  const changes = settings.operation === 'show' ? [] : changeLines(r, settings, name);
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
function section(r: TargetResult, settings: Settings, name: Name): Html[] {
  const title = r.ref.name ? `${r.label}${settings.query ? ` (${r.ref.resourceGroup}, ${r.ref.subscriptionId})` : ''}` : r.id || 'Fleet';
  if (!r.ref.name) return [html`<h3>${title}</h3>`, html`<p><strong>Failed:</strong> ${r.error ?? ''}</p>`];
  return [html`<h3>${title}</h3>`, identityTable(r, settings, name), ...notes(r, settings, name)];
}

/** A target the summary gives a section: it changes, fails, is left unfinished, or carries a warning. */
function worthASection(r: TargetResult, settings: Settings): boolean {
  return settings.operation === 'show' || Boolean(r.error) || hasWrite(r) || r.write !== 'none' || Boolean(r.confirmedByReading)
    || r.warnings.length + (r.removals?.length ?? 0) + (r.imdsWarning ? 1 : 0) + r.missingIdentities.length + r.legacyExtensions.length > 0;
}

function totalsBlock(results: TargetResult[], settings: Settings): Html[] {
  const t = totals(results, { dryRun: settings.dryRun, show: settings.operation === 'show', removeLegacy: settings.removeLegacyExtension });
  const table = totalsTable(t);
  return [
    html`<table><tr>${table.map(([label]) => html`<th>${label}</th>`)}</tr><tr>${table.map(([, n]) => html`<td>${n}</td>`)}</tr></table>`,
    html`<p><strong>${totalsLine(t)}</strong></p>`,
  ];
}

/** The unchanged targets by name, collapsed (GitHub renders details closed), the first UNCHANGED_LISTED of them. */
function unchangedBlock(unchanged: TargetResult[]): Html {
  const names = unchanged.slice(0, UNCHANGED_LISTED).map((r) => r.label);
  const more = unchanged.length > UNCHANGED_LISTED ? ` … and ${unchanged.length - UNCHANGED_LISTED} more (every target is in the results output)` : '';
  return html`<details><summary>${unchanged.length} unchanged target${unchanged.length === 1 ? '' : 's'}</summary><p>${names.join(', ')}${more}</p></details>`;
}

export async function writeSummary(results: TargetResult[], settings: Settings): Promise<void> {
  const summary = new Summary();
  const name = identityNamer(results);
  summary.add(html`<h2>Scale set identities: ${settings.operation}${settings.dryRun ? ' (dry run, nothing written)' : ''}</h2>`);
  summary.add(totalsBlock(results, settings));
  if (settings.query) summary.add(html`<p>Chosen by pattern or tag: ${results.filter((r) => r.ref.name).length} scale set(s).</p>`);
  const unchanged = results.filter((r) => !worthASection(r, settings));
  if (unchanged.length) summary.close(unchangedBlock(unchanged));
  for (const r of results) if (worthASection(r, settings)) summary.add(section(r, settings, name));
  await summary.write((omitted) => html`<p>${omitted} more target(s) are not shown: the summary is kept under GitHub's 1 MiB limit. Every target is in the <code>results</code> output.</p>`);
}
