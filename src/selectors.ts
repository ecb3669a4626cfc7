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

/**
 * Wildcard matching in time proportional to name × glob at worst: a regular expression built
 * from `*a*a*a…b` backtracks exponentially on a long name. Both arguments lower-cased.
 */
function globMatches(glob: string, name: string): boolean {
  let g = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (g < glob.length && (glob[g] === '?' || glob[g] === name[n])) {
      g++;
      n++;
    } else if (g < glob.length && glob[g] === '*') {
      star = g++;
      resume = n;
    } else if (star >= 0) {
      g = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (glob[g] === '*') g++;
  return g === glob.length;
}

/** A test for many patterns at once: exact names from a set, each glob once, case-insensitively as ARM names compare. */
export function nameMatcher(patterns: NamePattern[]): (name: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.glob).map((p) => p.text.toLowerCase()));
  const globs = patterns.filter((p) => p.glob).map((p) => p.text.toLowerCase());
  return (name) => {
    const lower = name.toLowerCase();
    return exact.has(lower) || globs.some((g) => globMatches(g, lower));
  };
}

export function matchesName(patterns: NamePattern[], name: string): boolean {
  return nameMatcher(patterns)(name);
}

/** Every filter must hold. Tag names match case-insensitively, as in Azure; values exactly. */
export function matchesTags(filters: TagFilter[], tags: Record<string, string> | undefined): boolean {
  if (filters.length === 0) return true;
  const byName = new Map<string, string[]>();
  for (const [k, v] of Object.entries(tags ?? {})) {
    const values = byName.get(k.toLowerCase());
    if (values) values.push(v);
    else byName.set(k.toLowerCase(), [v]);
  }
  return filters.every((f) => {
    const values = byName.get(f.key.toLowerCase());
    return values !== undefined && (f.value === undefined || values.includes(f.value));
  });
}

export function describeTags(tags: Record<string, string> | undefined): string {
  const entries = Object.entries(tags ?? {});
  return entries.length ? entries.map(([k, v]) => `${clip(k, 100)}=${clip(v, 100)}`).join(', ') : 'no tags';
}
