// The README is the first day's page: short, its inputs and outputs tables exactly action.yml's,
// and every relative link in it and in docs/ leads somewhere (a file, and a heading if it names one).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const readme = read('README.md');
const action = parse(read('action.yml')) as { inputs: Record<string, unknown>; outputs: Record<string, unknown> };
const pages = ['README.md', ...readdirSync(new URL('docs/', root)).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];

/** The names in the first column of the first table under a `## heading`, up to the next heading. */
export function tableNames(markdown: string, heading: string): string[] {
  const lines = markdown.split('\n');
  const start = lines.indexOf(`## ${heading}`);
  assert.ok(start >= 0, `README.md has a "## ${heading}" section`);
  const rows: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,6} /.test(line)) break;
    if (line.startsWith('|')) rows.push(line);
    else if (rows.length > 0) break;
  }
  return rows.slice(2).map((row) => /^\|\s*`([^`]+)`\s*\|/.exec(row)?.[1] ?? `(no name in: ${row.slice(0, 60)})`);
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
export function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

/** Markdown outside fenced code blocks, where a heading is a heading. */
const unfenced = (markdown: string) => markdown.replace(/^```[\s\S]*?^```/gm, '');
/** Markdown outside code blocks and inline code, where a link is a link. */
const prose = (markdown: string) => unfenced(markdown).replace(/`[^`\n]*`/g, '');

/** The anchors of a page's headings, repeats numbered as GitHub numbers them (x, x-1, x-2). */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of unfenced(markdown).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = slug((m[1] ?? '').replace(/`/g, ''));
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Every relative link target on a page: `[text](target)`, outside code. */
export function relativeLinks(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '').filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

/** Where a link goes wrong, or undefined when it resolves. */
function brokenLink(page: string, target: string): string | undefined {
  const [path = '', anchor] = target.split('#');
  const file = path === '' ? new URL(page, root) : new URL(path, new URL(page, root));
  if (!existsSync(file)) return `${page}: ${target}: no such file`;
  if (anchor === undefined) return undefined;
  if (statSync(file).isDirectory() || !file.pathname.endsWith('.md')) return `${page}: ${target}: an anchor into a file that is not markdown`;
  return anchors(readFileSync(file, 'utf8')).has(anchor) ? undefined : `${page}: ${target}: no heading with that anchor`;
}

describe('README.md', () => {
  it("the inputs table names every input of action.yml, and no other", () => {
    assert.deepEqual(tableNames(readme, 'Inputs').sort(), Object.keys(action.inputs).sort());
  });

  it("the outputs table names every output of action.yml, and no other", () => {
    assert.deepEqual(tableNames(readme, 'Outputs').sort(), Object.keys(action.outputs).sort());
  });

  it('has at most 450 lines', () => {
    const lines = readme.trimEnd().split('\n').length;
    assert.ok(lines <= 450, `README.md has ${lines} lines`);
  });

  it('every relative link in README.md and docs/*.md leads to a file, and to a heading when it names one', () => {
    const links = pages.flatMap((page) => relativeLinks(read(page)).map((target) => ({ page, target })));
    assert.ok(links.length > 30, `${links.length} links found`);
    assert.deepEqual(links.map(({ page, target }) => brokenLink(page, target)).filter(Boolean), []);
  });

  it('the parsers find what they should', () => {
    assert.equal(slug('Show, after azure/login'), 'show-after-azurelogin');
    assert.equal(slug('The plan on a pull request'), 'the-plan-on-a-pull-request');
    assert.deepEqual([...anchors('# A\n## `x-y` z\n```sh\n# not a heading\n```\n## A\n')], ['a', 'x-y-z', 'a-1']);
    assert.deepEqual(relativeLinks('[a](b.md#c) [d](https://e.example) `[f](g.md)`\n```\n[h](i.md)\n```\n'), ['b.md#c']);
    assert.deepEqual(tableNames('## Inputs\n\n| input | x |\n|---|---|\n| `a` | 1 |\n| `b` | 2 |\n\n| field |\n|---|\n| `c` |\n', 'Inputs'), ['a', 'b']);
    assert.equal(brokenLink('README.md', 'docs/nowhere.md'), 'README.md: docs/nowhere.md: no such file');
    assert.equal(brokenLink('README.md', '#no-such-heading'), 'README.md: #no-such-heading: no heading with that anchor');
  });
});
