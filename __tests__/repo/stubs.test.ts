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

describe('the undici stub', () => {
  it('is what the lockfile installs, and only @actions/http-client depends on undici', () => {
    assert.deepEqual({ link: lock.packages['node_modules/undici']?.link, resolved: lock.packages['node_modules/undici']?.resolved }, { link: true, resolved: 'stubs/undici' });
    const dependents = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && [p.dependencies, p.optionalDependencies, p.peerDependencies].some((d) => d?.['undici']))
      .map(([path]) => path);
    assert.deepEqual(dependents, ['node_modules/@actions/http-client']);
  });

  it('@actions/http-client takes only ProxyAgent from undici, and builds one only for getAgentDispatcher', () => {
    // Every way a module can name undici, in every file of the package: the stub exports
    // ProxyAgent alone, and anything else taken from it would fail at run time.
    const dir = new URL('node_modules/@actions/http-client/', root);
    const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => /\.(c|m)?js$/.test(f) && !f.split(/[\\/]/).includes('node_modules'));
    const uses = files.flatMap((f) => [...readFileSync(new URL(f, dir), 'utf8').matchAll(/^.*(?:from\s*['"]undici(?:\/[^'"]*)?['"]|(?:require|import)\s*\(\s*['"]undici(?:\/[^'"]*)?['"]\s*\)).*$/gm)].map((m) => `${join(f)}: ${m[0].trim()}`));
    assert.deepEqual(uses, ["lib/index.js: import { ProxyAgent } from 'undici';"]);

    const source = read('node_modules/@actions/http-client/lib/index.js');
    assert.equal(source.match(/\bProxyAgent\b/g)?.length, 2, 'imported once, used once');
    const builder = source.indexOf('_getProxyAgentDispatcher(parsedUrl, proxyUrl) {');
    const builderEnd = source.indexOf('\n    }\n', builder);
    const construction = source.indexOf('new ProxyAgent(');
    assert.ok(builder > 0 && builder < construction && construction < builderEnd, 'the one use is inside _getProxyAgentDispatcher');
    assert.equal([...source.matchAll(/\b_getProxyAgentDispatcher\(/g)].length, 2, 'declared once, called once');
    assert.match(source, /getAgentDispatcher\(serverUrl\) \{[\s\S]*?return this\._getProxyAgentDispatcher\(/, 'the one call is in getAgentDispatcher');
  });

  it('nothing in the bundle calls getAgentDispatcher, and no real undici is bundled', () => {
    assert.doesNotMatch(bundle, /\.getAgentDispatcher\(/, 'no call site in dist/');
    assert.doesNotMatch(bundle, /llhttp/, 'undici\'s HTTP parser is not in dist/');
    assert.match(bundle, /undici is not bundled with this action/, 'the stub is what got bundled');
  });
});
