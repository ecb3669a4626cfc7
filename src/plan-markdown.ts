// The plan as markdown: the `plan` output and the pull-request comment. A first version (the
// operation, each target that changes or fails, a link to the run). Every value from outside is
// escaped, so a name or an Azure error cannot add markup, links or @-mentions to a comment, and,
// as every output, it holds no `$`, backtick or `'` for a script that pastes it (report.ts).
import type { Plan } from './plan.ts';
import type { TargetResult } from './result.ts';
import type { Settings } from './settings.ts';
import { escapeHtml } from './writer.ts';

/** GitHub refuses a comment body over 65,536 characters; the marker and the cut notice fit in the rest. */
export const PLAN_MARKDOWN_LIMIT = 60_000;

/** Outside text as inert markdown: no markup, no line break, no mention or issue reference. */
const text = (value: string): string => escapeHtml(value).replace(/<br>/g, ' ').replace(/[@$']/g, (c) => `&#${c.charCodeAt(0)};`);

const shortId = (id: string): string => id.split('/').pop() ?? id;

function identityChanges(p: Plan | undefined, done: boolean): string[] {
  if (!p?.changed) return [];
  const [enable, remove, add] = done ? ['enabled', 'removed', 'added'] : ['enable', 'remove', 'add'];
  return [
    p.enableSystem ? `${enable} the system-assigned identity` : '',
    p.disableSystem ? `${remove} the system-assigned identity` : '',
    ...p.add.map((id) => `${add} ${shortId(id)}`),
    ...p.remove.map((id) => `${remove} ${shortId(id)}`),
  ].filter(Boolean);
}

/** What this target's plan writes (dry run) or what the run wrote. */
function changes(r: TargetResult, settings: Settings): string[] {
  if (settings.dryRun) {
    return [
      ...identityChanges(r.plan, false),
      ...(settings.removeLegacyExtension ? r.legacyExtensions.map((n) => `remove the retired extension ${n}`) : []),
      // This version of the dry run does not read role assignments: it cannot tell which exist.
      ...r.roles.map((g) => `grant ${g.role} at ${g.scope} (unless already granted)`),
    ];
  }
  return [
    ...identityChanges(r.applied, true),
    ...r.removedExtensions.map((n) => `removed the retired extension ${n}`),
    ...r.roles.filter((g) => g.created).map((g) => `granted ${g.role} at ${g.scope}`),
  ];
}

function targetName(r: TargetResult): string {
  return r.ref.name ? `${r.ref.subscriptionId}/${r.ref.resourceGroup}/${r.ref.name}` : r.id || 'fleet';
}

function targetLine(r: TargetResult, settings: Settings): string | undefined {
  if (r.error) return `- ❌ <code>${text(targetName(r))}</code> failed: ${text(r.error)}`;
  const list = changes(r, settings);
  return list.length ? `- <code>${text(targetName(r))}</code>: ${text(list.join('; '))}` : undefined;
}

/** The run's page, from the runner's variables (src/environment.ts's githubRun). */
export function runUrl(run: { serverUrl: string; repository: string; runId: string; runAttempt: string }): string {
  if (!/^https?:\/\/[\w.-]+(:\d+)?$/i.test(run.serverUrl.replace(/\/+$/, '')) || !/^[\w.-]+\/[\w.-]+$/.test(run.repository) || !/^\d+$/.test(run.runId)) return '';
  const attempt = /^\d+$/.test(run.runAttempt) && Number(run.runAttempt) > 1 ? `/attempts/${run.runAttempt}` : '';
  return `${run.serverUrl.replace(/\/+$/, '')}/${run.repository}/actions/runs/${run.runId}${attempt}`;
}

export function planMarkdown(results: TargetResult[], settings: Settings, url: string): string {
  const heading = `### Scale set identities: ${settings.operation}${settings.dryRun ? ' (dry run: nothing written)' : ''}`;
  const lines = results.map((r) => targetLine(r, settings)).filter((l): l is string => l !== undefined);
  const quiet = results.length - lines.length;
  const kept: string[] = [];
  let size = heading.length + 200;
  for (const line of lines) {
    if (size + line.length + 1 > PLAN_MARKDOWN_LIMIT) break;
    kept.push(line);
    size += line.length + 1;
  }
  const cut = lines.length - kept.length;
  return [
    heading,
    '',
    ...(kept.length ? kept : [settings.dryRun ? 'No change planned.' : 'No change made.']),
    ...(cut ? [`- … and ${cut} more (see the <code>results</code> output).`] : []),
    ...(quiet && settings.operation !== 'show' ? ['', `${quiet} of ${results.length} target(s) need no change.`] : []),
    ...(url ? ['', `[The run](${url})`] : []),
  ].join('\n');
}
