// The closed environment's table (src/environment.ts) names every environment variable the
// bundle can read. These tests read dist/ (build first) for every way code reaches the
// environment: `process.env.X`, `process?.env?.X`, `X.env.Y` through an alias of node:process,
// `env["X"]`, `env[\`PREFIX${…}\`]`, an index computed at run time, `process.env` handed on
// whole, and destructuring (`{env: s} = process`). A computed read must be one of the known
// sites below, each with the names it can read; anything else fails, so a dependency update
// that starts reading a new variable is looked at before it ships. src/ is read the same way
// for the reads of the environment the entry hands on to the action's own functions.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ENVIRONMENT, variableFor } from '../../src/environment.ts';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const chunks = readdirSync(new URL('dist/', root)).filter((f) => f.endsWith('.js')).map((file) => ({ file, text: read(`dist/${file}`) }));
const sources = (readdirSync(new URL('src/', root), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((file) => ({ file, text: read(`src/${file}`) }));

interface Site {
  file: string;
  at: number;
  text: string;
}

/** A computed read the bundle is known to make, and the names it can reach. */
interface KnownSite {
  what: string;
  matches: (site: Site) => boolean;
  names: (site: Site, bundle: string) => string[];
}

const around = (text: string, at: number, before = 300, after = 300) => text.slice(Math.max(0, at - before), at + after);

/** Names read through a destructured `env` alias, up to the end of its module: `s.NAME`, `"NAME" in s`, `["NAME", …].some(e => e in s)`. */
function destructuredNames(site: Site): string[] {
  const alias = /^env\s*:\s*([\w$]+)/.exec(site.text.slice(site.at))?.[1] ?? '';
  const rest = site.text.slice(site.at);
  const end = rest.search(/\},\d+:\([\w$,]*\)=>/);
  const body = end > 0 ? rest.slice(0, end) : rest;
  const a = alias.replace(/\$/g, '\\$');
  const names = [...body.matchAll(new RegExp(`(?<![\\w$.])${a}\\.([A-Za-z_]\\w*)`, 'g'))].map((m) => m[1] ?? '');
  names.push(...[...body.matchAll(new RegExp(`"(\\w+)"\\s*in\\s*${a}\\b`, 'g'))].map((m) => m[1] ?? ''));
  for (const list of body.matchAll(new RegExp(`\\[([^\\]]*)\\]\\.some\\(\\w+=>\\w+ in ${a}\\)`, 'g'))) names.push(...[...(list[1] ?? '').matchAll(/"(\w+)"/g)].map((m) => m[1] ?? ''));
  return names;
}

const PROXIES = ['HTTPS_PROXY', 'HTTP_PROXY', 'ALL_PROXY', 'NO_PROXY'].flatMap((n) => [n, n.toLowerCase()]);

const KNOWN: KnownSite[] = [
  {
    what: "@actions/core's summary file (process.env[SUMMARY_ENV_VAR])",
    matches: (s) => /Unable to find environment variable for \$\$\{/.test(around(s.text, s.at, 0, 200)),
    names: () => ['GITHUB_STEP_SUMMARY'],
  },
  {
    what: "@typespec/ts-http-runtime's proxy policy (each name, then in lower case)",
    matches: (s) => /process\.env\[\w+\.toLowerCase\(\)\]/.test(around(s.text, s.at, 50, 100)) && /"NO_PROXY"/.test(around(s.text, s.at, 300, 0)),
    names: () => PROXIES,
  },
  {
    what: "@typespec/ts-http-runtime's getEnvironmentVariable (DEBUG, and each logger context's level variable)",
    matches: (s) => /return [\w$]+\.env\[[\w$]+\]\}/.test(around(s.text, s.at, 30, 30)) && /versions\.deno/.test(around(s.text, s.at, 0, 300)),
    names: (_s, bundle) => ['DEBUG', ...[...bundle.matchAll(/logLevelEnvVarName:"(\w+)"/g)].map((m) => m[1] ?? '')],
  },
  {
    what: "the debug package's DEBUG_* options (Object.keys(process.env) filtered by /^debug_/i)",
    matches: (s) => /\/\^debug_\/i/.test(around(s.text, s.at, 200, 200)),
    names: () => ['DEBUG_*'],
  },
  {
    what: 'supports-color (const {env: s} = process)',
    matches: (s) => /\{env:[\w$]+\}=process/.test(around(s.text, s.at, 5, 30)) && /FORCE_COLOR/.test(around(s.text, s.at, 0, 3000)),
    names: destructuredNames,
  },
  {
    what: "the entry (src/index.ts) handing process.env to the action's own functions (read in src/)",
    matches: (s) => s.file === 'index.js' && /[(,=]process\.env[,)]/.test(around(s.text, s.at, 10, 10)),
    names: () => [],
  },
];

interface Found {
  names: string[];
  unknown: string[];
  used: Set<string>;
}

/** Every read of the environment in one chunk. */
function readsOf(file: string, text: string, bundle: string, found: Found): void {
  for (const m of text.matchAll(/(?<=[\w$)\]]\??\.)env\b|(?<=[{,]\s*)env(?=\s*[:,}])/g)) {
    const at = m.index;
    const after = text.slice(at + 3, at + 200);
    const direct = /^\??\.([A-Za-z_$][\w$]*)/.exec(after);
    const literal = /^(?:\?\.)?\[\s*(["'])([^"'`]+)\1\s*\]/.exec(after);
    const template = /^(?:\?\.)?\[\s*`([^`$]*)\$\{/.exec(after);
    if (/^\s*&&/.test(after)) continue; // `process.env && …`: whether there is an environment at all
    if (direct) found.names.push(direct[1] ?? '');
    else if (literal) found.names.push(literal[2] ?? '');
    else if (template) found.names.push(`${template[1]}*`);
    else {
      const site = { file, at, text };
      const known = KNOWN.find((k) => k.matches(site));
      if (!known) found.unknown.push(`${file}: …${around(text, at, 80, 80)}…`);
      else {
        found.used.add(known.what);
        found.names.push(...known.names(site, bundle));
      }
    }
  }
}

/** The action's own reads of an env object it was handed: env['NAME'] and the proxy list. */
function sourceReads(): { names: string[]; unknown: string[] } {
  const names: string[] = [];
  const unknown: string[] = [];
  for (const { file, text } of sources) {
    for (const m of text.matchAll(/\benv\[([^\]]+)\]/g)) {
      const index = (m[1] ?? '').trim();
      const literal = /^'([\w]+)'$/.exec(index);
      if (literal) names.push(literal[1] ?? '');
      else if (/^`INPUT_\$\{/.test(index)) names.push('INPUT_*');
      else if (file === 'oidc-prefetch.ts' && index === 'v') names.push(...PROXIES.filter((p) => !/all|no/i.test(p)));
      else if (file === 'environment.ts') continue; // the table's own deletes
      else unknown.push(`src/${file}: env[${index}]`);
    }
  }
  return { names, unknown };
}

describe('the closed environment', () => {
  it('every environment variable the bundle or the action reads is in the table', () => {
    const bundle = chunks.map((c) => c.text).join('\n');
    const found: Found = { names: [], unknown: [], used: new Set() };
    for (const { file, text } of chunks) readsOf(file, text, bundle, found);
    const own = sourceReads();
    assert.deepEqual([...found.unknown, ...own.unknown], [], 'computed reads no known site explains');
    const names = [...new Set([...found.names, ...own.names])].sort();
    assert.ok(names.includes('AZURE_REGIONAL_AUTHORITY_NAME') && names.includes('AZURE_LOG_LEVEL') && names.includes('TERM'), `the scan finds reads: ${names.join(', ')}`);
    assert.deepEqual(names.filter((n) => !variableFor(n)), [], 'variables read but not in src/environment.ts');
    assert.deepEqual(KNOWN.map((k) => k.what).filter((w) => !found.used.has(w)), [], 'known sites that are no longer in the bundle');
  });

  it('the entry chunk holds none of the SDK: it is all loaded after closeEnvironment runs', () => {
    const entry = read('dist/index.js');
    for (const marker of ['logLevelEnvVarName', 'createClientLogger', 'msal-node', 'azsdk-js', 'MSAL_FORCE_REGION;', 'process.env.DEBUG']) {
      assert.ok(!entry.includes(marker), `dist/index.js contains ${marker}`);
    }
    const source = read('src/index.ts');
    const body = source.slice(source.search(/^(?!import|\/\/)\S/m));
    assert.match(body, /^const removals = closeEnvironment\(process\.env\);/, 'the first statement closes the environment');
    assert.ok(!/^import .*@azure|^import .*msal/m.test(source), 'src/index.ts imports nothing of the SDK');
  });

  it("SECURITY.md lists exactly the table's supported and removed variables", () => {
    const security = read('SECURITY.md');
    const section = security.slice(security.indexOf('## A closed environment'), security.indexOf('## SDK logging'));
    const listed = (heading: string) => {
      const start = section.indexOf(heading);
      assert.ok(start >= 0, `SECURITY.md has "${heading}"`);
      const list = section.slice(start).split('\n\n')[1] ?? '';
      return [...list.matchAll(/^- `([^`]+)`/gm)].map((m) => m[1] ?? '').sort();
    };
    const table = (verdict: string) => ENVIRONMENT.filter((v) => v.verdict === verdict).map((v) => v.name).sort();
    assert.deepEqual(listed('Removed'), table('removed'));
    assert.deepEqual(listed('Supported'), table('supported'));
  });
});
