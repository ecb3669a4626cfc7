// A plan that never lies (issue 17): the dry run is the real run minus its writes, and no write
// is made until every write of the plan is known to be allowed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEPLOYER_OBJECT_ID, READER_CLIENT_ID, RG, SUB, identitySummary, scaleSet, uai, withEmulator } from '../support/emulator.ts';
import { runAction, type ActionRun } from '../support/run-action.ts';
import { canGrant, errorLine, results } from '../support/outcome.ts';
import type { Seed } from '../../emulator/state.ts';

const READER_ROLE = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';
const mixed = {
  'resource-group': 'rg-prod', 'vmss-name': 'vmss-web, vmss-api, vmss-legacy', 'identity-type': 'SystemAssigned',
  'role-assignments': `Reader at ${RG}`, 'remove-legacy-extension': 'true', 'timeout-seconds': '120',
};

/** The writes a results output plans, one line each. */
function plannedLines(run: ActionRun): string[] {
  return results(run).flatMap((r) => [
    ...(r.plan?.identity ? [`PATCH ${r.scaleSet} ${JSON.stringify({ identity: r.plan.identity })}`] : []),
    ...(r.plan?.roleAssignments ?? []).map((g) => `PUT ${g.scope} ${g.role === 'Reader' ? READER_ROLE : g.role}`),
    ...(r.plan?.removeExtensions ?? []).map((n) => `DELETE ${r.scaleSet}/extensions/${n}`),
  ].map((l) => l.toLowerCase())).sort();
}

/** The writes the emulator received, in the same form. */
function writtenLines(em: Parameters<Parameters<typeof withEmulator>[1]>[0]): string[] {
  return em.log.writes().filter((w) => w.status !== undefined && w.status < 300).map((w) => {
    const path = w.path.split('?')[0] ?? '';
    if (w.method === 'PATCH') return `PATCH ${path} ${JSON.stringify(w.body)}`;
    if (w.method === 'PUT') return `PUT ${path.split('/providers/Microsoft.Authorization/')[0]} ${String((w.body as { properties: { roleDefinitionId: string } }).properties.roleDefinitionId).split('/').pop()}`;
    return `${w.method} ${path}`;
  }).map((l) => l.toLowerCase()).sort();
}

const withoutOperator = (seed: Seed): void => {
  seed.roleAssignments = (seed.roleAssignments ?? []).filter((a) => !(a.principalId === DEPLOYER_OBJECT_ID && a.role === 'Managed Identity Operator'));
};

describe('the plan is what the real run does', { concurrency: 4 }, () => {
  it('dry run → real run → dry run over a mixed fleet: the first plan is exactly the writes made, the last plan is empty', () =>
    withEmulator({ edit: canGrant }, async (em) => {
      const before = await runAction(em, { ...mixed, 'dry-run': 'true' });
      assert.equal(before.code, 0, before.stdout);
      assert.equal(em.log.writes().length, 0);
      assert.equal(before.outputs['changed'], 'true');
      assert.deepEqual(results(before).map((r) => r.changed), [true, true, true]);
      const planned = plannedLines(before);
      assert.equal(planned.filter((l) => l.startsWith('put ')).length, 3, planned.join('\n'));
      assert.equal(planned.filter((l) => l.startsWith('delete ')).length, 1);
      assert.equal(planned.filter((l) => l.startsWith('patch ')).length, 1);

      const real = await runAction(em, mixed);
      assert.equal(real.code, 0, real.stdout);
      assert.deepEqual(writtenLines(em), planned);
      assert.deepEqual(results(real).map((r) => r.changed), [true, true, true]);

      const after = await runAction(em, { ...mixed, 'dry-run': 'true' });
      assert.equal(after.code, 0, after.stdout);
      assert.equal(after.outputs['changed'], 'false');
      assert.deepEqual(plannedLines(after), []);
      assert.doesNotMatch(after.summary, /Would have/);
    }));

  it('a dry run whose only write is a role assignment says changed=true; once granted, changed=false', () =>
    withEmulator({ edit: canGrant }, async (em) => {
      const inputs = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-api', 'identity-type': 'SystemAssigned', 'role-assignments': `Reader at ${RG}` };
      const dry = await runAction(em, { ...inputs, 'dry-run': 'true' });
      assert.equal(dry.outputs['changed'], 'true', dry.stdout);
      assert.equal((await runAction(em, inputs)).outputs['changed'], 'true');
      const again = await runAction(em, { ...inputs, 'dry-run': 'true' });
      assert.equal(again.outputs['changed'], 'false', again.stdout);
    }));
});

describe('the dry run shows what it read', () => {
  it('an identity the plan adds shows its principal and client ids, not "(pending)"', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'user-assigned-ids': 'id-logs', 'dry-run': 'true' });
      assert.equal(run.code, 0, run.stdout);
      const logs = em.state.findUserAssignedIdentity(uai('id-logs'));
      assert.ok(logs);
      assert.match(run.summary, new RegExp(`id-logs: principal ${logs.principalId}, client ${logs.clientId}`));
      assert.doesNotMatch(run.summary, /\(pending\)/);
    }));
});

describe('no write until every write is known to be allowed', { concurrency: 4 }, () => {
  it('a read-only app: the dry run fails as the real run would, naming the permission, the scope and a role', () =>
    withEmulator({}, async (em) => {
      for (const dryRun of ['true', 'false']) {
        const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'identity-type': 'SystemAssigned', 'dry-run': dryRun, 'client-id': READER_CLIENT_ID });
        assert.equal(run.code, 1, run.stdout);
        assert.match(errorLine(run), /does not hold Microsoft\.Compute\/virtualMachineScaleSets\/write on \/subscriptions\/.*\/virtualMachineScaleSets\/vmss-web.*Grant it Virtual Machine Contributor/);
        assert.match(errorLine(run), new RegExp(`app ${READER_CLIENT_ID}`));
      }
      assert.equal(em.log.writes().length, 0);
      assert.equal(identitySummary(em, 'vmss-web').system, false);
    }));

  it('an app without Managed Identity Operator: adding an identity fails before any write, naming Managed Identity Operator', () =>
    withEmulator({ edit: withoutOperator }, async (em) => {
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web, vmss-api', 'identity-type': 'SystemAssigned, UserAssigned', 'user-assigned-ids': 'id-logs' });
      assert.equal(run.code, 1, run.stdout);
      assert.match(run.stdout, /does not hold Microsoft\.ManagedIdentity\/userAssignedIdentities\/assign\/action on \/subscriptions\/.*\/userAssignedIdentities\/id-logs.*Managed Identity Operator/);
      assert.equal(em.log.writes().length, 0);
    }));

  it('permission-check: warn turns a missing permission into a warning, and Azure decides at the write', () =>
    withEmulator({ edit: withoutOperator }, async (em) => {
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'user-assigned-ids': 'id-logs', 'permission-check': 'warn' });
      assert.match(run.stdout, /::warning title=Permission not shown::.*assign\/action.*permission-check is warn: going on/);
      assert.equal(em.log.of('arm.vmss.patch').length, 1, 'the write is tried');
    }));

  it('a permissions list ARM will not give: a warning that the permissions could not be confirmed, and the run goes on', () =>
    withEmulator({}, async (em) => {
      em.controls.fault({ route: 'arm.permissions.get', times: Infinity, action: { kind: 'status', status: 403, code: 'AuthorizationFailed', message: 'no permissions/read here' } });
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 0, run.stdout);
      assert.match(run.stdout, /::warning title=Permissions not confirmed::Could not confirm that the signed-in principal holds Microsoft\.Compute\/virtualMachineScaleSets\/write/);
      assert.equal(identitySummary(em, 'vmss-web').system, true);
    }));

  it('a role scope with a typo: nothing is written, the identity change included', () =>
    withEmulator({ edit: canGrant }, async (em) => {
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'identity-type': 'SystemAssigned', 'role-assignments': `Reader at /subscriptions/${SUB}/resourceGroups/rg-prd` });
      assert.equal(run.code, 1);
      assert.match(errorLine(run), /the scope '\/subscriptions\/.*\/resourceGroups\/rg-prd' does not exist/);
      assert.equal(em.log.writes().length, 0);
      assert.equal(identitySummary(em, 'vmss-web').system, false);
    }));

  it('a typo in one exact name stops the destructive write to the other', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-api, vmss-apj', operation: 'remove', 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 1);
      assert.match(run.stdout, /vmss-api: Not changed: every write is checked before any is made/);
      assert.equal(em.log.writes().length, 0);
      assert.equal(identitySummary(em, 'vmss-api').system, true);
      assert.ok(scaleSet(em, 'vmss-api'));
    }));

  it('a typo in one vmss-id, in a resource group the app may not read (ARM answers 403): nothing is written to the others', () =>
    withEmulator({ edit: (seed) => {
      seed.roleAssignments = (seed.roleAssignments ?? []).filter((a) => !(a.principalId === DEPLOYER_OBJECT_ID && a.role === 'Reader'));
    } }, async (em) => {
      const typo = `/subscriptions/${SUB}/resourceGroups/rg-prd/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web`;
      const run = await runAction(em, { 'vmss-id': `${RG}/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-api\n${typo}`, operation: 'remove', 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 1);
      assert.ok(em.log.of('arm.vmss.get').some((e) => e.status === 403), 'the typo is answered 403, not 404');
      assert.equal(em.log.writes().length, 0);
      assert.equal(identitySummary(em, 'vmss-api').system, true);
    }));

  it('remove of an identity that does not exist is an error; of one that exists but is not assigned, a notice', () =>
    withEmulator({}, async (em) => {
      const typo = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-api', operation: 'remove', 'user-assigned-ids': 'id-nonexistent' });
      assert.equal(typo.code, 1);
      assert.match(errorLine(typo), /id-nonexistent .* does not exist: reading it answers 404.*operation 'remove' names only identities that exist/);
      const absent = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-api', operation: 'remove', 'user-assigned-ids': uai('id-build', 'rg-shared') });
      assert.equal(absent.code, 0, absent.stdout);
      assert.match(absent.stdout, /::notice::vmss-api: id-build exists but is not assigned to this scale set: nothing to remove/);
      assert.equal(em.log.writes().length, 0);
    }));

  it('a role for an identity shared by 4 scale sets is granted once, reported once with created: true', () =>
    withEmulator({ edit: (seed) => {
      canGrant(seed);
      for (const name of ['vmss-a', 'vmss-b', 'vmss-c']) seed.scaleSets?.push({ subscriptionId: SUB, resourceGroup: 'rg-prod', name });
    } }, async (em) => {
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web, vmss-a, vmss-b, vmss-c', 'user-assigned-ids': 'id-logs', 'role-assignee': 'id-logs', 'role-assignments': `Reader at ${RG}`, 'timeout-seconds': '120' });
      assert.equal(run.code, 0, run.stdout);
      const created = results(run).flatMap((r) => (r.roleAssignments ?? []).filter((g) => g.created));
      assert.equal(created.length, 1);
      assert.equal(run.stdout.match(/: granted 'Reader'/g)?.length, 1);
      assert.equal(em.log.writes().filter((w) => w.method === 'PUT').length, 1);
    }));
});

describe('a shared grant is made by a target that got there', () => {
  it('the target the plan names for a shared grant fails before it: the next one makes the grant, once', () =>
    withEmulator({ edit: (seed) => {
      canGrant(seed);
      for (const name of ['vmss-a', 'vmss-b']) seed.scaleSets?.push({ subscriptionId: SUB, resourceGroup: 'rg-prod', name });
    } }, async (em) => {
      em.controls.fault({ route: 'arm.vmss.patch', times: 1, action: { kind: 'status', status: 400, code: 'InvalidParameter', message: 'Refused.' } });
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web, vmss-a, vmss-b', 'user-assigned-ids': 'id-logs', 'role-assignee': 'id-logs', 'role-assignments': `Reader at ${RG}`, 'max-parallel': '1', 'timeout-seconds': '120' });
      assert.equal(run.code, 1, 'vmss-web failed');
      assert.match(results(run)[0]?.error ?? '', /Refused\./);
      assert.equal(em.log.writes().filter((w) => w.method === 'PUT' && w.status === 201).length, 1);
      assert.equal(results(run).flatMap((r) => (r.roleAssignments ?? []).filter((g) => g.created)).length, 1);
    }));
});

describe('the plan and the real run agree per target', () => {
  it('a shared grant is made by the target the plan names, even when another gets there first: changed agrees per target', () =>
    // vmss-api has id-logs already (nothing to write but the role); vmss-web gets it now and owns the grant.
    withEmulator({ edit: (seed) => {
      canGrant(seed);
      seed.scaleSets?.find((v) => v.name === 'vmss-api')?.userAssignedIdentities?.push(uai('id-logs'));
    } }, async (em) => {
      const inputs = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web, vmss-api', 'user-assigned-ids': 'id-logs', 'role-assignee': 'id-logs', 'role-assignments': `Reader at ${RG}`, 'timeout-seconds': '120' };
      const dry = await runAction(em, { ...inputs, 'dry-run': 'true' });
      assert.equal(dry.code, 0, dry.stdout);
      const real = await runAction(em, inputs);
      assert.equal(real.code, 0, real.stdout);
      assert.deepEqual(results(real).map((r) => r.changed), results(dry).map((r) => r.changed));
      assert.deepEqual(results(real).map((r) => r.plan ?? null), results(dry).map((r) => r.plan ?? null));
      assert.equal(em.log.writes().filter((w) => w.method === 'PUT').length, 1);
    }));

  it('the same role twice (by name and by id) for a system identity the step creates: one grant planned, one made', () =>
    withEmulator({ edit: canGrant }, async (em) => {
      const inputs = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'identity-type': 'SystemAssigned', 'role-assignments': `Reader at ${RG}\nacdd72a7-3385-48ef-bd42-f606fba81ae7 at ${RG}` };
      const dry = await runAction(em, { ...inputs, 'dry-run': 'true' });
      assert.equal(dry.code, 0, dry.stdout);
      assert.equal(results(dry)[0]?.plan?.roleAssignments?.length, 1);
      const real = await runAction(em, inputs);
      assert.equal(real.code, 0, real.stdout);
      assert.equal(em.log.writes().filter((w) => w.method === 'PUT').length, 1);
      assert.deepEqual(results(real)[0]?.plan, results(dry)[0]?.plan);
    }));
});

describe('outputs while a change is still running', () => {
  it('after the deadline, the outputs of a target whose write was accepted do not show the state from before it', () =>
    withEmulator({ updateDurationMs: 60_000 }, async (em) => {
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'identity-type': 'SystemAssigned', 'timeout-seconds': '10' });
      assert.equal(run.code, 1);
      assert.equal(results(run)[0]?.write, 'accepted');
      assert.equal(results(run)[0]?.identityType, undefined);
      assert.equal(run.outputs['identity-type'], '');
      assert.equal(run.outputs['principal-id'], '');
      assert.match(run.summary, /<td>\(not known yet: Azure had not finished the change when the step ended\)<\/td>/);
      assert.match(run.stdout, /^1 target: 0 changed, 0 unchanged, 1 failed \(1 after a write Azure accepted, which may have finished since\)\.$/m);
    }));
});
