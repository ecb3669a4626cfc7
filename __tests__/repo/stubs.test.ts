// The stubs in stubs/ stand in for code the action never reaches (stubs/README.md). These tests
// fail when a dependency update starts to reach it, so the stub is looked at again before it
// could throw at run time.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { dependencies?: Record<string, string>; peerDependencies?: Record<string, string>; link?: boolean; resolved?: string }> };
const bundle = readdirSync(new URL('dist/', root))
  .filter((f) => f.endsWith('.js'))
  .map((f) => read(`dist/${f}`))
  .join('\n');

describe('the undici stub', () => {
  it('is what the lockfile installs, and only @actions/http-client depends on undici', () => {
    assert.deepEqual({ link: lock.packages['node_modules/undici']?.link, resolved: lock.packages['node_modules/undici']?.resolved }, { link: true, resolved: 'stubs/undici' });
    const dependents = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && (p.dependencies?.['undici'] || p.peerDependencies?.['undici']))
      .map(([path]) => path);
    assert.deepEqual(dependents, ['node_modules/@actions/http-client']);
  });

  it('@actions/http-client builds a ProxyAgent only for getAgentDispatcher', () => {
    const source = read('node_modules/@actions/http-client/lib/index.js');
    assert.equal(source.match(/\bnew ProxyAgent\(/g)?.length, 1, 'one ProxyAgent construction');
    const builder = source.indexOf('_getProxyAgentDispatcher(parsedUrl, proxyUrl) {');
    const construction = source.indexOf('new ProxyAgent(');
    const nextMethod = source.indexOf('\n    }\n', construction);
    assert.ok(builder > 0 && construction > builder && nextMethod > construction, 'the construction sits in _getProxyAgentDispatcher');
    assert.equal([...source.matchAll(/\b_getProxyAgentDispatcher\(/g)].length, 2, 'declared once, called once');
    assert.match(source, /getAgentDispatcher\(serverUrl\) \{[\s\S]*?return this\._getProxyAgentDispatcher\(/, 'the one call is in getAgentDispatcher');
  });

  it('nothing in the bundle calls getAgentDispatcher, and no real undici is bundled', () => {
    assert.doesNotMatch(bundle, /\.getAgentDispatcher\(/, 'no call site in dist/');
    assert.doesNotMatch(bundle, /llhttp/, 'undici\'s HTTP parser is not in dist/');
    assert.match(bundle, /undici is not bundled with this action/, 'the stub is what got bundled');
  });
});
