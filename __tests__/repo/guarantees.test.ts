// docs/guarantees.md names, for each promise, the tests that hold it and the mutation that
// breaks it. Both must exist: a renamed or deleted test, or a mutation missing from the page,
// fails here.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { MUTATIONS } from '../../scripts/guarantee-mutations.ts';
import { INVALID } from '../support/invalid-inputs.ts';

const root = new URL('../../', import.meta.url);
const page = readFileSync(new URL('docs/guarantees.md', root), 'utf8');
const flat = page.replace(/\s+/g, ' ');

/** The mutations table as the page must show it. */
export function mutationTable(): string {
  const rows = MUTATIONS.map((m) => `| ${m.guarantee} | \`${m.name}\`: ${m.what} | ${m.tests.map((t) => `\`${t}\``).join(', ')}${m.testName ? ` (tests matching \`${m.testName}\`)` : ''} |`);
  return ['| guarantee | mutation | held by |', '|---|---|---|', ...rows].join('\n');
}

/** Every `file` › "name" reference on the page, with the names that follow it (› "…", and "…"). */
export function references(text: string): { file: string; name: string }[] {
  const refs: { file: string; name: string }[] = [];
  for (const m of text.matchAll(/`(__tests__\/[^`]+\.test\.ts)`((?:\s*(?:›|,|and|, and)\s*"[^"]+")+)/g)) {
    for (const n of (m[2] ?? '').matchAll(/"([^"]+)"/g)) refs.push({ file: m[1] ?? '', name: n[1] ?? '' });
  }
  return refs;
}

/** The titles of a test file's it()/describe() calls, as patterns (a `${…}` matches anything). */
function titles(source: string): RegExp[] {
  return [...source.matchAll(/\b(?:it|describe)\(\s*(['"`])((?:\\.|(?!\1).)*)\1/g)].map((m) => {
    const text = (m[2] ?? '').replace(/\\(['"`\\])/g, '$1');
    const pattern = text.split(/\$\{[^}]*\}/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
    return new RegExp(`^${pattern}$`);
  });
}

describe('docs/guarantees.md', () => {
  it('names only tests that exist', () => {
    const refs = references(flat);
    assert.ok(refs.length > 40, `${refs.length} references found`);
    const missing = refs.filter(({ file, name }) => {
      const path = new URL(file, root);
      return !existsSync(path) || !titles(readFileSync(path, 'utf8')).some((t) => t.test(name));
    });
    assert.deepEqual(missing, []);
  });

  it('names only invalid-input cases that exist', () => {
    const cases = [...flat.matchAll(/invalid-input cases? ((?:"[^"]+"(?:,? (?:and )?)?)+)/g)].flatMap((m) => [...(m[1] ?? '').matchAll(/"([^"]+)"/g)].map((n) => n[1] ?? ''));
    assert.ok(cases.length > 5);
    const known = new Set(INVALID.map((c) => c.name));
    assert.deepEqual(cases.filter((c) => !known.has(c)), []);
  });

  it('counts the invalid-input cases as they are', () => {
    const counts = [...flat.matchAll(/"(\d+) invalid inputs through dist\//g)].map((m) => Number(m[1]));
    assert.ok(counts.length > 0);
    for (const n of counts) assert.equal(n, INVALID.length, `the page says ${n} invalid inputs; there are ${INVALID.length}`);
  });

  it('lists every guarantee mutation, as scripts/guarantee-mutations.ts defines it', () => {
    assert.ok(page.includes(mutationTable()), `docs/guarantees.md must contain:\n${mutationTable()}`);
    for (const m of MUTATIONS) for (const t of m.tests) assert.ok(existsSync(new URL(t, root)), `${m.name}: ${t} exists`);
  });

  it('every mutation still applies: its text occurs exactly once where it points', () => {
    const stale = MUTATIONS.flatMap((m) => [{ file: m.file, find: m.find }, ...(m.also ?? [])].map((e) => ({ name: m.name, ...e })))
      .filter((e) => readFileSync(new URL(e.file, root), 'utf8').split(e.find).length !== 2)
      .map((e) => `${e.name}: ${e.file}`);
    assert.deepEqual(stale, []);
  });

  it('the reference parser finds what it should', () => {
    assert.deepEqual(references('`__tests__/e2e/a.test.ts` › "one" and "two"; `__tests__/e2e/b.test.ts` › "x" › "y"'), [
      { file: '__tests__/e2e/a.test.ts', name: 'one' }, { file: '__tests__/e2e/a.test.ts', name: 'two' },
      { file: '__tests__/e2e/b.test.ts', name: 'x' }, { file: '__tests__/e2e/b.test.ts', name: 'y' },
    ]);
  });
});
