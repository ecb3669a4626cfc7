// The one module that writes what the runner reads: log lines, groups, annotations, outputs,
// the job summary, the SDK's log on stderr and the secrets to mask. Text that came from outside
// (inputs, Azure's answers, token claims) passes through here and nowhere else, so the rules
// live in one place:
// - the runner treats a line that starts with `::` (after whitespace) as a command, and `##[`
//   anywhere in any other line: both are broken up on every line that is printed;
// - every secret the run has seen (tokens, assertions, their signatures) is replaced by ***
//   before anything is printed, masked or not;
// - annotations are cut to 4 KB, the summary stays under 1 MiB;
// - text placed in the summary is HTML-escaped, line breaks included (see `html`).
import * as core from '@actions/core';

/** GitHub renders at most this much of one annotation; longer ones are cut with a count. */
export const ANNOTATION_LIMIT = 4096;
/** GitHub drops a step summary over 1 MiB: stay well under it, footer included. */
export const SUMMARY_LIMIT = 1_000_000;

const secrets = new Set<string>();

/**
 * Registers a secret: masked by the runner and redacted by this writer from then on. A JWT's
 * parts are registered too, since its signature alone is as good as the token.
 */
export function secret(value: string): void {
  if (value.length < 8 || secrets.has(value)) return;
  core.setSecret(value);
  secrets.add(value);
  for (const part of value.split('.')) if (part.length > 20) secrets.add(part);
}

/** The text with every registered secret replaced by ***. */
export function redact(text: string): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join('***');
  return out;
}

// C0 and C1 controls, DEL, and the Unicode line and paragraph separators, except the line feed.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;
const spell = (c: string) => (c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** One printed line that cannot be read as a command: no `::` at its start, no `##[` in it. */
function neutraliseLine(line: string): string {
  const escaped = line.replace(CONTROL, spell).replace(/##\[/g, '#\u2060#[');
  return /^\s*::/.test(escaped) ? escaped.replace(/::/, ':\u2060:') : escaped;
}

/** Text as the runner may print it: redacted, and no line of it a command. */
export function neutralise(text: string): string {
  return redact(text).split('\n').map(neutraliseLine).join('\n');
}

export function info(message: string): void {
  core.info(neutralise(message));
}

export function debug(message: string): void {
  core.debug(redact(message));
}

/** An annotation's text, cut to the size GitHub shows, with the count of what was left out. */
export function annotationText(message: string): string {
  const text = redact(message);
  if (Buffer.byteLength(text) <= ANNOTATION_LIMIT) return text;
  // Bytes, not characters, and never half a surrogate pair; 64 bytes are left for the count.
  let kept = Buffer.from(text).subarray(0, ANNOTATION_LIMIT - 64).toString('utf8').replace(/\uFFFD$/, '');
  if (/[\uD800-\uDBFF]$/.test(kept)) kept = kept.slice(0, -1);
  return `${kept} … (${text.length - kept.length} more characters)`;
}

const properties = (title: string | undefined) => (title === undefined ? {} : { title: annotationText(title).slice(0, 200) });

export function warning(message: string, title?: string): void {
  core.warning(annotationText(message), properties(title));
}

export function error(message: string, title?: string): void {
  core.error(annotationText(message), properties(title));
}

export function notice(message: string, title?: string): void {
  core.notice(annotationText(message), properties(title));
}

/** Fails the step with this message as its error annotation. */
export function fail(message: string): void {
  process.exitCode = 1;
  error(message);
}

export function startGroup(title: string): void {
  core.startGroup(redact(title));
}

export function endGroup(): void {
  core.endGroup();
}

export async function group<T>(title: string, work: () => Promise<T>): Promise<T> {
  startGroup(title);
  try {
    return await work();
  } finally {
    endGroup();
  }
}

/** A step output. Values are built from parsed, validated answers only (azure/answers.ts). */
export function output(name: string, value: string): void {
  core.setOutput(name, redact(value));
}

/** A line on stderr (the SDK's own log): redacted and neutralised like any other line. */
export function stderrLine(message: string): void {
  process.stderr.write(`${neutralise(message)}\n`);
}

// Quotes stay: the summary never puts outside text in an attribute.
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\n': '<br>', '\r': '', '`': '&#96;', '|': '&#124;', '[': '&#91;', ']': '&#93;', '!': '&#33;', '*': '&#42;', _: '&#95;', '#': '&#35;', '\\': '&#92;' };

/** Outside text as HTML text: no tag, entity, line break or markdown of its own survives. */
export function escapeHtml(value: string): string {
  // eslint-disable-next-line no-control-regex -- other control characters are dropped
  return redact(value).replace(/[&<>\n\r`|[\]!*_#\\]/g, (c) => ENTITIES[c] ?? '').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '');
}

/** Trusted markup, from the `html` template only. */
export class Html {
  readonly text: string;

  constructor(text: string) {
    this.text = text;
  }
}

/**
 * The summary's markup: the template's own text is trusted, every interpolated value is
 * escaped (an Html value, made by this template, is kept as it is; an array is joined).
 */
export function html(strings: TemplateStringsArray, ...values: (string | number | Html | Html[])[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    const text = v instanceof Html ? v.text : Array.isArray(v) ? v.map((h) => h.text).join('') : escapeHtml(String(v));
    out += text + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

const joined = (lines: Html | Html[]): Html => (Array.isArray(lines) ? new Html(lines.map((l) => l.text).join('\n')) : lines);

/** The job summary, built block by block; blocks past the size limit are counted, not written. */
export class Summary {
  private readonly blocks: string[] = [];
  private bytes = 0;
  private left = 0;
  private closing?: string;

  /** Adds a block (lines of markup, kept together); one that no longer fits is only counted. */
  add(lines: Html | Html[]): void {
    const block = joined(lines);
    const size = Buffer.byteLength(block.text) + 1;
    if (this.left > 0 || this.bytes + size > SUMMARY_LIMIT - 4096) {
      this.left++;
      return;
    }
    this.blocks.push(block.text);
    this.bytes += size;
  }

  /** The block written last, after the count of blocks left out: its room is kept before any add(). */
  close(lines: Html | Html[]): void {
    this.closing = joined(lines).text;
    this.bytes += Buffer.byteLength(this.closing) + 1;
  }

  async write(footer?: (omitted: number) => Html): Promise<void> {
    if (!process.env['GITHUB_STEP_SUMMARY']) return;
    const text = [...this.blocks, ...(this.left && footer ? [footer(this.left).text] : []), ...(this.closing ? [this.closing] : [])].join('\n');
    await core.summary.addRaw(redact(text), true).write();
  }
}
