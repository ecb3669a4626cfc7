// Every workflow in examples/ runs against the emulator's default seed: each step that uses this
// action, with its `with:` inputs from the YAML and its `${{ … }}` expressions from the table
// below, in job order (needs), each matrix combination, one fresh emulator per file.
// Steps that are not this action are not run: azure/login (its session is played by a stand-in
// `az` when a later step of the action relies on it) and `run:` scripts (what they read from the
// action's outputs is checked instead). An expression the table does not know fails the test
// with its text, so a new example cannot be skipped silently.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { Emulator } from '../../emulator/server.ts';
import { armToken } from '../support/clients.ts';
import { DEPLOYER_CLIENT_ID, SUB, SUB_US, TENANT, withEmulator } from '../support/emulator.ts';
import { runAction, type ActionRun } from '../support/run-action.ts';

const ACTION = /^vmss-identity\/vmss-identity-action@/;
const root = new URL('../../examples/', import.meta.url);
const files = readdirSync(root).filter((f) => f.endsWith('.yml')).sort();

/** The repository variables the examples read, as the default seed holds them. */
const VARS: Record<string, string> = {
  AZURE_CLIENT_ID: DEPLOYER_CLIENT_ID,
  AZURE_TENANT_ID: TENANT,
  AZURE_SUBSCRIPTION_ID: SUB,
  AZURE_SUBSCRIPTION_ID_EU: SUB,
  AZURE_SUBSCRIPTION_ID_US: SUB_US,
};
const MAX_COMBINATIONS = 16;

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const jsonArray = (v: string) => {
  const parsed = JSON.parse(v) as unknown;
  assert.ok(Array.isArray(parsed), `not a JSON array: ${v}`);
  return parsed as unknown[];
};
const guids = (v: string) => jsonArray(v).length > 0 && jsonArray(v).every((id) => GUID.test(String(id)));
/**
 * What a later step may rely on, per output it reads, given all the step's outputs. An output
 * not listed here fails the test.
 */
const OUTPUT_CHECKS: Record<string, (v: string, all: Record<string, string>) => void> = {
  // A GUID exactly when the scale set has a system-assigned identity (show may find none).
  'principal-id': (v, all) => (/SystemAssigned/.test(all['identity-type'] ?? '') ? assert.match(v, GUID) : assert.equal(v, '')),
  'tenant-id': (v) => assert.match(v, GUID),
  'identity-type': (v) => assert.match(v, /^(SystemAssigned|UserAssigned|SystemAssigned, UserAssigned|None)$/),
  changed: (v) => assert.match(v, /^(true|false)$/),
  'client-ids': (v) => assert.ok(guids(v), v),
  'principal-ids': (v) => assert.ok(guids(v), v),
  'role-assignment-ids': (v) => assert.ok(jsonArray(v).length > 0 && jsonArray(v).every((id) => /\/providers\/Microsoft\.Authorization\/roleAssignments\/[0-9a-f-]{36}$/i.test(String(id))), v),
  results: (v) => assert.ok(jsonArray(v).length > 0 && jsonArray(v).every((r) => /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Compute\/virtualMachineScaleSets\/[^/]+$/i.test(String((r as { scaleSet?: string }).scaleSet)) && !(r as { error?: string }).error), v),
  'user-assigned-identities': (v) => assert.ok(Object.keys(JSON.parse(v) as object).length > 0, v),
};

interface Step { id?: string; uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, unknown>; if?: string }
interface Job { needs?: string | string[]; if?: string; environment?: string | { name: string }; strategy?: { matrix?: Record<string, unknown> }; outputs?: Record<string, string>; steps: Step[] }
interface Workflow { on: string | string[] | Record<string, unknown>; jobs: Record<string, Job> }

/** What expressions see: the matrix combination, this job's step outputs, the needed jobs' outputs. */
interface Context { file: string; matrix: Record<string, unknown>; steps: Record<string, Record<string, string>>; needs: Record<string, Record<string, string>> }

function lookup(from: Record<string, Record<string, string>> | undefined, key: string, name: string, what: string, c: Context): string {
  const value = from?.[key]?.[name];
  if (value === undefined) assert.fail(`${c.file}: ${what} '${key}' has no output '${name}' for the steps after it`);
  return value;
}

/** The value of one expression, or a failure naming it. */
function evaluate(expr: string, c: Context): unknown {
  const e = expr.trim();
  let m: RegExpExecArray | null;
  if ((m = /^vars\.(\w+)$/.exec(e)) && m[1] && m[1] in VARS) return VARS[m[1]];
  if ((m = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(e))) return lookup(c.steps, m[1] ?? '', m[2] ?? '', 'step', c);
  if ((m = /^needs\.([\w-]+)\.outputs\.([\w-]+)$/.exec(e))) return lookup(c.needs, m[1] ?? '', m[2] ?? '', 'job', c);
  if ((m = /^matrix\.([\w.-]+)$/.exec(e))) {
    const value = (m[1] ?? '').split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), c.matrix);
    if (value === undefined) assert.fail(`${c.file}: no matrix value ${e}`);
    return value;
  }
  if ((m = /^fromJSON\((.+)\)$/i.exec(e))) return JSON.parse(String(evaluate(m[1] ?? '', c))) as unknown;
  if ((m = /^(.+?)\s*(==|!=)\s*'([^']*)'$/.exec(e))) return (String(evaluate(m[1] ?? '', c)) === m[3]) === (m[2] === '==');
  if (/^(always|success)\(\)$/.test(e)) return true;
  return assert.fail(`${c.file}: no value for \${{ ${e} }}: add it to the table in __tests__/e2e/examples.test.ts`);
}

/** A YAML value with its expressions replaced; a value that is one expression keeps its type. */
function substitute(value: unknown, c: Context): unknown {
  const text = String(value);
  const whole = /^\s*\$\{\{((?:(?!\}\}).)+)\}\}\s*$/s.exec(text);
  if (whole) return evaluate(whole[1] ?? '', c);
  return text.replace(/\$\{\{(.+?)\}\}/gs, (_, expr: string) => String(evaluate(expr, c)));
}

/** Every combination of the job's matrix (include/exclude are not supported: extend the test). */
function combinations(job: Job, c: Context): Record<string, unknown>[] {
  const matrix = job.strategy?.matrix;
  if (!matrix) return [{}];
  let combos: Record<string, unknown>[] = [{}];
  for (const [key, raw] of Object.entries(matrix)) {
    assert.ok(key !== 'include' && key !== 'exclude', `${c.file}: matrix ${key} is not supported by this test; extend it`);
    const values = substitute(raw, c);
    assert.ok(Array.isArray(values) && values.length > 0, `${c.file}: matrix ${key} is empty against the seed: ${JSON.stringify(values)}`);
    combos = combos.flatMap((combo) => values.map((v: unknown) => ({ ...combo, [key]: v })));
  }
  assert.ok(combos.length <= MAX_COMBINATIONS, `${c.file}: ${combos.length} matrix combinations (at most ${MAX_COMBINATIONS})`);
  return combos;
}

/** Jobs in an order that runs each after the jobs it needs. */
function jobOrder(wf: Workflow): string[] {
  const done: string[] = [];
  const visit = (name: string): void => {
    if (done.includes(name)) return;
    const needs = wf.jobs[name]?.needs;
    for (const n of needs === undefined ? [] : Array.isArray(needs) ? needs : [needs]) visit(n);
    done.push(name);
  };
  Object.keys(wf.jobs).forEach(visit);
  return done;
}

/** The outputs (`steps.<id>.outputs.<name>`) the job's other steps and its outputs read from `id`. */
function outputsRead(job: Job, id: string): string[] {
  const text = JSON.stringify({ steps: job.steps, outputs: job.outputs ?? {} });
  return [...text.matchAll(new RegExp(`steps\\.${id}\\.outputs\\.([\\w-]+)`, 'g'))].map((m) => m[1] ?? '');
}

/** A stand-in `az` answering `az account get-access-token` as azure/login leaves the CLI signed in. */
async function azureLoginSession(em: Emulator, clientId: string): Promise<{ path: string; done: () => void }> {
  const token = JSON.stringify({ accessToken: await armToken(em, clientId), expiresOn: '2099-01-01 00:00:00.000000', expires_on: Math.floor(Date.now() / 1000) + 3600, subscription: SUB, tenant: TENANT, tokenType: 'Bearer' });
  const bin = mkdtempSync(join(tmpdir(), 'azure-login-'));
  writeFileSync(join(bin, 'az'), `#!/bin/sh\nif [ "$1 $2" = "account get-access-token" ]; then echo '${token}'; exit 0; fi\necho "unexpected az $*" >&2\nexit 1\n`);
  chmodSync(join(bin, 'az'), 0o755);
  return { path: `${bin}:${process.env['PATH'] ?? ''}`, done: () => rmSync(bin, { recursive: true, force: true }) };
}

function eventOf(wf: Workflow): string {
  const on = wf.on;
  return typeof on === 'string' ? on : Array.isArray(on) ? String(on[0]) : Object.keys(on)[0] ?? 'push';
}

/** Runs one action step; asserts it succeeded and gave each output later steps read. */
async function runStep(em: Emulator, job: Job, step: Step, c: Context, loginAs: string | undefined, event: string): Promise<ActionRun> {
  const inputs = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, String(substitute(v, c))]));
  const viaCli = inputs['client-id'] === undefined;
  if (viaCli) assert.ok(loginAs, `${c.file}: a step without client-id needs an azure/login step before it`);
  const session = viaCli && loginAs ? await azureLoginSession(em, loginAs) : undefined;
  try {
    const env = { GITHUB_EVENT_NAME: event, ...(session ? { PATH: session.path, AZURE_CLIENT_ID: undefined, AZURE_TENANT_ID: undefined } : {}) };
    const exchanges = em.log.of('github.token').length;
    const run = await runAction(em, inputs, { env });
    if (session) assert.equal(em.log.of('github.token').length, exchanges, `${c.file}: the step signed in with OIDC, not with the azure/login session`);
    const label = `${c.file}: step ${step.id ?? '(no id)'} with ${JSON.stringify(inputs)}`;
    assert.equal(run.code, 0, `${label} failed:\n${run.stdout}${run.stderr}`);
    assert.doesNotMatch(run.stdout, /^::(error|warning)::/m, `${label} warned:\n${run.stdout}`);
    for (const name of step.id ? outputsRead(job, step.id) : []) {
      const check = OUTPUT_CHECKS[name];
      assert.ok(check, `${c.file}: a later step reads output '${name}': add a check for it to OUTPUT_CHECKS`);
      const value = run.outputs[name];
      assert.ok(value !== undefined, `${label}: no output '${name}'; a later step reads it`);
      check(value, run.outputs);
    }
    return run;
  } finally {
    session?.done();
  }
}

/** Runs one job's action steps for one matrix combination, keeping their outputs in `c.steps`; returns how many ran. */
async function runJob(em: Emulator, job: Job, c: Context, event: string): Promise<number> {
  let ran = 0;
  let loginAs: string | undefined;
  for (const step of job.steps) {
    if (step.uses?.startsWith('azure/login@')) loginAs = String(substitute(step.with?.['client-id'], c));
    if (!step.uses || !ACTION.test(step.uses)) continue;
    if (step.if !== undefined) assert.equal(substitute(`\${{ ${step.if} }}`, c), true, `${c.file}: step ${step.id} would be skipped`);
    const run = await runStep(em, job, step, c, loginAs, event);
    if (step.id) c.steps[step.id] = run.outputs;
    ran++;
  }
  return ran;
}

async function runWorkflow(file: string, em: Emulator): Promise<number> {
  const wf = parse(readFileSync(new URL(file, root), 'utf8')) as Workflow;
  const event = eventOf(wf);
  em.state.github.eventName = event;
  const needs: Context['needs'] = {};
  let ran = 0;
  for (const name of jobOrder(wf)) {
    const job = wf.jobs[name] as Job;
    const base: Context = { file, matrix: {}, steps: {}, needs };
    if (job.if !== undefined) assert.equal(substitute(`\${{ ${job.if} }}`, base), true, `${file}: job ${name} would be skipped against the seed`);
    const environment = typeof job.environment === 'object' ? job.environment.name : job.environment;
    if (environment === undefined) delete em.state.github.environment;
    else em.state.github.environment = environment;
    for (const matrix of combinations(job, base)) {
      const c: Context = { ...base, matrix, steps: {} };
      ran += await runJob(em, job, c, event);
      // Job outputs come from the last combination, as GitHub takes them (the examples read them from jobs without a matrix).
      needs[name] = Object.fromEntries(Object.entries(job.outputs ?? {}).map(([k, v]) => [k, String(substitute(v, c))]));
    }
  }
  return ran;
}

describe('the examples run against the default seed', { concurrency: 2 }, () => {
  it('there are examples to run', () => assert.ok(files.length >= 7, files.join(', ')));
  for (const file of files) {
    it(`examples/${file}: every step of the action succeeds and gives the outputs later steps read`, () =>
      withEmulator({}, async (em) => {
        const ran = await runWorkflow(file, em);
        assert.ok(ran > 0, `${file} has no step that uses the action`);
      }));
  }
});
