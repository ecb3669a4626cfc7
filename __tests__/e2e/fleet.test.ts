// Many scale sets in one step, role assignments for the new principals, and retiring the
// old identity extension: end to end through dist/index.js.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Seed } from '../../emulator/state.ts';
import { RG, SUB, scaleSet, uai, vmssId, withEmulator } from '../support/emulator.ts';
import { runAction } from '../support/run-action.ts';
import { canGrant, type Result } from '../support/outcome.ts';

const fleet = (n: number) => Array.from({ length: n }, (_, i) => `vmss-fleet-${String(i).padStart(3, '0')}`);
const withFleet = (names: string[]) => (seed: Seed) => names.forEach((name) => seed.scaleSets?.push({ subscriptionId: SUB, resourceGroup: 'rg-prod', name }));
const STORAGE = `${RG}/providers/Microsoft.Storage/storageAccounts/stprodweb`;


describe('fleets', { concurrency: 3 }, () => {
  for (const n of [10, 100]) {
    it(`${n} scale sets in one step: each planned, written and reported`, () => {
      const names = fleet(n);
      return withEmulator({ edit: withFleet(names) }, async (em) => {
        const inputs: Record<string, string> = n === 100
          ? { 'vmss-id': names.map(vmssId).join('\n'), 'identity-type': 'SystemAssigned' }
          : { 'resource-group': 'rg-prod', 'vmss-name': names.join(', '), 'identity-type': 'SystemAssigned' };
        const run = await runAction(em, { ...inputs, 'timeout-seconds': '120' });
        assert.equal(run.code, 0, run.stdout.slice(-3000));
        const results = JSON.parse(run.outputs['results'] ?? '[]') as Result[];
        assert.equal(results.length, n);
        assert.ok(results.every((r) => r.changed && r.principalId));
        for (const name of names) assert.ok(scaleSet(em, name).identity.system, name);
        const principals = JSON.parse(run.outputs['principal-ids'] ?? '[]') as string[];
        assert.equal(new Set(principals).size, n);
        assert.equal(run.outputs['principal-id'], '', 'single-target outputs stay empty for a fleet');
        assert.equal(em.log.of('arm.vmss.patch').length, n, 'one write per scale set');
      });
    });
  }

  it('a write Azure refuses does not stop the others; the step fails naming the failed scale set', () =>
    withEmulator({ edit: withFleet(fleet(3)) }, async (em) => {
      const names = ['vmss-fleet-000', 'vmss-fleet-001', 'vmss-fleet-002'];
      em.controls.fault({ route: 'arm.vmss.patch', skip: 1, action: { kind: 'status', status: 400, code: 'InvalidParameter', message: 'Something Azure refused.' } });
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': names.join('\n'), 'identity-type': 'SystemAssigned', 'max-parallel': '1' });
      assert.equal(run.code, 1);
      assert.match(run.stdout, /::error::1 of 3 failed:%0A- vmss-fleet-001: Azure rejected the request .*InvalidParameter.*Something Azure refused\./);
      assert.ok(scaleSet(em, 'vmss-fleet-000').identity.system);
      assert.ok(scaleSet(em, 'vmss-fleet-002').identity.system);
      const results = JSON.parse(run.outputs['results'] ?? '[]') as Result[];
      assert.deepEqual(results.map((r) => [r.changed, Boolean(r.error)]), [[true, false], [false, true], [true, false]]);
      assert.equal(run.outputs['changed'], 'true');
    }));

  it('a rule one scale set breaks stops every write: all are checked before any is written', () =>
    withEmulator({ edit: withFleet(fleet(3)) }, async (em) => {
      const names = ['vmss-fleet-000', 'vmss-flex', 'vmss-fleet-001'];
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': names.join('\n'), 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 1);
      assert.match(run.stdout, /- vmss-flex: Scale set 'vmss-flex' uses Flexible orchestration/);
      assert.match(run.stdout, /- vmss-fleet-000: Not changed: every write is checked before any is made, and the checks failed for vmss-flex\. Nothing was written to any scale set\./);
      assert.equal(em.log.writes().length, 0);
      const results = JSON.parse(run.outputs['results'] ?? '[]') as Result[];
      assert.deepEqual(results.map((r) => [r.changed, Boolean(r.error)]), [[false, true], [false, true], [false, true]]);
      assert.equal(run.outputs['changed'], 'false');
    }));

  it('dry run over a fleet: a plan per scale set in the summary, nothing written', () =>
    withEmulator({ edit: withFleet(fleet(3)) }, async (em) => {
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': `${fleet(3).join(',')},vmss-api`, operation: 'set', 'identity-type': 'SystemAssigned', 'dry-run': 'true', 'role-assignments': `Reader at ${STORAGE}` });
      assert.equal(run.code, 0, run.stdout);
      assert.equal(em.log.writes().length, 0);
      for (const name of [...fleet(3), 'vmss-api']) assert.match(run.summary, new RegExp(`<h3>${name}</h3>`));
      assert.equal((run.summary.match(/Would have: enabled the system-assigned identity/g) ?? []).length, 3);
      assert.match(run.summary, /Would have: removed .*id-app \(not listed in user-assigned-ids\)/);
      assert.equal((run.summary.match(/Would have: granted 'Reader' at/g) ?? []).length, 4);
    }));
});

describe('role assignments', { concurrency: 4 }, () => {
  it('grants a new principal a role, once: a rerun finds it in place', () =>
    withEmulator({ edit: canGrant }, async (em) => {
      const inputs = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'identity-type': 'SystemAssigned', 'role-assignments': `Storage Blob Data Reader at ${STORAGE}` };
      const first = await runAction(em, inputs);
      assert.equal(first.code, 0, first.stdout);
      const principalId = scaleSet(em, 'vmss-web').identity.system?.principalId;
      const created = em.state.roleAssignments.filter((a) => a.principalId === principalId);
      assert.equal(created.length, 1);
      assert.equal(created[0]?.scope, STORAGE);
      assert.equal(created[0]?.principalType, 'ServicePrincipal');
      assert.match(created[0]?.roleDefinitionId ?? '', /roleDefinitions\/2a2b9908-6ea1-4ae2-8e65-a410df84e7d1$/);
      assert.deepEqual(JSON.parse(first.outputs['role-assignment-ids'] ?? '[]'), [created[0]?.id]);

      const second = await runAction(em, inputs);
      assert.equal(second.code, 0, second.stdout);
      assert.equal(second.outputs['changed'], 'false');
      assert.equal(second.outputs['role-assignment-ids'], first.outputs['role-assignment-ids']);
      assert.equal(em.state.roleAssignments.filter((a) => a.principalId === principalId).length, 1);
    }));

  it('an equal assignment under another name (RoleAssignmentExists) counts as done', () =>
    withEmulator({ edit: canGrant }, async (em) => {
      const principalId = scaleSet(em, 'vmss-api').identity.system?.principalId ?? '';
      const existing = em.state.seedRoleAssignment({ principalId, role: 'Reader', scope: STORAGE, name: 'aaaaaaaa-0000-4000-8000-000000000001' });
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-api', operation: 'assign', 'identity-type': 'SystemAssigned', 'role-assignments': `acdd72a7-3385-48ef-bd42-f606fba81ae7 at ${STORAGE}` });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(JSON.parse(run.outputs['role-assignment-ids'] ?? '[]'), [existing.id]);
      assert.match(run.stdout, /already had 'acdd72a7-3385-48ef-bd42-f606fba81ae7'/);
    }));

  it('waits out PrincipalNotFound while Entra replicates the new principal', () =>
    withEmulator({ edit: canGrant }, async (em) => {
      em.controls.directoryLagMs = 2500;
      em.controls.lagIgnoresPrincipalType = true;
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'identity-type': 'SystemAssigned', 'role-assignments': `Reader at ${STORAGE}` });
      assert.equal(run.code, 0, run.stdout);
      const puts = em.log.of('arm.roleAssignment.put').map((e) => e.status);
      assert.equal(puts[0], 400);
      assert.equal(puts[puts.length - 1], 201);
      assert.match(run.stdout, /is not visible to Azure RBAC yet \(Entra replication\)/);
    }));

  it('an unknown role name fails before the identity is changed', () =>
    withEmulator({ edit: canGrant }, async (em) => {
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'identity-type': 'SystemAssigned', 'role-assignments': `Blob Reader at ${STORAGE}` });
      assert.equal(run.code, 1);
      assert.match(run.stdout, /::error::Role 'Blob Reader' does not exist at scope '.*stprodweb'\. Use a built-in role name exactly as Azure spells it/);
      assert.equal(scaleSet(em, 'vmss-web').identity.system, undefined, 'nothing was written');
      assert.equal(em.log.writes().length, 0);
    }));

  it('a scope the workflow may not grant on names the role it needs, before any write', () =>
    withEmulator({}, async (em) => {
      // The deployer may grant on the seed's storage account, not on the rg-shared group.
      const shared = `/subscriptions/${SUB}/resourceGroups/rg-shared`;
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'identity-type': 'SystemAssigned', 'role-assignments': `Reader at ${shared}` });
      assert.equal(run.code, 1);
      assert.match(run.stdout, /::error::The signed-in principal \(app .*\) does not hold Microsoft\.Authorization\/roleAssignments\/write on \/subscriptions\/.*\/rg-shared, which granting 'Reader' needs.*Grant it Role Based Access Control Administrator/);
      assert.equal(em.log.writes().length, 0, 'not even the identity change');
      assert.deepEqual(em.state.roleAssignments.filter((a) => a.scope === shared), [], 'no role assignment was created');
    }));

  it('grants the roles to a named user-assigned identity', () =>
    withEmulator({ edit: canGrant }, async (em) => {
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', operation: 'assign', 'user-assigned-ids': 'id-logs', 'role-assignments': `Reader at ${STORAGE}`, 'role-assignee': 'id-logs' });
      assert.equal(run.code, 0, run.stdout);
      const logs = em.state.findUserAssignedIdentity(uai('id-logs'));
      assert.ok(em.state.roleAssignments.some((a) => a.principalId === logs?.principalId && a.scope === STORAGE));
    }));
});

describe('the retired managed identity extension', () => {
  it('remove-legacy-extension removes it and waits', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-legacy', operation: 'assign', 'identity-type': 'SystemAssigned', 'remove-legacy-extension': 'true' });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(scaleSet(em, 'vmss-legacy').extensions, []);
      assert.equal(em.log.of('arm.vmss.extension.delete').length, 1);
      assert.doesNotMatch(run.stdout, /::warning title=Retired/);
      assert.match(run.summary, /Removed the retired extension ManagedIdentityExtensionForLinux/);
      assert.match(run.summary, /az vmss update-instances -g rg-prod -n vmss-legacy/);
      assert.equal(run.outputs['changed'], 'true');
    }));
});
