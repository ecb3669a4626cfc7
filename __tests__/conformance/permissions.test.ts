// The emulator's Microsoft.Authorization/permissions API (reference §16) and the permission each
// write needs (§2.4, §15.6, §16.4), through real HTTPS with the default seed's apps.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { arm, armToken } from '../support/clients.ts';
import { DEPLOYER_OBJECT_ID, NO_MIO_CLIENT_ID, NO_MIO_OBJECT_ID, READER_CLIENT_ID, RG, SUB, SUB_US, uai, vmssId, withEmulator } from '../support/emulator.ts';

const P = '/providers/Microsoft.Authorization/permissions?api-version=2022-04-01';
const STORAGE = `${RG}/providers/Microsoft.Storage/storageAccounts/stprodweb`;
const errorOf = (json: Record<string, unknown>) => json['error'] as { code: string; message: string };
type Element = { actions: string[]; notActions: string[]; dataActions?: string[]; notDataActions?: string[] };
const elements = (json: Record<string, unknown>) => json['value'] as Element[];
/** Each element by the first action of its role, sorted, to compare without caring for order. */
const firsts = (json: Record<string, unknown>) => elements(json).map((e) => e.actions[0] ?? '(none)').sort();

const READER = ['*/read'];
const VM_CONTRIBUTOR = 'Microsoft.Authorization/*/read';
const MIO = 'Microsoft.ManagedIdentity/userAssignedIdentities/*/read';
const RBAC_ADMIN = 'Microsoft.Authorization/roleAssignments/write';

describe('Microsoft.Authorization/permissions', { concurrency: 3 }, () => {
  it('one element per role assignment at the scope or above it, never merged', () =>
    withEmulator({}, async (em) => {
      const token = await armToken(em);
      const sub = await arm(em, token, 'GET', `/subscriptions/${SUB}${P}`);
      assert.equal(sub.status, 200, sub.body);
      assert.deepEqual(elements(sub.json), [{ actions: READER, notActions: [], dataActions: [], notDataActions: [] }]);
      // rg-prod: Reader inherited from the subscription, plus the two roles held on the group.
      assert.deepEqual(firsts((await arm(em, token, 'GET', `${RG}${P}`)).json), [READER[0], VM_CONTRIBUTOR, MIO].sort());
      const set = await arm(em, token, 'GET', `${vmssId('vmss-web')}${P}`);
      assert.equal(elements(set.json).length, 3, 'a resource inherits from its group and subscription');
      assert.ok(elements(set.json).some((e) => e.actions.includes('Microsoft.Compute/virtualMachineScaleSets/*')));
      // The storage account adds the Role Based Access Control Administrator held on it alone.
      const storage = await arm(em, token, 'GET', `${STORAGE}${P}`);
      assert.equal(elements(storage.json).length, 4);
      assert.ok(elements(storage.json).some((e) => e.actions[0] === RBAC_ADMIN));
      // A grant on one identity shows there, not on its resource group.
      const logs = await arm(em, token, 'GET', `${uai('id-logs', 'rg-shared')}${P}`);
      assert.ok(elements(logs.json).some((e) => e.actions[0] === MIO));
      assert.ok(!elements((await arm(em, token, 'GET', `/subscriptions/${SUB}/resourceGroups/rg-shared${P}`)).json).some((e) => e.actions[0] === MIO));
      assert.deepEqual(em.log.of('arm.permissions').map((e) => `${e.route} ${e.status}`), Array(6).fill('arm.permissions.get 200'));
    }));

  it("a notAction belongs to its element: Contributor's does not take away what User Access Administrator grants", () =>
    withEmulator({ edit: (s) => s.roleAssignments?.push(
      { principalId: NO_MIO_OBJECT_ID, role: 'Contributor', scope: `/subscriptions/${SUB}` },
      { principalId: NO_MIO_OBJECT_ID, role: 'User Access Administrator', scope: RG },
    ) }, async (em) => {
      const res = await arm(em, await armToken(em, NO_MIO_CLIENT_ID), 'GET', `${RG}${P}`);
      assert.equal(res.status, 200, res.body);
      const contributor = elements(res.json).find((e) => e.actions.length === 1 && e.actions[0] === '*' && e.notActions.length > 0);
      const access = elements(res.json).find((e) => e.actions.includes('Microsoft.Authorization/*'));
      assert.deepEqual(contributor?.notActions, ['Microsoft.Authorization/*/Delete', 'Microsoft.Authorization/*/Write', 'Microsoft.Authorization/elevateAccess/Action']);
      assert.deepEqual(access, { actions: ['*/read', 'Microsoft.Authorization/*'], notActions: [], dataActions: [], notDataActions: [] });
      // Virtual Machine Contributor, Reader, Contributor, User Access Administrator: four elements.
      assert.equal(elements(res.json).length, 4);
      // The write the elements allow together is allowed by ARM too.
      const put = await arm(em, await armToken(em, NO_MIO_CLIENT_ID), 'PUT', `${RG}/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}?api-version=2022-04-01`,
        { properties: { roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`, principalId: DEPLOYER_OBJECT_ID, principalType: 'ServicePrincipal' } });
      assert.equal(put.status, 201, put.body);
    }));

  it('a scope the caller holds no role at: 403 AuthorizationFailed over {scope}/providers/Microsoft.Authorization', () =>
    withEmulator({}, async (em) => {
      const token = await armToken(em, READER_CLIENT_ID);
      const scope = `/subscriptions/${SUB_US}/resourceGroups/rg-prod`;
      const res = await arm(em, token, 'GET', `${scope}${P}`);
      assert.equal(res.status, 403);
      const reader = '22222222-aaaa-4bbb-8ccc-000000000002';
      assert.deepEqual(errorOf(res.json), { code: 'AuthorizationFailed', message: `The client '${reader}' with object id '${reader}' does not have authorization to perform action 'Microsoft.Authorization/permissions/read' over scope '${scope}/providers/Microsoft.Authorization' or the scope is invalid. If access was recently granted, please refresh your credentials.` });
      // Managed Identity Operator on one identity alone: readable there, not at its group.
      const mioOnly = await withEmulator({ edit: (s) => {
        s.roleAssignments = s.roleAssignments?.filter((a) => a.principalId !== NO_MIO_OBJECT_ID);
        s.roleAssignments?.push({ principalId: NO_MIO_OBJECT_ID, role: 'Managed Identity Operator', scope: uai('id-web', 'rg-shared') });
      } }, async (em2) => {
        const t = await armToken(em2, NO_MIO_CLIENT_ID);
        return [(await arm(em2, t, 'GET', `${uai('id-web', 'rg-shared')}${P}`)).status, (await arm(em2, t, 'GET', `/subscriptions/${SUB}/resourceGroups/rg-shared${P}`)).status];
      });
      assert.deepEqual(mioOnly, [200, 403]);
    }));

  it('a resource group that does not exist: 200 with what is inherited (a 200 proves nothing)', () =>
    withEmulator({}, async (em) => {
      const res = await arm(em, await armToken(em), 'GET', `/subscriptions/${SUB}/resourceGroups/rg-prd${P}`);
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(firsts(res.json), READER);
      // A resource that does not exist in a group that does: UNCONFIRMED in ARM; the emulator answers 200 too.
      assert.equal((await arm(em, await armToken(em), 'GET', `${RG}/providers/Microsoft.KeyVault/vaults/kv-missing${P}`)).status, 200);
    }));

  it('a resource under a resource group that does not exist: 404 ResourceGroupNotFound from the gateway', () =>
    withEmulator({}, async (em) => {
      const token = await armToken(em);
      for (const path of [
        `/subscriptions/${SUB}/resourceGroups/rg-prd/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web`,
        // The .NET SDK's empty parentResourcePath: ARM routes the double slash.
        `/subscriptions/${SUB}/resourcegroups/rg-prd/providers/Microsoft.Web//sites/site1`,
      ]) {
        const res = await arm(em, token, 'GET', `${path}${P}`);
        assert.equal(res.status, 404, path);
        assert.deepEqual(errorOf(res.json), { code: 'ResourceGroupNotFound', message: "Resource group 'rg-prd' could not be found." });
        assert.equal(res.headers['x-ms-failure-cause'], 'gateway');
      }
    }));

  it('pages with nextLink as the other lists do; api-version 2015-07-01 has no data actions', () =>
    withEmulator({}, async (em) => {
      em.controls.pageSize = 3;
      const token = await armToken(em);
      const first = await arm(em, token, 'GET', `${STORAGE}${P}`);
      assert.equal(elements(first.json).length, 3);
      const next = String(first.json['nextLink'] ?? '');
      assert.equal(new URL(next).searchParams.get('$skiptoken'), '3');
      const second = await arm(em, token, 'GET', next);
      assert.equal(elements(second.json).length, 1);
      assert.equal(second.json['nextLink'], undefined);
      const old = await arm(em, token, 'GET', `/subscriptions/${SUB}/providers/Microsoft.Authorization/permissions?api-version=2015-07-01`);
      assert.deepEqual(old.json['value'], [{ actions: READER, notActions: [] }]);
      assert.equal((await arm(em, token, 'GET', `/subscriptions/${SUB}/providers/Microsoft.Authorization/permissions`)).status, 400, 'api-version is required');
    }));
});

describe('each write enforces its permission', { concurrency: 3 }, () => {
  const V = '?api-version=2024-11-01';
  const addIdentities = (...ids: string[]) => ({ identity: { type: 'UserAssigned', userAssignedIdentities: Object.fromEntries(ids.map((id) => [id, {}])) } });
  const linked = (who: string, ids: string[]) => `The client '${who}' with object id '${who}' has permission to perform action 'Microsoft.Compute/virtualMachineScaleSets/write' on scope '${vmssId('vmss-web')}'; however, it does not have permission to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope(s) '${ids.join(',')}' or the linked scope(s) are invalid.`;

  it('an app without Managed Identity Operator: LinkedAuthorizationFailed naming every identity refused, nothing written', () =>
    withEmulator({}, async (em) => {
      const token = await armToken(em, NO_MIO_CLIENT_ID);
      const ids = [uai('id-logs'), uai('id-app')];
      const res = await arm(em, token, 'PATCH', `${vmssId('vmss-web')}${V}`, addIdentities(...ids));
      assert.equal(res.status, 403);
      assert.deepEqual(errorOf(res.json), { code: 'LinkedAuthorizationFailed', message: linked(NO_MIO_OBJECT_ID, ids) });
      // A missing identity it may not assign is refused at the front door too (403, not 400).
      const missing = `/subscriptions/${SUB}/resourcegroups/rg-prod/providers/microsoft.managedidentity/userassignedidentities/id-nope`;
      const gone = await arm(em, token, 'PATCH', `${vmssId('vmss-web')}${V}`, addIdentities(missing));
      assert.deepEqual(errorOf(gone.json), { code: 'LinkedAuthorizationFailed', message: linked(NO_MIO_OBJECT_ID, [missing]) }, 'the linked scope is echoed as sent');
      const set = em.state.findScaleSet(SUB, 'rg-prod', 'vmss-web');
      assert.deepEqual([set?.identity.userAssigned, set?.etag], [[], 1]);
      // The same app may enable the system-assigned identity: Virtual Machine Contributor is enough.
      const system = await arm(em, token, 'PATCH', `${vmssId('vmss-web')}${V}`, { identity: { type: 'SystemAssigned' } });
      assert.equal(system.status, 200, system.body);
    }));

  it("Managed Identity Operator's userAssignedIdentities/*/assign/action covers assign/action; a missing identity is then Compute's 400", () =>
    withEmulator({}, async (em) => {
      const token = await armToken(em);
      const ok = await arm(em, token, 'PATCH', `${vmssId('vmss-web')}${V}`, addIdentities(uai('id-logs', 'rg-shared')));
      assert.equal(ok.status, 200, ok.body);
      const missing = await arm(em, token, 'PATCH', `${vmssId('vmss-api')}${V}`, addIdentities(uai('id-nope')));
      assert.equal(errorOf(missing.json).code, 'FailedIdentityOperation');
      const refused = await arm(em, token, 'PATCH', `${vmssId('vmss-api')}${V}`, addIdentities(uai('id-build', 'rg-shared')));
      assert.equal(errorOf(refused.json).code, 'LinkedAuthorizationFailed', 'held on id-logs and id-web only, not on rg-shared');
    }));

  it('extension DELETE needs virtualMachineScaleSets/extensions/delete; a role assignment PUT needs roleAssignments/write', () =>
    withEmulator({}, async (em) => {
      const ext = `${vmssId('vmss-legacy')}/extensions/ManagedIdentityExtensionForLinux${V}`;
      const refused = await arm(em, await armToken(em, READER_CLIENT_ID), 'DELETE', ext);
      assert.equal(refused.status, 403);
      assert.match(errorOf(refused.json).message, /perform action 'Microsoft\.Compute\/virtualMachineScaleSets\/extensions\/delete' over scope/);
      assert.equal((await arm(em, await armToken(em, NO_MIO_CLIENT_ID), 'DELETE', ext)).status, 202);
      const grant = (scope: string, clientId?: string) => armToken(em, clientId).then((t) => arm(em, t, 'PUT', `${scope}/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}?api-version=2022-04-01`,
        { properties: { roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6`, principalId: DEPLOYER_OBJECT_ID, principalType: 'ServicePrincipal' } }));
      const kv = `${RG}/providers/Microsoft.KeyVault/vaults/kv-prod`;
      const noRight = await grant(kv, NO_MIO_CLIENT_ID);
      assert.equal(noRight.status, 403);
      assert.match(errorOf(noRight.json).message, /perform action 'Microsoft\.Authorization\/roleAssignments\/write' over scope/);
      assert.equal((await grant(kv)).status, 201, 'the deployer is Role Based Access Control Administrator on kv-prod');
      assert.equal((await grant(RG)).status, 403, 'and not on rg-prod');
    }));
});
