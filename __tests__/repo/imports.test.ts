// The action's modules form layers: no import circle, type-only imports and lazy import()s
// included, so each module can be read (and loaded) after the ones it uses.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../../src/', import.meta.url));
const walk = (d: string): string[] => readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : f.endsWith('.ts') ? [join(d, f)] : []));

/** Each module's relative imports, static (`import … from`) and dynamic (`import(…)`). */
export function importsOf(file: string, text: string): string[] {
  const specs = [...text.matchAll(/^import[^;]*?from '(\.[^']+)'/gms), ...text.matchAll(/import\('(\.[^']+)'\)/g)].map((m) => m[1] ?? '');
  return specs.map((s) => normalize(join(dirname(file), s)));
}

/** Every circle in the graph, each as the path that closes it. */
export function circles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const done = new Set<string>();
  const visit = (node: string, path: string[]) => {
    for (const next of graph.get(node) ?? []) {
      const at = path.indexOf(next);
      if (at >= 0) found.push([...path.slice(at), next]);
      else if (!done.has(next)) visit(next, [...path, next]);
    }
    done.add(node);
  };
  for (const node of graph.keys()) if (!done.has(node)) visit(node, [node]);
  return found;
}

describe('module layers', () => {
  it('no import circle in src/', () => {
    const graph = new Map(walk(src).map((f) => [f, importsOf(f, readFileSync(f, 'utf8'))]));
    assert.ok(graph.size > 30);
    assert.deepEqual(circles(graph).map((c) => c.map((f) => relative(src, f)).join(' → ')), []);
  });

  it('the check finds a circle where there is one', () => {
    assert.deepEqual(circles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]])), [['a', 'b', 'c', 'a']]);
    assert.deepEqual(importsOf('/x/src/a.ts', "import type { T } from './azure/b.ts';\nconst m = import('../c.ts');"), ['/x/src/azure/b.ts', '/x/c.ts']);
  });
});
