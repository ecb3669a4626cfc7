// Outputs and messages say what happened, on every path: `changed` and `write` after lost
// connections, cancels at each point of a change, failures after a write, input and sign-in
// failures, fleet aggregates and the summary's shape.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RG, SUB, identitySummary, scaleSet, uai, vmssId, withEmulator } from '../support/emulator.ts';
import { runAction } from '../support/run-action.ts';
import { canGrant, errorLine, results, stopTiming } from '../support/outcome.ts';

const web = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web' };

describe('changed and write tell the truth', { concurrency: 4 }, () => {
  it('4 concurrent assigns of the same identity: exactly one changed=true', () =>
    withEmulator({ updateDurationMs: 200 }, async (em) => {
      // All four read before any writes: three of them meet 412, read again and find nothing to do.
      em.controls.fault({ route: 'arm.vmss.get', times: 4, action: { kind: 'hold', until: () => em.log.arrived('arm.vmss.get').length >= 4 } });
      const runs = await Promise.all(Array.from({ length: 4 }, () => runAction(em, { ...web, 'user-assigned-ids': 'id-app', 'timeout-seconds': '120' })));
      runs.forEach((run) => assert.equal(run.code, 0, run.stdout));
      assert.deepEqual(runs.map((r) => r.outputs['changed']).sort(), ['false', 'false', 'false', 'true']);
      assert.deepEqual(identitySummary(em, 'vmss-web').userAssigned, ['id-app']);
      assert.equal(em.log.of('arm.vmss.patch').filter((e) => e.status === 200).length, 1);
      assert.ok(em.log.of('arm.vmss.patch').some((e) => e.status === 412), 'the race must be provoked');
    }));

  it('connections lost while waiting are retried: the write completes and is reported once', () =>
    withEmulator({ updateDurationMs: 2000 }, async (em) => {
      em.controls.fault({ route: 'arm.operation', times: 2, action: { kind: 'drop' } });
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 0, run.stdout);
      assert.equal(run.outputs['changed'], 'true');
      assert.equal(results(run)[0]?.write, 'completed');
      assert.equal(em.log.of('arm.vmss.patch').length, 1);
    }));

  it('connection lost after Azure accepted the write, until the deadline: reported as accepted, with the operation [timing]', () =>
    withEmulator({ updateDurationMs: 60_000 }, async (em) => {
      em.controls.fault({ route: 'arm.operation', times: Infinity, action: { kind: 'drop' } });
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'timeout-seconds': '10' });
      assert.equal(run.code, 1);
      const timing = stopTiming(run);
      assert.ok(timing && timing.uptimeMs < 12_000 && timing.stopToExitMs < 2000, `the action's own clock: ${JSON.stringify(timing)} (deadline 10 s)`);
      assert.match(errorLine(run), /Timed out after 10 s \(timeout-seconds\)\. Azure had accepted the identity change to vmss-web and may still be completing it \(operation https:\/\/.*\/operations\/[0-9a-f-]{36}\)/);
      assert.doesNotMatch(run.stdout, /Azure rejected/);
      assert.equal(run.outputs['changed'], 'true');
      const [r] = results(run);
      assert.equal(r?.write, 'accepted');
      assert.match(r?.operationUrl ?? '', /\/operations\/[0-9a-f-]{36}/);
      assert.ok(em.log.of('arm.operation').length >= 2, 'kept asking after the first lost answer');
      assert.match(run.summary, /Azure accepted the change and had not finished it when the step ended/);
      assert.match(run.summary, /<li>Requested: enable the system-assigned identity<\/li>/);
      assert.doesNotMatch(run.summary, /<li>Enabled the system-assigned identity/);
    }));

  it('SIGTERM while the write is in flight: says it was sent and may have been applied [timing]', () =>
    withEmulator({}, async (em) => {
      // Azure applies the PATCH, then its answer is held back 5 s.
      em.controls.fault({ route: 'arm.vmss.patch', action: { kind: 'latency', ms: 5000, phase: 'after' } });
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' }, { signalWhen: { signal: 'SIGTERM', when: () => scaleSet(em, 'vmss-web').etag > 1 } });
      assert.notEqual(run.code, 0);
      assert.ok((run.exitAfterSignalMs ?? Infinity) < 2000, `exited ${run.exitAfterSignalMs} ms after the signal`);
      assert.ok((stopTiming(run)?.stopToExitMs ?? Infinity) < 2000, `the action's own clock: ${JSON.stringify(stopTiming(run))}`);
      assert.match(errorLine(run), /Cancelled by SIGTERM\. The identity change to vmss-web was sent and its answer had not arrived, so Azure may have applied it\./);
      assert.doesNotMatch(run.stdout, /Nothing was written/);
      assert.equal(results(run)[0]?.write, 'unconfirmed');
      assert.match(run.summary, /A change was sent and its answer never arrived/);
    }));

  it('SIGTERM while a role assignment PUT is in flight: says that role assignment was sent', () =>
    withEmulator({ edit: canGrant }, async (em) => {
      em.controls.fault({ route: 'arm.roleAssignment.put', action: { kind: 'latency', ms: 5000, phase: 'after' } });
      const before = em.state.roleAssignments.length;
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'role-assignments': `Reader at ${RG}` }, { signalWhen: { signal: 'SIGTERM', when: () => em.state.roleAssignments.length > before } });
      assert.notEqual(run.code, 0);
      assert.match(errorLine(run), /Cancelled by SIGTERM\. The identity change to vmss-web was completed before this\. The role assignment 'Reader' at \/subscriptions\/[^ ]+ was sent and its answer had not arrived, so it may have been applied\./);
      // What Azure holds: the identity, and the assignment the unanswered PUT did create.
      const principal = scaleSet(em, 'vmss-web').identity.system?.principalId;
      assert.ok(principal);
      assert.equal(em.state.roleAssignments.filter((a) => a.principalId === principal && a.scope === RG).length, 1);
      assert.equal(results(run)[0]?.changed, true);
      assert.equal(run.outputs['changed'], 'true');
    }));

  it('SIGTERM while waiting to retry a role assignment Azure refused (PrincipalNotFound): it is not said to be sent', () =>
    withEmulator({ edit: canGrant }, async (em) => {
      em.controls.fault({ route: 'arm.roleAssignment.put', times: 5, action: { kind: 'status', status: 400, code: 'PrincipalNotFound', message: 'Principal 00000000 does not exist in the directory.' } });
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'role-assignments': `Reader at ${RG}` }, { signalWhen: { signal: 'SIGTERM', when: () => em.log.of('arm.roleAssignment.put').length > 0 } });
      assert.notEqual(run.code, 0);
      assert.match(run.stdout, /is not visible to Azure RBAC yet/);
      assert.match(errorLine(run), /Cancelled by SIGTERM\. The identity change to vmss-web was completed before this\./);
      assert.doesNotMatch(errorLine(run), /role assignment/);
      const principal = scaleSet(em, 'vmss-web').identity.system?.principalId;
      assert.ok(principal, 'the identity change stands');
      assert.deepEqual(em.state.roleAssignments.filter((a) => a.principalId === principal), [], 'no role assignment was created');
    }));

  it('SIGTERM while looking for an existing role assignment: no role assignment is said to be sent [timing]', () =>
    withEmulator({ edit: canGrant }, async (em) => {
      // The check phase looks for vmss-api's assignments before any write: that read is held 5 s,
      // and the signal comes once it has arrived.
      em.controls.fault({ route: 'arm.roleAssignments.list', action: { kind: 'latency', ms: 5000 } });
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-api', 'identity-type': 'SystemAssigned', 'role-assignments': `Reader at ${RG}` }, { signalWhen: { signal: 'SIGTERM', when: () => em.faults.pending === 0 } });
      assert.notEqual(run.code, 0);
      assert.ok((run.exitAfterSignalMs ?? Infinity) < 2000, `exited ${run.exitAfterSignalMs} ms after the signal`);
      assert.ok((stopTiming(run)?.stopToExitMs ?? Infinity) < 2000, `the action's own clock: ${JSON.stringify(stopTiming(run))}`);
      assert.equal(em.log.writes().length, 0);
      assert.match(errorLine(run), /Cancelled by SIGTERM\. Nothing was written to vmss-api's identity\./);
      assert.doesNotMatch(errorLine(run), /role assignment/);
    }));

  it('a failure after a write lists what was changed in the summary', () =>
    withEmulator({}, async (em) => {
      // permission-check: warn lets the run go on to the write Azure then refuses (as a deny
      // assignment or an ABAC condition would, which the permissions list does not show).
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'role-assignments': `Reader at /subscriptions/${SUB}/resourceGroups/rg-shared`, 'permission-check': 'warn' });
      assert.equal(run.code, 1);
      assert.match(errorLine(run), /Permission denied: could not grant 'Reader'.*The identity change to vmss-web was completed before this\./);
      assert.match(run.summary, /<li>Enabled the system-assigned identity<\/li>/);
      assert.match(run.summary, /<strong>Failed:<\/strong>/);
      assert.equal(run.outputs['changed'], 'true');
      const principal = scaleSet(em, 'vmss-web').identity.system?.principalId;
      assert.ok(principal);
      assert.equal(run.outputs['principal-id'], principal);
      assert.deepEqual(em.state.roleAssignments.filter((a) => a.principalId === principal), []);
    }));
});

describe('outputs on every path', { concurrency: 4 }, () => {
  it('after an input error: results and changed are written and parse', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...web, 'identity-type': 'Sometimes' });
      assert.equal(run.code, 1);
      const r = results(run);
      assert.equal(r.length, 1);
      assert.equal(r[0]?.scaleSet, vmssId('vmss-web'));
      assert.match(r[0]?.error ?? '', /Input 'identity-type': 'Sometimes' is not an identity type/);
      assert.equal(run.outputs['changed'], 'false');
      assert.equal(run.outputs['principal-ids'], '[]');
      assert.equal(em.log.entries.length, 0);
    }));

  it('after a sign-in failure: results carry the error for each scale set', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web, vmss-api', 'identity-type': 'SystemAssigned', 'client-id': '99999999-aaaa-4bbb-8ccc-000000000009' });
      assert.equal(run.code, 1);
      const r = results(run);
      assert.deepEqual(r.map((x) => [x.changed, x.write]), [[false, 'none'], [false, 'none']]);
      assert.ok(r.every((x) => /AADSTS700016/.test(x.error ?? '')));
      assert.equal(run.outputs['changed'], 'false');
    }));

  it('an audience the federated credential does not list: names the audience and the fix', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', audience: 'api://SomethingElse' });
      assert.equal(run.code, 1);
      assert.match(errorLine(run), /for the GitHub token's audience 'api:\/\/SomethingElse' \(AADSTS700212\)\. Set the audience input to the audience the federated credential lists/);
    }));

  it('fleet aggregates list each id once, in input order', () =>
    withEmulator({ edit: (seed) => { canGrant(seed); seed.scaleSets?.push({ subscriptionId: SUB, resourceGroup: 'rg-prod', name: 'vmss-web2' }); } }, async (em) => {
      const run = await runAction(em, {
        'resource-group': 'rg-prod', 'vmss-name': 'vmss-web, vmss-api, vmss-web2', 'user-assigned-ids': 'id-app',
        'role-assignments': `Reader at ${RG}`, 'role-assignee': 'id-app',
      });
      assert.equal(run.code, 0, run.stdout);
      const app = em.state.findUserAssignedIdentity(uai('id-app'));
      const apiSystem = scaleSet(em, 'vmss-api').identity.system?.principalId;
      assert.deepEqual(JSON.parse(run.outputs['principal-ids'] ?? ''), [app?.principalId, apiSystem]);
      assert.deepEqual(JSON.parse(run.outputs['client-ids'] ?? ''), [app?.clientId]);
      const roleIds = JSON.parse(run.outputs['role-assignment-ids'] ?? '') as string[];
      assert.equal(roleIds.length, 1, 'one assignment for the shared identity, listed once');
    }));

  it('show has one column in the summary', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { 'vmss-id': vmssId('vmss-api'), operation: 'show' });
      assert.equal(run.code, 0, run.stdout);
      assert.match(run.summary, /<th>Identity<\/th>/);
      assert.doesNotMatch(run.summary, /Before|After/);
    }));
});
