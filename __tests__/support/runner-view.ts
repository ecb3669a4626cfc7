// What the runner and GitHub make of a run's output: workflow commands in stdout and stderr
// (a line that starts with `::` after whitespace, or `##[name]` anywhere in any other line),
// and the job summary's markup. Tests use it to prove that text from outside formed none.

/** The commands the action writes itself, through @actions/core. */
const OWN_COMMANDS = new Set(['add-mask', 'debug', 'error', 'warning', 'notice', 'group', 'endgroup']);

export interface Command {
  name: string;
  /** `name properties` as written before the second `::`. */
  head: string;
  line: string;
}

/** Every command the runner would act on, in order, from stdout or stderr. */
export function commandsIn(text: string): Command[] {
  const found: Command[] = [];
  for (const line of text.split(/\r?\n|\r/)) {
    const v2 = /^\s*::([^\s:]*)([^:]*)::/.exec(line);
    if (v2) {
      found.push({ name: (v2[1] ?? '').toLowerCase(), head: `${v2[1] ?? ''}${v2[2] ?? ''}`, line });
      continue;
    }
    for (const m of line.matchAll(/##\[([^\]\s;]*)/g)) found.push({ name: `##[${(m[1] ?? '').toLowerCase()}`, head: m[0], line });
  }
  return found;
}

/**
 * Commands that text from outside formed: any `##[` command (the action writes none), any
 * `::` command that is not one of the action's own, and any own command whose name or
 * properties carry the marker the test planted in outside text.
 */
export function foreignCommands(text: string, marker: string): Command[] {
  return commandsIn(text).filter((c) => c.name.startsWith('##[') || !OWN_COMMANDS.has(c.name) || c.head.includes(marker));
}

/**
 * Markup in the summary that outside text formed: a tag, link, image, heading or blank line
 * (which ends an HTML block and lets markdown render) carrying the marker, or tags that do
 * not balance. The action writes HTML blocks only, one per line.
 */
export function foreignMarkup(summary: string, marker: string): string[] {
  const problems: string[] = [];
  const lines = summary.replace(/\n+$/, '').split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') problems.push(`blank line ${i + 1} (ends the HTML block)`);
    if (/^\s{0,3}(#|[-*+] |\d+\. |>|\|)/.test(line)) problems.push(`line ${i + 1} starts markdown: ${line.slice(0, 80)}`);
  });
  for (const m of summary.matchAll(/<([a-z][a-z0-9]*)\b[^>]*>/gi)) {
    if (m[0].includes(marker) || !['h2', 'h3', 'p', 'table', 'tr', 'th', 'td', 'ul', 'li', 'br', 'strong', 'code', 'details', 'summary'].includes((m[1] ?? '').toLowerCase())) problems.push(`tag ${m[0].slice(0, 80)}`);
  }
  for (const tag of ['table', 'tr', 'td', 'th', 'ul', 'li', 'p', 'h2', 'h3', 'code', 'strong', 'details', 'summary']) {
    const open = summary.match(new RegExp(`<${tag}>`, 'g'))?.length ?? 0;
    const close = summary.match(new RegExp(`</${tag}>`, 'g'))?.length ?? 0;
    if (open !== close) problems.push(`<${tag}> ${open} times, </${tag}> ${close} times`);
  }
  if (/!\[|\]\(/.test(summary.replace(/&#\d+;|&[a-z]+;/g, ' '))) problems.push('a markdown link or image');
  return problems;
}
