// The plan as GitHub-flavoured markdown, for a pull-request comment and the `plan` output:
// what the run writes (or, in a dry run, would write), target by target, with the warnings a
// reviewer must see. Bounded under GitHub's comment limit however large the fleet. Every value
// from outside (names, ids, Azure's error text) is escaped: no HTML, no markdown, no link, no
// @mention that pings, no #reference.
import { writePhrases } from './changes.ts';
import { identityNamer } from './display-names.ts';
import type { TargetResult } from './result.ts';
import type { Settings } from './settings.ts';
import { clip } from './text.ts';
import { hasWrite, totals, totalsLine, totalsTable } from './totals.ts';
import { redact } from './writer.ts';

/** GitHub refuses a comment over 65,536 characters: this leaves room for a marker and a wrapper. */
export const PLAN_LIMIT = 60_000;
/** Room kept for the closing lines (the count of what was cut, the warnings' cut, the link). */
const CLOSING_ROOM = 1_000;
const WORD_JOINER = '\u2060';

/**
 * Outside text as inert markdown on one line: control characters spelled out, markdown and
 * HTML punctuation escaped, and a word joiner that keeps `@name`, `#123`, `www.` and `scheme://`
 * from becoming mentions, references or links.
 */
export function md(value: string, max = 300): string {
  return clip(redact(value), max)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\*_{}[\]()#+!|~]/g, (c) => `\\${c}`)
    .replace(/@/g, `@${WORD_JOINER}`)
    .replace(/\\#/g, `\\#${WORD_JOINER}`)
    .replace(/:\/\//g, `:${WORD_JOINER}//`)
    .replace(/\bwww\./gi, (w) => `${w.slice(0, 3)}${WORD_JOINER}.`)
    .replace(/[$`']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The characters a shell gives meaning to (`$`, backtick, `'`) as HTML entities: GitHub shows
 * the same text, and a script that pastes the `plan` output finds nothing to act on.
 */
const inert = (markdown: string): string => markdown.replace(/[$`']/g, (c) => `&#${c.charCodeAt(0)};`);

function heading(results: TargetResult[], settings: Settings): string[] {
  const t = totals(results, { dryRun: settings.dryRun, show: settings.operation === 'show', removeLegacy: settings.removeLegacyExtension });
  const table = totalsTable(t);
  return [
    `### Scale set identities: ${settings.operation}${settings.dryRun ? ' (dry run, nothing written)' : ''}`,
    '',
    `**${totalsLine(t)}**`,
    '',
    `| ${table.map(([label]) => label).join(' | ')} |`,
    `|${table.map(() => '---:').join('|')}|`,
    `| ${table.map(([, n]) => String(n)).join(' | ')} |`,
    '',
  ];
}

/** One list item per target that writes or fails. */
function targetLine(r: TargetResult, settings: Settings, name: (id: string) => string): string {
  const label = `**${md(r.label || r.id || 'fleet', 200)}**`;
  if (r.error) return `- ${label}: failed: ${md(r.error, 500)}`;
  const tense = settings.dryRun ? 'planned' : 'past';
  const phrases = writePhrases(r, tense, name, settings.removeLegacyExtension).map((p) => md(p, 600));
  const unfinished = r.write === 'accepted' || r.write === 'sent' ? ' (Azure had not finished when the step ended)' : '';
  return `- ${label}: ${phrases.join('; ') || (settings.dryRun ? 'changes' : 'changed')}${unfinished}`;
}

/** What a reviewer must not miss: removals that cannot be undone, identities taken away, an IMDS default lost, references to deleted identities. */
function warningLines(results: TargetResult[], name: (id: string) => string): string[] {
  const lines: string[] = [];
  for (const r of results) {
    const label = `**${md(r.label || r.id, 200)}**`;
    for (const w of r.warnings) lines.push(`- ⚠️ ${label}: cannot be undone: ${md(w, 600)}`);
    for (const w of r.removals ?? []) lines.push(`- ⚠️ ${label}: identity taken away (assign it again to undo): ${md(w, 600)}`);
    if (r.imdsWarning) lines.push(`- ⚠️ ${label}: IMDS default identity lost: ${md(r.imdsWarning, 1000)}`);
    for (const id of r.missingIdentities) lines.push(`- ⚠️ ${label}: references ${md(name(id))}, which no longer exists`);
  }
  return lines;
}

/** Adds lines while they fit in `room` characters; returns how many did not. */
function fill(out: string[], lines: string[], room: number): number {
  let used = out.reduce((n, l) => n + l.length + 1, 0);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (used + line.length + 1 > room) return lines.length - i;
    out.push(line);
    used += line.length + 1;
  }
  return 0;
}

/** A link to the run when given one that is a plain https URL (built by the caller from the runner's variables). */
const runLink = (runUrl: string | undefined): string[] => (runUrl && /^https:\/\/[^\s()<>[\]"'`]+$/.test(runUrl) ? ['', `[The run](${runUrl})`] : []);

export function planMarkdown(results: TargetResult[], settings: Settings, runUrl?: string): string {
  const name = identityNamer(results);
  const out = heading(results, settings);
  const listed = results.filter((r) => r.error || hasWrite(r));
  const unchanged = results.length - listed.length;
  const budget = PLAN_LIMIT - CLOSING_ROOM;
  const warnings = warningLines(results, name);
  if (listed.length) out.push(settings.dryRun ? '#### Changes planned' : '#### Changes', '');
  // Warnings keep up to a quarter of the room, whatever the number of changes.
  const warningsRoom = Math.min(budget / 4, warnings.reduce((n, l) => n + l.length + 1, 0) + 40);
  const cutTargets = fill(out, listed.map((r) => targetLine(r, settings, name)), budget - warningsRoom);
  if (cutTargets) out.push(`- … and ${cutTargets} more (every target is in the <code>results</code> output)`);
  if (warnings.length) {
    out.push('', '#### Warnings', '');
    const cutWarnings = fill(out, warnings, budget);
    if (cutWarnings) out.push(`- … and ${cutWarnings} more warnings (see the run's annotations)`);
  }
  if (unchanged) out.push('', `${unchanged} ${settings.operation === 'show' ? 'target(s) read' : 'unchanged target(s) not listed'}.`);
  out.push(...runLink(runUrl));
  return inert(`${out.join('\n')}\n`);
}

export function runUrl(run: { serverUrl: string; repository: string; runId: string; runAttempt: string }): string {
  if (!/^https?:\/\/[\w.-]+(:\d+)?$/i.test(run.serverUrl.replace(/\/+$/, '')) || !/^[\w.-]+\/[\w.-]+$/.test(run.repository) || !/^\d+$/.test(run.runId)) return '';
  const attempt = /^\d+$/.test(run.runAttempt) && Number(run.runAttempt) > 1 ? `/attempts/${run.runAttempt}` : '';
  return `${run.serverUrl.replace(/\/+$/, '')}/${run.repository}/actions/runs/${run.runId}${attempt}`;
}
