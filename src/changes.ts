// A target's writes in words, for the log's done line and the plan's markdown: the identity
// type before → after, identities added and removed, roles granted, extensions removed.
import type { Plan } from './plan.ts';
import type { TargetResult } from './result.ts';

export type Tense = 'past' | 'planned';

const VERBS = {
  past: { enable: 'enabled', disable: 'disabled', add: 'added', remove: 'removed', grant: 'granted' },
  planned: { enable: 'enable', disable: 'disable', add: 'add', remove: 'remove', grant: 'grant' },
} as const;

/** `None → SystemAssigned: enabled the system-assigned identity, added id-app`; empty when the plan changes nothing. */
export function identityChange(p: Plan | undefined, tense: Tense, name: (id: string) => string): string {
  if (!p?.changed) return '';
  const v = VERBS[tense];
  const steps = [
    p.enableSystem ? `${v.enable} the system-assigned identity` : '',
    p.disableSystem ? `${v.disable} the system-assigned identity` : '',
    ...p.add.map((id) => `${v.add} ${name(id)}`),
    ...p.remove.map((id) => `${v.remove} ${name(id)}`),
  ].filter(Boolean);
  return `identity ${p.before} → ${p.after}: ${steps.join(', ')}`;
}

/**
 * Every write of the target, one phrase each: the identity's, then extensions, then roles.
 * `removeLegacy`: a plan removes the retired extensions it found (remove-legacy-extension).
 */
export function writePhrases(r: TargetResult, tense: Tense, name: (id: string) => string, removeLegacy = false): string[] {
  const v = VERBS[tense];
  const identity = identityChange(tense === 'past' ? r.applied : r.plan, tense, name);
  const extensions = tense === 'past' ? r.removedExtensions : removeLegacy ? r.legacyExtensions : [];
  const roles = r.roles.filter((g) => g.created || (tense === 'planned' && g.planned === true));
  return [
    identity,
    ...extensions.map((e) => `${v.remove} the retired extension ${e}`),
    ...roles.map((g) => `${v.grant} '${g.role}' at ${g.scope}`),
  ].filter(Boolean);
}

/** The log line of a target whose writes all finished; undefined when it wrote nothing or has not finished. */
export function doneLine(r: TargetResult, name: (id: string) => string): string | undefined {
  if (r.error || r.write === 'sent' || r.write === 'accepted' || r.acceptedUnfinished.length) return undefined;
  const phrases = writePhrases(r, 'past', name);
  return phrases.length ? `${r.label}: done: ${phrases.join('; ')}.` : undefined;
}
