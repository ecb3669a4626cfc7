// action.yml is valid for the runner and agrees with the code: every input the code reads is
// declared, every declared input is read, and the same for outputs.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { INPUTS } from '../../src/inputs.ts';
import { OUTPUTS } from '../../src/report.ts';
import { DEFAULTS } from '../support/run-action.ts';

const root = new URL('../../', import.meta.url);
const action = parse(readFileSync(new URL('action.yml', root), 'utf8')) as {
  name: string;
  description: string;
  branding?: { icon: string; color: string };
  inputs: Record<string, { description?: string; default?: unknown; required?: boolean }>;
  outputs: Record<string, { description?: string }>;
  runs: { using: string; main: string };
};

describe('action.yml', () => {
  it('runs the committed bundle on node24', () => {
    assert.equal(action.runs.using, 'node24');
    assert.equal(action.runs.main, 'dist/index.js');
    assert.ok(existsSync(new URL(action.runs.main, root)), 'dist/index.js exists');
    assert.ok(action.name && action.description && action.description.length <= 125, 'name and a Marketplace-length description');
    assert.ok(action.branding?.icon && action.branding.color);
  });

  it('describes every input and output; defaults are strings; ids are kebab-case', () => {
    for (const [name, input] of Object.entries(action.inputs)) {
      assert.match(name, /^[a-z][a-z0-9-]*$/);
      assert.ok(input.description && input.description.length > 10, `input ${name} has a description`);
      if ('default' in input) assert.equal(typeof input.default, 'string', `input ${name}'s default is a string`);
    }
    for (const [name, output] of Object.entries(action.outputs)) assert.ok(output.description, `output ${name} has a description`);
  });

  it('declares exactly the inputs the code reads', () => {
    assert.deepEqual(Object.keys(action.inputs).sort(), [...INPUTS].sort());
    const sources = ['src/index.ts', 'src/inputs.ts'].map((f) => readFileSync(new URL(f, root), 'utf8')).join('\n');
    for (const name of INPUTS) assert.ok(sources.includes(`'${name}'`), `the code reads '${name}'`);
  });

  it('declares exactly the outputs the code writes', () => {
    assert.deepEqual(Object.keys(action.outputs).sort(), [...OUTPUTS].sort());
    const report = readFileSync(new URL('src/report.ts', root), 'utf8');
    for (const name of OUTPUTS) assert.ok(report.includes(`set('${name}'`), `the code writes '${name}'`);
  });

  it('the end-to-end harness applies exactly the defaults action.yml declares', () => {
    const declared = Object.fromEntries(Object.entries(action.inputs).filter(([, i]) => i.default !== undefined && i.default !== '').map(([name, i]) => [name, String(i.default)]));
    assert.deepEqual(DEFAULTS, declared);
  });
});
