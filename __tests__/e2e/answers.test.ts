// A hostile or broken Azure: answers whose values break ARM's rules (a principal id that is a
// shell command, an identity key that is a storage account, a scale set of another
// subscription, a name holding a workflow command). Each fails its target or its listing, and
// the value reaches no output, no log line and no URL.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FLEET_SUBS, RG, SUB, withEmulator } from '../support/emulator.ts';
import { runAction, type ActionRun } from '../support/run-action.ts';
import { canGrant, errorLine, results } from '../support/outcome.ts';

const HOSTILE = 'x"; touch /tmp/pwned; echo "';
const STORAGE = `${RG}/providers/Microsoft.Storage/storageAccounts/stprodweb`;
const api = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-api' };
const web = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web' };

type Body = Record<string, unknown> & { identity?: Record<string, unknown> & { userAssignedIdentities?: Record<string, Record<string, unknown>> } };
/** Every place the runner or a later step reads: outputs, the log, the summary. */
const everything = (run: ActionRun) => [...Object.values(run.outputs), run.stdout, run.stderr, run.summary].join('\n');
const GUID_FILTER = /^principalId eq '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'$/i;

describe('answers from Azure are parsed, not trusted', { concurrency: 3 }, () => {
  it('a GET answering a principal id that is a shell command: that scale set fails, nothing is written, no output holds it', () =>
    withEmulator({}, async (em) => {
      em.controls.fault({ route: 'arm.vmss.get', times: Infinity, action: { kind: 'rewrite', body: (b) => ({ ...(b as Body), identity: { ...(b as Body).identity, principalId: HOSTILE } }) } });
      const run = await runAction(em, { ...api, 'user-assigned-ids': 'id-logs' });
      assert.equal(run.code, 1);
      assert.match(errorLine(run), /^Azure answered with an invalid principal id for scale set vmss-api in resource group rg-prod \(subscription [0-9a-f-]{36}\): 'x\\u0022\\u003b touch \/tmp\/pwned\\u003b echo \\u0022'\. The action used nothing of that answer\. Run the step again/);
      assert.equal(em.log.of('arm.vmss.patch').length, 0, 'no write from an answer that failed');
      assert.equal(run.outputs['principal-id'], '');
      assert.equal(run.outputs['principal-ids'], '[]');
      assert.ok(!everything(run).includes(HOSTILE), 'the value reached an output, the log or the summary');
      assert.ok(!(run.outputs['results'] ?? '').includes('"; touch'), 'results hold the value');
    }));

  it("a write's final answer with a client id that is not a GUID: a clear error, the value in no output", () =>
    withEmulator({}, async (em) => {
      const bad = 'not-a-guid$(id)';
      // The first GET is the read before the write; the next is the final answer of the write.
      em.controls.fault({ route: 'arm.vmss.get', skip: 1, times: Infinity, action: {
        kind: 'rewrite',
        body: (b) => {
          const body = b as Body;
          for (const value of Object.values(body.identity?.userAssignedIdentities ?? {})) value['clientId'] = bad;
          return body;
        },
      } });
      const run = await runAction(em, { ...web, 'user-assigned-ids': 'id-app' });
      assert.equal(run.code, 1);
      assert.match(errorLine(run), /^Azure answered with an invalid client id for scale set vmss-web .*: 'not-a-guid\\u0024\\u0028id\\u0029'\./);
      assert.equal(em.log.of('arm.vmss.patch').length, 1);
      assert.ok(!everything(run).includes(bad), 'the value reached an output, the log or the summary');
      assert.equal(run.outputs['client-ids'], '[]');
    }));

  it("a write's final answer naming a storage account as a user-assigned identity: a clear error, the key in no output", () =>
    withEmulator({}, async (em) => {
      em.controls.fault({ route: 'arm.vmss.get', skip: 1, times: Infinity, action: {
        kind: 'rewrite',
        body: (b) => {
          const body = b as Body;
          const map = body.identity?.userAssignedIdentities ?? {};
          for (const key of Object.keys(map)) {
            map[STORAGE] = map[key] ?? {};
            delete map[key];
          }
          return body;
        },
      } });
      const run = await runAction(em, { ...web, 'user-assigned-ids': 'id-app' });
      assert.equal(run.code, 1);
      assert.match(errorLine(run), /^Azure answered with an invalid user-assigned identity id for scale set vmss-web .*storageAccounts\/stprodweb'\./);
      assert.ok(!run.outputs['user-assigned-identities']?.includes('storageAccounts'), run.outputs['user-assigned-identities']);
      assert.ok(!(run.outputs['results'] ?? '').includes(`"${STORAGE}"`), 'results name the storage account as an identity');
      assert.ok(!run.summary.includes('stprodweb:'), 'the summary lists the storage account as an identity');
    }));

  it('an operation status Azure does not send ("NotSucceeded"): the write is not taken as done', () =>
    withEmulator({ updateDurationMs: 500 }, async (em) => {
      em.controls.fault({ route: 'arm.operation', times: Infinity, action: { kind: 'rewrite', body: (b) => ({ ...(b as Body), status: 'NotSucceeded' }) } });
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'timeout-seconds': '20' });
      assert.equal(run.code, 1);
      assert.match(errorLine(run), /^Azure answered with an invalid operation status for the operation \/subscriptions\/.*\/operations\/[0-9a-f-]{36}: 'NotSucceeded'\./);
      assert.equal(run.outputs['changed'], 'true', 'Azure had accepted the write');
      assert.notEqual(results(run)[0]?.error, undefined);
    }));

  it('a list page holding a scale set of another subscription: that listing fails, naming the item', () =>
    withEmulator({}, async (em) => {
      const foreign = `/subscriptions/${FLEET_SUBS[0]}/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web`;
      em.controls.fault({ route: 'arm.vmss.list', times: Infinity, action: {
        kind: 'rewrite',
        body: (b) => {
          const body = b as { value: Body[] };
          if (body.value[1]) body.value[1]['id'] = foreign;
          return body;
        },
      } });
      const run = await runAction(em, { 'resource-group': '*', 'vmss-name': 'vmss-*', 'subscription-id': SUB, 'identity-type': 'SystemAssigned', 'dry-run': 'true' });
      assert.equal(run.code, 1);
      const [failed, ...rest] = results(run);
      assert.equal(rest.length, 0, 'no scale set of the failed listing goes on');
      assert.match(failed?.error ?? '', new RegExp(`^Could not list the scale sets of /subscriptions/${SUB}: Azure answered with an invalid scale set id \\(another subscription\\) for scale set #2 of the list of /subscriptions/${SUB}: '${foreign}'\\.`));
    }));

  for (const [label, name] of [['a workflow command', '::error::pwned'], ['a newline', 'vmss-x\n::error::pwned']] as const) {
    it(`a list page holding a scale set whose name holds ${label}: that listing fails, naming it escaped`, () =>
      withEmulator({}, async (em) => {
        em.controls.fault({ route: 'arm.vmss.list', times: Infinity, action: {
          kind: 'rewrite',
          body: (b) => {
            const body = b as { value: Body[] };
            const item = body.value[0] as Body;
            item['id'] = `${String(item['id']).split('/').slice(0, -1).join('/')}/${name}`;
            item['name'] = name;
            return body;
          },
        } });
        const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-*', 'identity-type': 'SystemAssigned', 'dry-run': 'true' });
        assert.equal(run.code, 1);
        const [failed, ...rest] = results(run);
        assert.equal(rest.length, 0);
        assert.match(failed?.error ?? '', new RegExp(`^Could not list the scale sets of /subscriptions/${SUB}/resourceGroups/rg-prod: Azure answered with an invalid scale set id for scale set #1 of the list of .*virtualMachineScaleSets/(vmss-x\\\\u000a)?\\\\u003a\\\\u003aerror\\\\u003a\\\\u003apwned'\\.`));
        assert.ok(!run.stdout.split('\n').some((l) => l.startsWith('::error::pwned')), 'a workflow command reached the log');
        assert.ok(!everything(run).includes(name), 'the name reached an output, the log or the summary unescaped');
      }));
  }

  it('a role assignment list answer with a principal that is not a GUID: an error; the $filter sent holds only a GUID', () =>
    withEmulator({ edit: canGrant }, async (em) => {
      const principal = em.state.findScaleSet(SUB, 'rg-prod', 'vmss-api')?.identity.system?.principalId ?? '';
      const definition = `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`;
      // Someone else's assignment of the same role: the PUT answers RoleAssignmentExists and the action looks it up.
      em.controls.fault({ route: 'arm.roleAssignment.put', action: { kind: 'status', status: 409, code: 'RoleAssignmentExists', message: 'The role assignment already exists.' } });
      em.controls.fault({ route: 'arm.roleAssignments.list', action: {
        kind: 'rewrite',
        body: () => ({ value: [{ id: `${RG}/providers/Microsoft.Authorization/roleAssignments/0b5f3b59-2f4e-4a8e-9f57-4d7e0c3d1a11`, properties: { principalId: "x' or 1 eq 1", roleDefinitionId: definition, scope: RG } }] }),
      } });
      const run = await runAction(em, { ...api, 'identity-type': 'SystemAssigned', 'role-assignments': `Reader at ${RG}` });
      assert.equal(run.code, 1);
      assert.match(errorLine(run), new RegExp(`^Azure answered with an invalid principal id for the role assignments of principal ${principal} at '${RG}': 'x\\\\u0027 or 1 eq 1'\\.`));
      const filters = em.log.of('arm.roleAssignments.list').map((e) => e.filter);
      assert.equal(filters.length, 1);
      assert.match(filters[0] ?? '', GUID_FILTER);
      assert.equal(run.outputs['role-assignment-ids'], '[]');
    }));

  it('a principal id from the scale set that is not a GUID never reaches a role assignment request', () =>
    withEmulator({ edit: canGrant }, async (em) => {
      const hostile = "00000000-0000-0000-0000-000000000000' or principalId ne 'x";
      em.controls.fault({ route: 'arm.vmss.get', times: Infinity, action: { kind: 'rewrite', body: (b) => ({ ...(b as Body), identity: { ...(b as Body).identity, principalId: hostile } }) } });
      em.controls.fault({ route: 'arm.roleAssignment.put', action: { kind: 'status', status: 409, code: 'RoleAssignmentExists', message: 'The role assignment already exists.' } });
      const run = await runAction(em, { ...api, 'identity-type': 'SystemAssigned', 'role-assignments': `Reader at ${RG}` });
      assert.equal(run.code, 1);
      assert.match(errorLine(run), /^Azure answered with an invalid principal id for scale set vmss-api /);
      assert.equal(em.log.of('arm.roleAssignment.put').length, 0, 'a role assignment was written for it');
      for (const e of em.log.of('arm.roleAssignments')) assert.match(e.filter ?? '', GUID_FILTER);
      assert.ok(!everything(run).includes(hostile));
    }));

  it("an operation URL that is not a plain URL: the write is reported accepted, the URL is in no output and is not followed", () =>
    withEmulator({ updateDurationMs: 3000 }, async (em) => {
      const hostile = `x'"; touch /tmp/pwned; echo "$(id)`;
      em.controls.fault({ route: 'arm.vmss.patch', times: Infinity, action: { kind: 'rewrite', headers: { 'azure-asyncoperation': hostile } } });
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 1);
      const r = results(run)[0];
      assert.equal(r?.write, 'accepted', 'Azure accepted the write: the outputs say so');
      assert.equal(r?.changed, true);
      assert.equal(r?.operationUrl, undefined);
      assert.ok(!JSON.stringify(run.outputs).includes('pwned') || /Azure answered with an invalid operation URL/.test(r?.error ?? ''), 'only the error names it, escaped');
      assert.match(r?.error ?? '', /Azure answered with an invalid operation URL for the identity update of vmss-web: 'x\\u0027\\u0022\\u003b touch/);
      assert.deepEqual(em.log.arrived('arm.operation'), [], 'not polled');
      assert.equal(em.log.arrivals.filter((a) => a.path.includes('pwned')).length, 0);
    }));
});
