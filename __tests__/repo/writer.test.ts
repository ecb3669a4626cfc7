// Everything the runner reads goes through src/writer.ts: no other module may print, annotate,
// group, set an output or a secret, or write the summary. A new call elsewhere fails here.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

const SRC = new URL('../../src/', import.meta.url).pathname;
const WRITER = 'writer.ts';
/** The one import of @actions/core allowed elsewhere: the GitHub OIDC token request, which prints nothing of ours. */
const QUIET_IMPORT = "import { getIDToken } from '@actions/core';";
const PRINTING = /\bprocess\.(stdout|stderr)\b|\bconsole\.\w+|\bcore\.summary\b/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Each use of @actions/core and each direct write to the process's streams, outside the writer. */
export function printingOutsideWriter(files: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    if (file === WRITER) continue;
    text.split('\n').forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, '');
      for (const m of code.matchAll(/\bcore\.(\w+)/g)) found.push(`${file}:${i + 1} core.${m[1]}`);
      if (PRINTING.test(code)) found.push(`${file}:${i + 1} ${code.trim().slice(0, 80)}`);
      if (/'@actions\/core'/.test(code) && code.trim() !== QUIET_IMPORT) found.push(`${file}:${i + 1} imports @actions/core`);
    });
  }
  return found;
}

describe('one writer', () => {
  const files = Object.fromEntries(sources(SRC).map((f) => [relative(SRC, f), readFileSync(f, 'utf8')]));

  it('no module but src/writer.ts prints, annotates, sets outputs or writes the summary', () => {
    assert.deepEqual(printingOutsideWriter(files), []);
  });

  it('the check finds a stray call', () => {
    assert.deepEqual(printingOutsideWriter({ 'x.ts': "import * as core from '@actions/core';\ncore.info(name);\nprocess.stdout.write(tag);" }), ['x.ts:1 imports @actions/core', 'x.ts:2 core.info', 'x.ts:3 process.stdout.write(tag);']);
    assert.deepEqual(printingOutsideWriter({ 'y.ts': 'core.summary.addRaw(x);\nconsole.log(x);' }).length, 3);
    assert.deepEqual(printingOutsideWriter({ 'z.ts': "import { info, getIDToken } from '@actions/core';" }), ['z.ts:1 imports @actions/core']);
    assert.deepEqual(printingOutsideWriter({ 'w.ts': "import { getIDToken } from '@actions/core';" }), []);
  });
});
