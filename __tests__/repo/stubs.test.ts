// The stubs in stubs/ stand in for code the action never reaches (stubs/README.md). These tests
// fail when a dependency update starts to reach it, so the stub is looked at again before it
// could throw at run time.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
type Deps = Record<string, string>;
const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dependencies?: Deps; optionalDependencies?: Deps; peerDependencies?: Deps; link?: boolean; resolved?: string }> };
const bundle = readdirSync(new URL('dist/', root))
  .filter((f) => f.endsWith('.js'))
  .map((f) => read(`dist/${f}`))
  .join('\n');

const CLIENTS = ['node_modules/@actions/http-client', 'node_modules/@actions/github/node_modules/@actions/http-client'];
const GITHUB = 'node_modules/@actions/github';

/** Every way a module of a package can name undici, in every file of the package (its own node_modules aside). */
function undiciImports(pkg: string): string[] {
  const dir = new URL(`${pkg}/`, root);
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => /\.(c|m)?js$/.test(f) && !f.split(/[\\/]/).includes('node_modules'));
  return files.flatMap((f) => [...readFileSync(new URL(f, dir), 'utf8').matchAll(/^.*(?:from\s*['"]undici(?:\/[^'"]*)?['"]|(?:require|import)\s*\(\s*['"]undici(?:\/[^'"]*)?['"]\s*\)).*$/gm)].map((m) => `${join(f)}: ${m[0].trim()}`));
}

describe('the undici stub', () => {
  it('is what the lockfile installs, and only @actions/http-client and @actions/github depend on undici', () => {
    assert.deepEqual({ link: lock.packages['node_modules/undici']?.link, resolved: lock.packages['node_modules/undici']?.resolved }, { link: true, resolved: 'stubs/undici' });
    const dependents = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && [p.dependencies, p.optionalDependencies, p.peerDependencies].some((d) => d?.['undici']))
      .map(([path]) => path);
    assert.deepEqual(dependents.sort(), [GITHUB, ...CLIENTS].sort());
  });

  it('@actions/github takes only fetch from undici, and builds a dispatcher only behind a proxy', () => {
    // The stub's fetch is Node's own; a proxy dispatcher comes from HttpClient, whose ProxyAgent throws (the comment is then skipped with a warning).
    assert.deepEqual(undiciImports(GITHUB), ["lib/internal/utils.js: import { fetch } from 'undici';"]);
    const source = read(`${GITHUB}/lib/internal/utils.js`);
    assert.match(source, /getProxyAgentDispatcher\(destinationUrl\) \{\s*const hc = new httpClient\.HttpClient\(\);\s*return hc\.getAgentDispatcher\(destinationUrl\);/);
    assert.equal([...source.matchAll(/\bfetch\(/g)].length, 1, 'one call of fetch, in getProxyFetch');
    for (const client of CLIENTS) {
      assert.match(read(`${client}/lib/index.js`), /getAgentDispatcher\(serverUrl\) \{[\s\S]*?if \(!useProxy\) \{\s*return;\s*\}\s*return this\._getProxyAgentDispatcher\(/, `${client}: no dispatcher without a proxy`);
    }
  });

  it('@actions/http-client takes only ProxyAgent from undici, and builds one only for getAgentDispatcher', () => {
    // The stub exports ProxyAgent and fetch alone: anything else taken from it would fail at run time.
    assert.deepEqual(undiciImports(CLIENTS[0] ?? ''), ["lib/index.js: import { ProxyAgent } from 'undici';"]);
    assert.deepEqual(undiciImports(CLIENTS[1] ?? ''), ['lib/index.js: const undici_1 = require("undici");']);
    assert.match(read(`${CLIENTS[1] ?? ''}/lib/index.js`), /undici_1\.ProxyAgent\(/);
    assert.equal([...read(`${CLIENTS[1] ?? ''}/lib/index.js`).matchAll(/undici_1\./g)].length, 1, 'the older client uses undici once, for ProxyAgent');

    const source = read('node_modules/@actions/http-client/lib/index.js');
    assert.equal(source.match(/\bProxyAgent\b/g)?.length, 2, 'imported once, used once');
    const builder = source.indexOf('_getProxyAgentDispatcher(parsedUrl, proxyUrl) {');
    const builderEnd = source.indexOf('\n    }\n', builder);
    const construction = source.indexOf('new ProxyAgent(');
    assert.ok(builder > 0 && builder < construction && construction < builderEnd, 'the one use is inside _getProxyAgentDispatcher');
    assert.equal([...source.matchAll(/\b_getProxyAgentDispatcher\(/g)].length, 2, 'declared once, called once');
    assert.match(source, /getAgentDispatcher\(serverUrl\) \{[\s\S]*?return this\._getProxyAgentDispatcher\(/, 'the one call is in getAgentDispatcher');
  });

  it('only the lazily loaded GitHub client calls getAgentDispatcher, and no real undici is bundled', () => {
    const callers = readdirSync(new URL('dist/', root)).filter((f) => f.endsWith('.js') && /\.getAgentDispatcher\(/.test(read(`dist/${f}`)));
    assert.equal(callers.length, 1, `one chunk calls it: ${callers.join(', ')}`);
    assert.match(read(`dist/${callers[0] ?? ''}`), /octokit/, "it is @actions/github's chunk");
    assert.doesNotMatch(read('dist/index.js'), /octokit/, 'not loaded at start-up');
    assert.doesNotMatch(bundle, /llhttp/, 'undici\'s HTTP parser is not in dist/');
    assert.match(bundle, /undici is not bundled with this action/, 'the stub is what got bundled');
  });
});
