// Values from users and from servers end up in log lines, annotations and the summary. Cut
// short and with every control character spelled out, none of them can start a workflow
// command (`::name::` at the start of a line) or bury the message under 100 KB of input.

const MAX_ECHO = 200;
// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** A value safe to echo inside a message: control characters escaped, at most ~200 characters. */
export function clip(value: string, max = MAX_ECHO): string {
  const escaped = value.replace(CONTROL, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  return escaped.length > max ? `${escaped.slice(0, max)}… (${value.length} characters)` : escaped;
}

/** clip() in single quotes, the way messages name a value. */
export const q = (value: string): string => `'${clip(value)}'`;

export const hasControlCharacters = (value: string): boolean => new RegExp(CONTROL.source).test(value);
