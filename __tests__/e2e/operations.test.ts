// Every operation end to end: inputs → dist/index.js → HTTPS → emulator, asserting the
// emulator's state, the outputs file, the summary, the exit code and the request log.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEPLOYER_OBJECT_ID, identitySummary, scaleSet, uai, vmssId, withEmulator } from '../support/emulator.ts';
import { runAction } from '../support/run-action.ts';

const target = (name: string) => ({ 'resource-group': 'rg-prod', 'vmss-name': name });

describe('operations end to end', { concurrency: 4 }, () => {
  it('enables the system-assigned identity and outputs its principal id', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...target('vmss-web'), 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 0, run.stdout);
      const set = scaleSet(em, 'vmss-web');
      assert.ok(set.identity.system);
      assert.equal(run.outputs['principal-id'], set.identity.system.principalId);
      assert.equal(run.outputs['tenant-id'], set.identity.system.tenantId);
      assert.equal(run.outputs['identity-type'], 'SystemAssigned');
      assert.equal(run.outputs['changed'], 'true');
      assert.deepEqual(JSON.parse(run.outputs['principal-ids'] ?? ''), [set.identity.system.principalId]);
      assert.equal(set.provisioningState, 'Succeeded');
      // The custom cloud's metadata, one read, the permissions at its resource group (which grant
      // the write), one write, its polls, one final read.
      const arm = em.log.of('arm').map((e) => e.route);
      assert.deepEqual(arm.filter((r) => r !== 'arm.operation'), ['arm.metadata', 'arm.vmss.get', 'arm.permissions.get', 'arm.vmss.patch', 'arm.vmss.get']);
      assert.match(em.log.of('arm.permissions.get')[0]?.path ?? '', /^\/subscriptions\/[^/]+\/resourceGroups\/rg-prod\/providers\/Microsoft\.Authorization\/permissions/i);
      assert.match(run.summary, /Enabled the system-assigned identity/);
      assert.match(run.summary, new RegExp(`System-assigned principal: ${set.identity.system.principalId}`));
    }));

  it('adds user-assigned identities (bare names and full ids) and outputs their client ids', () =>
    withEmulator({ edit: (seed) => seed.roleAssignments?.push({ principalId: DEPLOYER_OBJECT_ID, role: 'Managed Identity Operator', scope: uai('id-build', 'rg-shared') }) }, async (em) => {
      const run = await runAction(em, { ...target('vmss-api'), operation: 'assign', 'user-assigned-ids': `id-logs\n${uai('id-build', 'rg-shared')}` });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(identitySummary(em, 'vmss-api'), { system: true, userAssigned: ['id-app', 'id-build', 'id-logs'] });
      const logs = em.state.findUserAssignedIdentity(uai('id-logs'));
      const map = JSON.parse(run.outputs['user-assigned-identities'] ?? '{}') as Record<string, { principalId: string; clientId: string }>;
      assert.deepEqual(map[uai('id-logs')], { principalId: logs?.principalId, clientId: logs?.clientId });
      assert.equal(Object.keys(map).length, 3);
      assert.equal(JSON.parse(run.outputs['client-ids'] ?? '[]').length, 3);
      assert.equal(JSON.parse(run.outputs['principal-ids'] ?? '[]').length, 4);
      assert.equal(run.outputs['identity-type'], 'SystemAssigned, UserAssigned');
    }));

  it('disables the system-assigned identity and keeps the user-assigned ones', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...target('vmss-api'), operation: 'remove', 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(identitySummary(em, 'vmss-api'), { system: false, userAssigned: ['id-app'] });
      assert.equal(run.outputs['identity-type'], 'UserAssigned');
      assert.equal(run.outputs['principal-id'], '');
    }));

  it('drops every identity with set None', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...target('vmss-api'), operation: 'set', 'identity-type': 'None' });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(identitySummary(em, 'vmss-api'), { system: false, userAssigned: [] });
      assert.equal(run.outputs['identity-type'], 'None');
      assert.equal(run.outputs['principal-ids'], '[]');
      const principal = run.outputs['principal-id'];
      assert.equal(principal, '');
      assert.match(run.stdout, /::warning title=Removal that cannot be undone::vmss-api \(operation 'set'\): disabling the system-assigned identity deletes its principal [0-9a-f-]{36} for good/);
      // Only the system-assigned principal's deletion cannot be undone; a user-assigned identity can be assigned again.
      assert.match(run.stdout, /::warning title=User-assigned identity removed::vmss-api \(operation 'set'\): removing id-app \(\/subscriptions\/[^ ]+\/id-app, principal [0-9a-f-]{36}\) takes that identity, and what its role assignments grant, away from the scale set; assigning it again undoes this\./);
      assert.doesNotMatch(run.stdout, /title=Removal that cannot be undone::[^\n]*removing id-app/);
      assert.match(run.summary, /Cannot be undone: disabling the system-assigned identity deletes its principal [0-9a-f-]{36}/);
      assert.match(run.summary, /Identity taken away: removing id-app /);
      assert.doesNotMatch(run.summary, /Cannot be undone: removing/);
    }));

  it('removes the last user-assigned identity and keeps the system-assigned one', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...target('vmss-api'), operation: 'remove', 'user-assigned-ids': uai('ID-APP') });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(identitySummary(em, 'vmss-api'), { system: true, userAssigned: [] });
      assert.equal(run.outputs['identity-type'], 'SystemAssigned');
    }));

  it('set replaces the user-assigned list, warning about each identity it removes', () =>
    withEmulator({}, async (em) => {
      const appPrincipal = em.state.findUserAssignedIdentity(uai('id-app'))?.principalId ?? '?';
      const run = await runAction(em, { ...target('vmss-api'), operation: 'set', 'identity-type': 'SystemAssigned, UserAssigned', 'user-assigned-ids': 'id-logs' });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(identitySummary(em, 'vmss-api'), { system: true, userAssigned: ['id-logs'] });
      assert.match(run.stdout, new RegExp(`::warning title=User-assigned identity removed::vmss-api \\(operation 'set'\\): removing id-app \\([^ ]+, principal ${appPrincipal}\\)`));
      assert.doesNotMatch(run.stdout, /cannot be undone/i);
      assert.doesNotMatch(run.stdout, /disabling the system-assigned identity/);
    }));

  it('show reads only and reports the identity', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { 'vmss-id': vmssId('vmss-api'), operation: 'show' });
      assert.equal(run.code, 0, run.stdout);
      assert.equal(em.log.writes().length, 0);
      assert.equal(run.outputs['identity-type'], 'SystemAssigned, UserAssigned');
      assert.equal(run.outputs['principal-id'], scaleSet(em, 'vmss-api').identity.system?.principalId);
      assert.equal(run.outputs['changed'], 'false');
    }));

  it('the same step twice writes once and reports changed=false the second time', () =>
    withEmulator({}, async (em) => {
      const inputs = { ...target('vmss-web'), 'identity-type': 'SystemAssigned,UserAssigned', 'user-assigned-ids': 'id-app' };
      const first = await runAction(em, inputs);
      assert.equal(first.outputs['changed'], 'true');
      const writes = em.log.writes().length;
      const second = await runAction(em, inputs);
      assert.equal(second.code, 0, second.stdout);
      assert.equal(second.outputs['changed'], 'false');
      assert.equal(em.log.writes().length, writes, 'no write the second time');
      assert.equal(second.outputs['principal-id'], first.outputs['principal-id']);
      assert.match(second.stdout, /already as requested/);
    }));

  it('dry-run plans, reports and writes nothing', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...target('vmss-api'), operation: 'set', 'identity-type': 'UserAssigned', 'user-assigned-ids': 'id-logs', 'dry-run': 'true' });
      assert.equal(run.code, 0, run.stdout);
      assert.equal(em.log.writes().length, 0);
      assert.equal(run.outputs['changed'], 'true');
      assert.deepEqual(identitySummary(em, 'vmss-api'), { system: true, userAssigned: ['id-app'] });
      assert.match(run.summary, /dry run, nothing written/);
      assert.match(run.summary, /Would have: disabled the system-assigned identity/);
      assert.match(run.summary, /Would have: added .*id-logs/);
      assert.match(run.summary, /Would have: removed .*id-app \(not listed in user-assigned-ids\)/);
      // Dry run too: each removal that cannot be undone, with its principal.
      assert.match(run.summary, /Cannot be undone \(planned\): disabling the system-assigned identity deletes its principal [0-9a-f-]{36}/);
      assert.match(run.stdout, /::warning title=Removal that cannot be undone::vmss-api \(operation 'set'\): disabling the system-assigned identity/);
    }));

  it('removing an identity that exists but is not assigned is a no-op with a notice, not an error', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...target('vmss-api'), operation: 'remove', 'user-assigned-ids': 'id-logs' });
      assert.equal(run.code, 0, run.stdout);
      assert.equal(em.log.writes().length, 0);
      assert.match(run.stdout, /::notice::vmss-api: id-logs exists but is not assigned to this scale set: nothing to remove/);
    }));

  it('warns about the retired managed identity extension', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...target('vmss-legacy'), operation: 'show' });
      assert.equal(run.code, 0, run.stdout);
      assert.match(run.stdout, /::warning title=Retired managed identity extension::vmss-legacy still has the retired ManagedIdentityExtensionForLinux extension/);
      assert.match(run.summary, /Retired extension ManagedIdentityExtensionForLinux/);
    }));

  it('uses a user-assigned identity on a Flexible scale set', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...target('vmss-flex'), 'identity-type': 'UserAssigned', 'user-assigned-ids': 'id-app' });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(identitySummary(em, 'vmss-flex'), { system: false, userAssigned: ['id-app'] });
    }));
});
