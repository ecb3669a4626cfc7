// Nothing Azure (or whoever answers as Azure) says can form a workflow command, summary markup
// or an output value: command-like and markup strings are planted in every field the action
// reads from an answer, and the run's stdout, stderr and summary are read as the runner and
// GitHub read them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FaultRule } from '../../emulator/faults.ts';
import { DEPLOYER_OBJECT_ID, RG, withEmulator } from '../support/emulator.ts';
import { runAction, type ActionRun } from '../support/run-action.ts';
import { foreignCommands, foreignMarkup } from '../support/runner-view.ts';

const MARK = 'PWNED';
/** Every trick at once: runner commands, line breaks of every kind, HTML, markdown. */
const HOSTILE = [
  `x ##[stop-commands]${MARK}`,
  `::error::${MARK}-1`,
  `\n::warning title=${MARK}::${MARK}-2`,
  `\r\n  ::add-mask::${MARK}`,
  `\r::set-output name=${MARK}::1`,
  `##[group]${MARK}`,
  `</td></tr></table>\n\n# ${MARK} heading`,
  `![${MARK}](https://evil.example/p.png) [${MARK}](https://evil.example)`,
  `<img src="https://evil.example/${MARK}.png"> <a href="https://evil.example">${MARK}</a>`,
  `%0A::error::${MARK}-3 \u2028::error::${MARK}-4 \u0085::error::${MARK}-5`,
  `'; $(touch /tmp/${MARK}) \`id\` "`,
].join(' ');
/** The same without line breaks: what fits in an HTTP header. */
const HOSTILE_HEADER = `##[stop-commands]${MARK} ::error::${MARK}`;

type Answer = (body: Record<string, unknown>) => unknown;
const rewrite = (route: string, body: Answer, times = Infinity, method?: string): FaultRule => ({ route, times, ...(method ? { method } : {}), action: { kind: 'rewrite', body: (b) => body(b as Record<string, unknown>) } });
const listItems = (edit: (item: Record<string, unknown>) => void): Answer => (b) => {
  for (const item of (b['value'] as Record<string, unknown>[] | undefined) ?? []) edit(item);
  return b;
};
const identityOf = (b: Record<string, unknown>) => (b['identity'] ??= { type: 'SystemAssigned' }) as Record<string, unknown>;

interface Case {
  field: string;
  inputs: Record<string, string>;
  faults: FaultRule[];
  edit?: Parameters<typeof withEmulator>[0]['edit'];
}

const web = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web' };
const fleet = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-*' };
const CASES: Case[] = [
  { field: 'tag values and keys in a list answer', inputs: { ...fleet, operation: 'show' }, faults: [rewrite('arm.vmss.list', listItems((i) => (i['tags'] = { team: HOSTILE, [HOSTILE]: 'v' })))] },
  { field: 'a scale set name in a list answer', inputs: { ...fleet, operation: 'show' }, faults: [rewrite('arm.vmss.list', listItems((i) => {
    i['name'] = `::error::${MARK}`;
    i['id'] = String(i['id']).replace(/[^/]+$/, `::error::${MARK}`);
  }))] },
  { field: 'the system-assigned principal id', inputs: { ...web, operation: 'show' }, faults: [rewrite('arm.vmss.get', (b) => ({ ...b, identity: { type: 'SystemAssigned', principalId: HOSTILE, tenantId: HOSTILE } }))] },
  { field: 'a user-assigned identity key and client id', inputs: { ...web, operation: 'show' }, faults: [rewrite('arm.vmss.get', (b) => ({ ...b, identity: { type: 'UserAssigned', userAssignedIdentities: { [HOSTILE]: { principalId: HOSTILE, clientId: HOSTILE } } } }))] },
  { field: 'the provisioning state', inputs: { ...web, 'identity-type': 'SystemAssigned', 'timeout-seconds': '20' }, faults: [rewrite('arm.vmss.get', (b) => ({ ...b, properties: { ...(b['properties'] as object), provisioningState: HOSTILE } }))] },
  { field: 'an ARM error code, message and headers', inputs: { ...web, 'identity-type': 'SystemAssigned' }, faults: [{ route: 'arm.vmss.patch', times: Infinity, action: { kind: 'status', status: 400, code: HOSTILE_HEADER, message: HOSTILE, headers: { 'x-ms-request-id': HOSTILE_HEADER, 'x-ms-correlation-request-id': HOSTILE_HEADER } } }] },
  { field: 'an operation status and its error', inputs: { ...web, 'identity-type': 'SystemAssigned' }, faults: [rewrite('arm.operation', () => ({ status: 'Failed', error: { code: HOSTILE_HEADER, message: HOSTILE, details: [{ code: HOSTILE_HEADER, message: HOSTILE }] } }))] },
  { field: 'the final answer of a write', inputs: { ...web, 'identity-type': 'SystemAssigned' }, faults: [rewrite('arm.vmss.get', (b) => { identityOf(b)['principalId'] = HOSTILE; return b; }, Infinity)], edit: undefined },
  { field: 'a role assignment refusal', inputs: { ...web, 'identity-type': 'SystemAssigned', 'role-assignments': `Reader at ${RG}` }, faults: [{ route: 'arm.roleAssignment.put', times: Infinity, action: { kind: 'status', status: 400, code: HOSTILE_HEADER, message: HOSTILE } }], edit: (seed) => void seed.roleAssignments?.push({ principalId: DEPLOYER_OBJECT_ID, role: 'Role Based Access Control Administrator', scope: RG }) },
  { field: 'an Entra ID error description', inputs: { ...web, operation: 'show' }, faults: [{ route: 'entra.token', times: Infinity, action: { kind: 'status', status: 400, code: HOSTILE_HEADER, message: HOSTILE } }] },
  { field: 'the custom cloud metadata', inputs: { ...web, operation: 'show' }, faults: [rewrite('arm.metadata', (b) => (Array.isArray(b) ? b : [b]).map((c: Record<string, unknown>) => ({ ...c, name: HOSTILE, authentication: { loginEndpoint: HOSTILE, audiences: [HOSTILE] } })))] },
  { field: 'a list refusal', inputs: { ...fleet, operation: 'show' }, faults: [{ route: 'arm.vmss.list', times: Infinity, action: { kind: 'status', status: 403, code: HOSTILE_HEADER, message: HOSTILE, headers: { 'x-ms-request-id': HOSTILE_HEADER } } }] },
];

/** Where an output carries text from outside: only an `error` field of `results` (escaped JSON) and `plan`'s failure lines (escaped markdown, foreignPlanMarkup) may. */
function outputsCarrying(run: ActionRun): string[] {
  const places = Object.entries(run.outputs).filter(([name, value]) => name !== 'results' && name !== 'plan' && value.includes(MARK)).map(([name]) => name);
  const results = JSON.parse(run.outputs['results'] ?? '[]') as Record<string, unknown>[];
  results.forEach((r, i) => {
    for (const [k, v] of Object.entries(r)) if (k !== 'error' && JSON.stringify(v).includes(MARK)) places.push(`results[${i}].${k}`);
  });
  // A script that pastes an output despite the advice finds nothing a shell would act on.
  for (const [name, value] of Object.entries(run.outputs)) if (/[$`']/.test(value)) places.push(`${name} holds a shell character`);
  return places;
}

/** The plan output is markdown: text from outside may be in a list item, as text only (no tag but its own code, no link, no line of its own, no mention). */
function foreignPlanMarkup(plan: string): string[] {
  const problems = [...plan.matchAll(/<\/?([a-z][a-z0-9]*)\b[^>]*>/gi)].filter((m) => m[1]?.toLowerCase() !== 'code' || m[0].includes(MARK)).map((m) => `tag ${m[0].slice(0, 80)}`);
  if (/!\[|\]\(/.test(plan.replace(/&#\d+;|&[a-z]+;/g, ' '))) problems.push('a markdown link or image');
  for (const line of plan.split('\n')) if (line.includes(MARK) && !line.startsWith('- **')) problems.push(`line ${line.slice(0, 80)}`);
  // A word joiner after `@` keeps GitHub from reading a mention.
  if (/@(?!\u2060)/.test(plan)) problems.push('a mention');
  return problems;
}

describe('text from Azure cannot steer the runner', { concurrency: 4 }, () => {
  for (const c of CASES) {
    it(`${c.field}: no command, no markup, no output value`, () =>
      withEmulator({ ...(c.edit ? { edit: c.edit } : {}) }, async (em) => {
        for (const f of c.faults) em.controls.fault(f);
        const run = await runAction(em, c.inputs);
        // The planted text reached the action (else the case proves nothing) …
        assert.ok(em.log.entries.some((e) => e.fault), `no answer was rewritten for ${c.field}`);
        assert.ok(`${run.stdout}${run.stderr}${run.summary}${run.outputs['results']}`.includes(MARK), `the action never echoed ${c.field}`);
        // … and formed nothing.
        assert.deepEqual(foreignCommands(run.stdout, MARK), [], 'stdout');
        assert.deepEqual(foreignCommands(run.stderr, MARK), [], 'stderr');
        assert.deepEqual(foreignMarkup(run.summary, MARK), [], 'summary');
        assert.deepEqual(outputsCarrying(run), [], 'outputs');
        assert.deepEqual(foreignPlanMarkup(run.outputs['plan'] ?? ''), [], 'plan');
        for (const line of run.stdout.split('\n')) assert.ok(line.length <= 6 * 1024, `a log line of ${line.length} characters`);
      }));
  }
});

describe('the checks above can fail', () => {
  it('they see a command and markup where there is one', () => {
    assert.equal(foreignCommands(`team ##[stop-commands]${MARK}`, MARK).length, 1);
    assert.equal(foreignCommands(`  ::error::${MARK}`, MARK).length, 0, 'an own command carrying the marker in its data only is fine');
    assert.equal(foreignCommands(`::set-env name=x::${MARK}`, MARK).length, 1);
    assert.equal(foreignCommands(`::error title=${MARK}::x`, MARK).length, 1);
    assert.ok(foreignMarkup(`<h3>a</h3>\n\n# ${MARK}`, MARK).length > 0);
    assert.ok(foreignMarkup(`<p><img src="https://evil.example/${MARK}.png"></p>`, MARK).length > 0);
    assert.ok(foreignMarkup(`<table><tr><td>x</td></tr></table></td></tr></table>`, MARK).length > 0);
    assert.ok(foreignMarkup(`<p>![${MARK}](https://evil.example/p.png)</p>`, MARK).length > 0);
  });
});
