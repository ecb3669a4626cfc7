// Replays the real exchanges recorded by azure-cli (reference section 10) against the
// emulator: status codes, body shapes and the headers clients use (ids and times aside).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Seed } from '../../emulator/state.ts';
import { arm, armToken, raw } from '../support/clients.ts';
import { DEPLOYER_OBJECT_ID, SUB, TENANT, withEmulator } from '../support/emulator.ts';

const RG = 'cli_test_vmss_explicit_msi000001';
const RG_B = 'cli_test_vmss_msi000001';
const ID = (n: string) => `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${n}`;
const VMSS = (rg: string, n: string) => `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachineScaleSets/${n}`;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ARM_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00$/;

const seed: Seed = {
  tenants: [{ id: TENANT, apps: [{ clientId: '11111111-aaaa-4bbb-8ccc-000000000001', objectId: DEPLOYER_OBJECT_ID, federatedCredentials: [{ subject: 'repo:octo-org/octo-repo:ref:refs/heads/main' }] }] }],
  subscriptions: [{ id: SUB, tenantId: TENANT, resourceGroups: [{ name: RG, location: 'westcentralus' }, { name: RG_B, location: 'westus' }] }],
  userAssignedIdentities: [
    { subscriptionId: SUB, resourceGroup: RG, name: 'id1', location: 'westcentralus' },
    { subscriptionId: SUB, resourceGroup: RG, name: 'id2', location: 'westcentralus' },
  ],
  scaleSets: [
    { subscriptionId: SUB, resourceGroup: RG, name: 'vmss1', location: 'westcentralus', identityType: 'SystemAssigned, UserAssigned', userAssignedIdentities: [ID('id1')] },
    { subscriptionId: SUB, resourceGroup: RG_B, name: 'vmss3', location: 'westus' },
  ],
  roleAssignments: [{ principalId: DEPLOYER_OBJECT_ID, role: 'Owner', scope: `/subscriptions/${SUB}` }],
};

const q = '?api-version=2024-11-01';

async function untilSucceeded(em: Parameters<typeof arm>[0], token: string, url: string): Promise<Record<string, unknown>[]> {
  const seen: Record<string, unknown>[] = [];
  for (let i = 0; i < 100; i++) {
    const poll = await arm(em, token, 'GET', url);
    assert.equal(poll.status, 200);
    seen.push(poll.json);
    if (poll.json['status'] !== 'InProgress') return seen;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('operation never finished');
}

describe('recorded exchanges (reference section 10)', () => {
  it('A: GET, PATCH add id2, polls, final GET, manualupgrade, remove id1 with null, drop the last UA', () =>
    withEmulator({ seed, updateDurationMs: 150 }, async (em) => {
      const token = await armToken(em);

      // 10.1 GET before assign
      const get = await arm(em, token, 'GET', VMSS(RG, 'vmss1') + '?api-version=2025-11-01');
      assert.equal(get.status, 200);
      assert.equal(get.headers['etag'], '"1"');
      assert.match(String(get.headers['content-type']), /^application\/json; charset=utf-8$/);
      assert.match(String(get.headers['x-ms-ratelimit-remaining-resource']), /Microsoft\.Compute\/GetVMScaleSetSubscriptionMaximum;\d+,Microsoft\.Compute\/GetVMScaleSetResource;\d+/);
      assert.deepEqual(Object.keys(get.json), ['name', 'id', 'type', 'location', 'tags', 'identity', 'sku', 'etag', 'properties']);
      assert.equal(get.json['etag'], '"1"');
      const identity = get.json['identity'] as Record<string, unknown>;
      assert.deepEqual(Object.keys(identity), ['type', 'principalId', 'tenantId', 'userAssignedIdentities']);
      assert.equal(identity['type'], 'SystemAssigned, UserAssigned');
      assert.match(String(identity['principalId']), GUID);
      assert.equal(identity['tenantId'], TENANT);
      const ua = identity['userAssignedIdentities'] as Record<string, Record<string, string>>;
      assert.deepEqual(Object.keys(ua), [ID('id1')]);
      assert.deepEqual(Object.keys(ua[ID('id1')] ?? {}), ['principalId', 'clientId']);
      const props = get.json['properties'] as Record<string, unknown>;
      assert.equal(props['orchestrationMode'], 'Uniform');
      assert.deepEqual(props['upgradePolicy'], { mode: 'Manual' });
      assert.equal(props['provisioningState'], 'Succeeded');

      // 10.2 PATCH adding id2 (the CLI sends the type without the space)
      const patch = await arm(em, token, 'PATCH', VMSS(RG, 'vmss1') + q, { identity: { userAssignedIdentities: { [ID('id1')]: {}, [ID('id2')]: {} }, type: 'SystemAssigned,UserAssigned' } });
      assert.equal(patch.status, 200);
      assert.equal(patch.headers['etag'], '"2"');
      assert.equal(patch.headers['azure-asyncnotification'], 'Enabled');
      assert.equal(patch.headers['location'], undefined, 'Compute sends no Location on PATCH');
      assert.equal(patch.headers['retry-after'], undefined, 'Compute sends no Retry-After on PATCH');
      assert.equal(patch.headers['x-ms-request-charge'], '0');
      const opUrl = new URL(String(patch.headers['azure-asyncoperation']));
      assert.match(opUrl.pathname, new RegExp(`^/subscriptions/${SUB}/providers/Microsoft\\.Compute/locations/westcentralus/operations/[0-9a-f-]{36}$`));
      assert.match(opUrl.searchParams.get('p') ?? '', GUID);
      assert.equal(opUrl.searchParams.get('api-version'), '2024-11-01');
      const patched = patch.json['identity'] as Record<string, Record<string, unknown>>;
      assert.equal(patched['type'], 'SystemAssigned, UserAssigned');
      assert.deepEqual((patched['userAssignedIdentities'] as Record<string, unknown>)[ID('id2')], {}, 'new identity is {} until the operation completes');
      assert.equal((patch.json['properties'] as Record<string, unknown>)['provisioningState'], 'Updating');

      // 10.3 polls, then final GET on the resource URL
      const polls = await untilSucceeded(em, token, opUrl.toString());
      const first = polls[0] ?? {};
      const last = polls[polls.length - 1] ?? {};
      if (polls.length > 1) {
        assert.deepEqual(Object.keys(first), ['startTime', 'status', 'name']);
        assert.equal(first['status'], 'InProgress');
      }
      assert.deepEqual(Object.keys(last), ['startTime', 'endTime', 'status', 'name']);
      assert.equal(last['status'], 'Succeeded');
      assert.match(String(last['startTime']), ARM_TIME);
      assert.equal(last['name'], opUrl.pathname.split('/').pop());
      const after = await arm(em, token, 'GET', VMSS(RG, 'vmss1') + q);
      assert.equal(after.headers['etag'], '"2"');
      const afterUa = (after.json['identity'] as Record<string, Record<string, Record<string, string>>>)['userAssignedIdentities'] ?? {};
      assert.match(afterUa[ID('id2')]?.['principalId'] ?? '', GUID);
      assert.match(afterUa[ID('id2')]?.['clientId'] ?? '', GUID);
      assert.equal((after.json['properties'] as Record<string, unknown>)['provisioningState'], 'Succeeded');

      // 10.4 manualupgrade: 202, empty body, both headers; the Location URL ends in 200 with an empty body
      const upgrade = await arm(em, token, 'POST', VMSS(RG, 'vmss1') + '/manualupgrade' + q, { instanceIds: ['*'] });
      assert.equal(upgrade.status, 202);
      assert.equal(upgrade.body, '');
      assert.equal(upgrade.headers['content-length'], '0');
      const location = new URL(String(upgrade.headers['location']));
      assert.equal(location.searchParams.get('monitor'), 'true');
      assert.equal(location.pathname, new URL(String(upgrade.headers['azure-asyncoperation'])).pathname);
      await untilSucceeded(em, token, String(upgrade.headers['azure-asyncoperation']));
      const monitor = await arm(em, token, 'GET', location.toString());
      assert.equal(monitor.status, 200);
      assert.equal(monitor.body, '');
      assert.equal((await arm(em, token, 'GET', VMSS(RG, 'vmss1') + q)).headers['etag'], '"3"');

      // 10.5 remove id1 with null: id2 (not in the body) is kept
      const remove = await arm(em, token, 'PATCH', VMSS(RG, 'vmss1') + q, { identity: { userAssignedIdentities: { [ID('id1')]: null }, type: 'SystemAssigned,UserAssigned' } });
      assert.equal(remove.status, 200);
      assert.equal(remove.headers['etag'], '"4"');
      assert.deepEqual(Object.keys((remove.json['identity'] as Record<string, Record<string, unknown>>)['userAssignedIdentities'] ?? {}), [ID('id2')]);
      await untilSucceeded(em, token, String(remove.headers['azure-asyncoperation']));

      // 10.6 the last UA goes by switching the type
      const last2 = await arm(em, token, 'PATCH', VMSS(RG, 'vmss1') + q, { identity: { type: 'SystemAssigned' } });
      assert.equal(last2.status, 200);
      assert.equal(last2.headers['etag'], '"5"');
      assert.deepEqual(Object.keys(last2.json['identity'] as object), ['type', 'principalId', 'tenantId']);
      assert.equal((last2.json['identity'] as Record<string, unknown>)['principalId'], identity['principalId'], 'the system principal survives');
    }));

  it('B: enable on an identity-less scale set, grant a role, remove everything', () =>
    withEmulator({ seed, updateDurationMs: 150 }, async (em) => {
      const token = await armToken(em);
      const get = await arm(em, token, 'GET', VMSS(RG_B, 'vmss3') + '?api-version=2025-11-01');
      assert.equal(get.headers['etag'], '"1"');
      assert.equal('identity' in get.json, false, 'no identity key at all');

      const enable = await arm(em, token, 'PATCH', VMSS(RG_B, 'vmss3') + q, { identity: { type: 'SystemAssigned' } });
      assert.equal(enable.status, 200);
      assert.equal(enable.headers['etag'], '"2"');
      const principalId = String((enable.json['identity'] as Record<string, unknown>)['principalId']);
      assert.match(principalId, GUID, 'principalId is in the 200 PATCH answer already');
      assert.equal((enable.json['properties'] as Record<string, unknown>)['provisioningState'], 'Updating');
      assert.match(String(enable.headers['azure-asyncoperation']), /\/locations\/westus\/operations\//);
      await untilSucceeded(em, token, String(enable.headers['azure-asyncoperation']));

      const scope = VMSS(RG, 'vmss1');
      const role = await arm(em, token, 'PUT', `${scope}/providers/Microsoft.Authorization/roleAssignments/88888888-0000-0000-0000-000000000001?api-version=2022-04-01`,
        { properties: { roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`, principalId } });
      assert.equal(role.status, 201);
      assert.deepEqual(Object.keys(role.json), ['properties', 'id', 'type', 'name']);
      const rp = role.json['properties'] as Record<string, unknown>;
      assert.deepEqual(Object.keys(rp), ['roleDefinitionId', 'principalId', 'principalType', 'scope', 'condition', 'conditionVersion', 'createdOn', 'updatedOn', 'createdBy', 'updatedBy', 'delegatedManagedIdentityResourceId', 'description']);
      assert.equal(rp['principalType'], 'ServicePrincipal');
      assert.equal(rp['scope'], scope);
      assert.equal(role.json['type'], 'Microsoft.Authorization/roleAssignments');
      assert.equal(role.json['id'], `${scope}/providers/Microsoft.Authorization/roleAssignments/88888888-0000-0000-0000-000000000001`);

      const none = await arm(em, token, 'PATCH', VMSS(RG_B, 'vmss3') + q, { identity: { userAssignedIdentities: null, type: 'None' } });
      assert.equal(none.status, 200);
      assert.equal(none.headers['etag'], '"3"');
      assert.equal('identity' in none.json, false);
      await untilSucceeded(em, token, String(none.headers['azure-asyncoperation']));
      const final = await arm(em, token, 'GET', VMSS(RG_B, 'vmss3') + q);
      assert.equal(final.headers['etag'], '"3"');
      assert.equal('identity' in final.json, false);
    }));

  it('the GitHub token endpoint follows the runner contract', () =>
    withEmulator({ seed }, async (em) => {
      const noBearer = await raw(em, 'GET', `${em.urls.github}&audience=x`);
      assert.equal(noBearer.status, 401);
      const ok = await raw(em, 'GET', `${em.urls.github}&audience=${encodeURIComponent('api://AzureADTokenExchange')}`, undefined, { authorization: `Bearer ${em.env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']}` });
      assert.equal(ok.status, 200);
      const jwt = (JSON.parse(ok.body) as { value: string }).value;
      const [header, payload] = jwt.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>);
      assert.equal(header?.['alg'], 'RS256');
      for (const claim of ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'repository', 'ref', 'job_workflow_ref']) assert.ok(payload?.[claim] !== undefined, claim);
      assert.equal(payload?.['aud'], 'api://AzureADTokenExchange');
      assert.equal(payload?.['sub'], 'repo:octo-org/octo-repo:ref:refs/heads/main');
      const discovery = JSON.parse((await raw(em, 'GET', '/.well-known/openid-configuration')).body) as Record<string, string>;
      assert.equal(discovery['issuer'], payload?.['iss']);
      const jwks = JSON.parse((await raw(em, 'GET', discovery['jwks_uri'] ?? '')).body) as { keys: { kid: string }[] };
      assert.equal(jwks.keys[0]?.kid, header?.['kid']);
      const entra = JSON.parse((await raw(em, 'GET', `/${TENANT}/v2.0/.well-known/openid-configuration`)).body) as Record<string, string>;
      assert.equal(entra['issuer'], `${em.origin}/${TENANT}/v2.0`, 'issuer on the authority origin, as MSAL checks');
    }));
});
