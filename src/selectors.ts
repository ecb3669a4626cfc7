// Which scale sets a step is about, when the inputs choose them by pattern or tag rather than
// by name. Pure: the ARM listing that feeds it lives in azure/fleet.ts.
import { clip } from './text.ts';

/** A name or a glob (`*` any run of characters, `?` one character), compared case-insensitively as ARM names are. */
export interface NamePattern {
  text: string;
  glob: boolean;
}

export interface TagFilter {
  key: string;
  /** undefined: the tag only has to be present. */
  value?: string;
}

export function namePattern(text: string): NamePattern {
  return { text, glob: /[*?]/.test(text) };
}

function globRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

export function matchesName(patterns: NamePattern[], name: string): boolean {
  return patterns.some((p) => (p.glob ? globRegExp(p.text).test(name) : p.text.toLowerCase() === name.toLowerCase()));
}

/** Every filter must hold. Tag names match case-insensitively, as in Azure; values exactly. */
export function matchesTags(filters: TagFilter[], tags: Record<string, string> | undefined): boolean {
  const entries = Object.entries(tags ?? {});
  return filters.every((f) => entries.some(([k, v]) => k.toLowerCase() === f.key.toLowerCase() && (f.value === undefined || v === f.value)));
}

export function describeTags(tags: Record<string, string> | undefined): string {
  const entries = Object.entries(tags ?? {});
  return entries.length ? entries.map(([k, v]) => `${clip(k, 100)}=${clip(v, 100)}`).join(', ') : 'no tags';
}
