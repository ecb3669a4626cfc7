// Every emulated error and fault, driven through the real @azure/arm-compute and
// @azure/identity clients (and raw HTTPS where no SDK call can produce it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { VirtualMachineScaleSetUpdate } from '@azure/arm-compute';
import type { Emulator } from '../../emulator/server.ts';
import { arm, armToken, compute, credential, githubToken, raw } from '../support/clients.ts';
import { DEPLOYER_OBJECT_ID, READER_CLIENT_ID, RG, SUB, TENANT, uai, withEmulator } from '../support/emulator.ts';

type Update = VirtualMachineScaleSetUpdate;
const patch = (identity: unknown) => ({ identity }) as unknown as Update;

async function rejects(p: Promise<unknown>, status: number, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: { statusCode?: number; code?: string; message?: string }) => {
    assert.equal(e.statusCode, status, e.message);
    assert.equal(e.code, code);
    if (message) assert.match(e.message ?? '', message);
    return true;
  });
}

async function updateAndWait(em: Emulator, name: string, body: unknown, options: { ifMatch?: string } = {}) {
  return compute(em).virtualMachineScaleSets.update('rg-prod', name, patch(body), { ...options, updateIntervalInMs: 20 });
}

describe('ARM validation errors through @azure/arm-compute', { concurrency: 4 }, () => {
  it('MissingIdentityIds: UserAssigned with no identities left', () =>
    withEmulator({}, (em) => rejects(updateAndWait(em, 'vmss-api', { type: 'UserAssigned', userAssignedIdentities: { [uai('id-app')]: null } }), 400, 'MissingIdentityIds',
      /The identity ids must not be null or empty for 'UserAssigned' identity type\./)));

  it('InvalidParameter: SystemAssigned with user-assigned ids', () =>
    withEmulator({}, (em) => rejects(updateAndWait(em, 'vmss-web', { type: 'SystemAssigned', userAssignedIdentities: { [uai('id-app')]: {} } }), 400, 'InvalidParameter',
      /ResourceIdentity identityIds should not be provided if the type is "SystemAssigned"\./)));

  it('InvalidParameter: the same identity twice, differing in case', () =>
    withEmulator({}, (em) => rejects(updateAndWait(em, 'vmss-web', { type: 'UserAssigned', userAssignedIdentities: { [uai('id-app')]: {}, [uai('ID-APP')]: {} } }), 400, 'InvalidParameter',
      /cannot be duplicated in the provided identityIds list/)));

  it('InvalidIdentityValues: values that are not the existing ones (raw: the SDK always serialises values as {})', () =>
    withEmulator({}, async (em) => {
      const res = await arm(em, await armToken(em), 'PATCH', `${RG}/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-api?api-version=2024-11-01`,
        { identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [uai('id-app')]: { principalId: '00000000-0000-0000-0000-000000000000' } } } });
      assert.equal(res.status, 400);
      assert.equal((res.json['error'] as Record<string, string>)['code'], 'InvalidIdentityValues');
      assert.match((res.json['error'] as Record<string, string>)['message'] ?? '', /should only be empty json objects, null or the resource exisiting property/);
    }));

  it('LinkedInvalidPropertyId: a key that is not an ARM id', () =>
    withEmulator({}, (em) => rejects(updateAndWait(em, 'vmss-web', { type: 'UserAssigned', userAssignedIdentities: { 'id-app': {} } }), 400, 'LinkedInvalidPropertyId',
      /Property id 'id-app' at path 'identity.userAssignedIdentities' is invalid/)));

  it('FailedIdentityOperation: an identity that does not exist', () =>
    withEmulator({}, (em) => rejects(updateAndWait(em, 'vmss-web', { type: 'UserAssigned', userAssignedIdentities: { [uai('id-ghost')]: {} } }), 400, 'FailedIdentityOperation',
      /resourcegroups\/rg-prod\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/id-ghost' was not found/)));

  it('Flexible orchestration rejects SystemAssigned', () =>
    withEmulator({}, (em) => rejects(updateAndWait(em, 'vmss-flex', { type: 'SystemAssigned' }), 400, 'InvalidParameter',
      /The value 'SystemAssigned' of parameter 'identity' is not allowed\. Allowed values are: UserAssigned, None\./)));

  it('null for an identity that is not assigned is an error', () =>
    withEmulator({}, (em) => rejects(updateAndWait(em, 'vmss-api', { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [uai('id-logs')]: null } }), 400, 'InvalidParameter', /is not assigned/)));

  it('ResourceNotFound and ResourceGroupNotFound', () =>
    withEmulator({ edit: (s) => s.roleAssignments?.push({ principalId: DEPLOYER_OBJECT_ID, role: 'Reader', scope: `/subscriptions/${SUB}` }) }, async (em) => {
      await rejects(compute(em).virtualMachineScaleSets.get('rg-prod', 'nope'), 404, 'ResourceNotFound',
        /The Resource 'Microsoft\.Compute\/virtualMachineScaleSets\/nope' under resource group 'rg-prod' was not found\./);
      await rejects(compute(em).virtualMachineScaleSets.get('rg-nope', 'x'), 404, 'ResourceGroupNotFound', /Resource group 'rg-nope' could not be found\./);
    }));

  it('MissingApiVersionParameter', () =>
    withEmulator({}, async (em) => {
      const res = await arm(em, await armToken(em), 'GET', `${RG}/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web`);
      assert.equal(res.status, 400);
      assert.deepEqual(res.json, { error: { code: 'MissingApiVersionParameter', message: 'The api-version query parameter (?api-version=) is required for all requests.' } });
    }));

  it('412 PreconditionFailed on a stale If-Match; * and the current etag pass', () =>
    withEmulator({}, async (em) => {
      await rejects(updateAndWait(em, 'vmss-web', { type: 'SystemAssigned' }, { ifMatch: '"7"' }), 412, 'PreconditionFailed',
        /^Etag provided in if-match header "7" does not match etag "1" of resource\.$/);
      const done = await updateAndWait(em, 'vmss-web', { type: 'SystemAssigned' }, { ifMatch: '"1"' });
      assert.equal(done.etag, '"2"');
      const again = await updateAndWait(em, 'vmss-web', { type: 'None' }, { ifMatch: '*' });
      assert.equal(again.etag, '"3"');
    }));

  it('409 Conflict while another write is in flight', () =>
    withEmulator({ updateDurationMs: 2000 }, async (em) => {
      const first = compute(em).virtualMachineScaleSets.update('rg-prod', 'vmss-web', patch({ type: 'SystemAssigned' }), { updateIntervalInMs: 50 });
      // The second write goes once the first has been accepted and is still running.
      for (let i = 0; i < 500 && !em.log.of('arm.vmss.patch').some((e) => e.status === 200); i++) await new Promise((r) => setTimeout(r, 10));
      await rejects(updateAndWait(em, 'vmss-web', { type: 'None' }), 409, 'Conflict', /conflict with a concurrent request/);
      await first;
    }));

  it('401 InvalidAuthenticationToken and ExpiredAuthenticationToken', () =>
    withEmulator({}, async (em) => {
      const bad = { getToken: async () => ({ token: 'not-a-token', expiresOnTimestamp: Date.now() + 3600_000 }) };
      await rejects(compute(em, bad, 0).virtualMachineScaleSets.get('rg-prod', 'vmss-web'), 401, 'InvalidAuthenticationToken', /The access token is invalid\./);
      em.controls.entra.accessTokenLifetimeSeconds = -1;
      const stale = await armToken(em);
      const expired = { getToken: async () => ({ token: stale, expiresOnTimestamp: Date.now() + 3600_000 }) };
      await rejects(compute(em, expired, 0).virtualMachineScaleSets.get('rg-prod', 'vmss-web'), 401, 'ExpiredAuthenticationToken', /is earlier than current UTC time/);
    }));

  it('403 AuthorizationFailed and LinkedAuthorizationFailed name the denied action', () =>
    withEmulator({}, async (em) => {
      const reader = compute(em, credential(em, READER_CLIENT_ID));
      await rejects(reader.virtualMachineScaleSets.update('rg-prod', 'vmss-web', patch({ type: 'SystemAssigned' })), 403, 'AuthorizationFailed',
        /does not have authorization to perform action 'Microsoft\.Compute\/virtualMachineScaleSets\/write' over scope/);
      await rejects(updateAndWait(em, 'vmss-web', { type: 'UserAssigned', userAssignedIdentities: { [uai('id-build', 'rg-shared')]: {} } }), 403, 'LinkedAuthorizationFailed',
        /does not have permission to perform action 'Microsoft\.ManagedIdentity\/userAssignedIdentities\/assign\/action' on the linked scope/);
    }));

  it('a Failed operation surfaces its code and message through the poller', () =>
    withEmulator({}, async (em) => {
      em.controls.planOperation({ outcome: 'Failed', error: { code: 'InternalExecutionError', message: 'An internal execution error occurred.' } });
      await assert.rejects(updateAndWait(em, 'vmss-web', { type: 'SystemAssigned' }), /InternalExecutionError|internal execution error/);
      const set = em.state.findScaleSet(SUB, 'rg-prod', 'vmss-web');
      assert.equal(set?.provisioningState, 'Failed');
      assert.equal(set?.identity.system, undefined, 'the failed change is rolled back');
    }));
});

describe('faults through @azure/arm-compute', { concurrency: 4 }, () => {
  it('429 with Retry-After is honoured by the SDK', () =>
    withEmulator({}, async (em) => {
      em.controls.fault({ route: 'arm.vmss.get', action: { kind: 'status', status: 429, retryAfter: 1 } });
      const started = Date.now();
      const vmss = await compute(em).virtualMachineScaleSets.get('rg-prod', 'vmss-web');
      assert.equal(vmss.name, 'vmss-web');
      assert.ok(Date.now() - started >= 1000, 'waited for Retry-After');
      assert.deepEqual(em.log.of('arm.vmss.get').map((e) => e.status), [429, 200]);
    }));

  it('429 without Retry-After is not retried by the SDK (the action backs off itself)', () =>
    withEmulator({}, async (em) => {
      em.controls.fault({ route: 'arm.vmss.get', action: { kind: 'status', status: 429 } });
      await rejects(compute(em).virtualMachineScaleSets.get('rg-prod', 'vmss-web'), 429, 'OperationNotAllowed', /too many requests/);
    }));

  it('500 and 503 are retried; a dropped connection on a read is retried', () =>
    withEmulator({}, async (em) => {
      em.controls.fault({ route: 'arm.vmss.get', times: 1, action: { kind: 'status', status: 500 } });
      em.controls.fault({ route: 'arm.vmss.get', times: 1, skip: 1, action: { kind: 'status', status: 503 } });
      em.controls.fault({ route: 'arm.vmss.get', times: 1, skip: 2, action: { kind: 'drop' } });
      const vmss = await compute(em).virtualMachineScaleSets.get('rg-prod', 'vmss-web');
      assert.equal(vmss.name, 'vmss-web');
      assert.deepEqual(em.log.of('arm.vmss.get').map((e) => e.status), [500, 503, 0, 200]);
    }));

  it('latency is added where asked', () =>
    withEmulator({}, async (em) => {
      em.controls.fault({ route: 'arm.vmss.get', action: { kind: 'latency', ms: 300 } });
      const started = Date.now();
      await compute(em).virtualMachineScaleSets.get('rg-prod', 'vmss-web');
      assert.ok(Date.now() - started >= 300);
    }));

  it('a concurrent writer between GET and PATCH makes If-Match fail', () =>
    withEmulator({}, async (em) => {
      em.controls.fault({ route: 'arm.vmss.get', action: { kind: 'after', run: () => void em.state.findScaleSet(SUB, 'rg-prod', 'vmss-web')!.etag++ } });
      const read = await compute(em).virtualMachineScaleSets.get('rg-prod', 'vmss-web');
      await rejects(updateAndWait(em, 'vmss-web', { type: 'SystemAssigned' }, { ifMatch: read.etag ?? '' }), 412, 'PreconditionFailed');
    }));

  it('an operation that never finishes keeps the poller waiting until aborted', () =>
    withEmulator({}, async (em) => {
      em.controls.planOperation({ outcome: 'Never' });
      const poller = compute(em).virtualMachineScaleSets.update('rg-prod', 'vmss-web', patch({ type: 'SystemAssigned' }), { updateIntervalInMs: 50 });
      await poller.submitted();
      await assert.rejects(poller.pollUntilDone({ abortSignal: AbortSignal.timeout(1000) }), /abort/i);
      assert.ok(em.log.of('arm.operation').length >= 3);
    }));
});

describe('Entra ID errors through @azure/identity', { concurrency: 4 }, () => {
  const scope = 'https://management.azure.com/.default';

  it('700016 unknown app', () =>
    withEmulator({}, (em) => assert.rejects(credential(em, '99999999-0000-4000-8000-000000000000').getToken(scope), /AADSTS700016: Application with identifier '99999999-0000-4000-8000-000000000000' was not found in the directory/)));

  it('90002 unknown tenant (at discovery, before any token request)', () =>
    withEmulator({}, async (em) => {
      await assert.rejects(credential(em, undefined, '99999999-0000-4000-8000-000000000001').getToken(scope), /endpoints_resolution_error/);
      const d = await raw(em, 'GET', '/99999999-0000-4000-8000-000000000001/v2.0/.well-known/openid-configuration');
      assert.equal(d.status, 400);
      assert.match(d.body, /AADSTS90002: Tenant '99999999-0000-4000-8000-000000000001' not found/);
    }));

  it('700213 no matching federated credential names the subject', () =>
    withEmulator({ edit: (s) => (s.github = { repository: 'octo-org/other-repo', eventName: 'pull_request' }) }, (em) =>
      assert.rejects(credential(em).getToken(scope), /AADSTS700213: No matching federated identity record found for presented assertion subject 'repo:octo-org\/other-repo:pull_request'/)));

  it('700212 wrong audience', () =>
    withEmulator({}, (em) => assert.rejects(credential(em, undefined, undefined, () => githubToken(em, 'api://Other')).getToken(scope), /AADSTS700212/)));

  it('700024 expired assertion', () =>
    withEmulator({}, async (em) => {
      em.controls.github.lifetimeSeconds = -60;
      await assert.rejects(credential(em).getToken(scope), /AADSTS700024: Client assertion is not within its valid time range/);
    }));

  it('a tampered assertion fails signature validation', () =>
    withEmulator({}, async (em) => {
      const tampered = async () => {
        const [h, p, s] = (await githubToken(em)).split('.');
        const claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as Record<string, unknown>;
        return [h, Buffer.from(JSON.stringify({ ...claims, repository: 'evil/repo' })).toString('base64url'), s].join('.');
      };
      await assert.rejects(credential(em, undefined, undefined, tampered).getToken(scope), /AADSTS700027: Client assertion failed signature validation/);
    }));

  it('a token endpoint outage surfaces as an error, and a later call succeeds', () =>
    withEmulator({}, async (em) => {
      em.controls.fault({ route: 'entra.token', times: 5, action: { kind: 'status', status: 503 } });
      await assert.rejects(credential(em).getToken(scope));
      em.controls.clearFaults();
      const token = await credential(em).getToken(scope);
      const claims = JSON.parse(Buffer.from(token?.token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
      assert.equal(claims['aud'], 'https://management.azure.com/');
      assert.equal(claims['oid'], DEPLOYER_OBJECT_ID);
      assert.equal(claims['tid'], TENANT);
    }));
});

describe('PUT replaces what PATCH merges', () => {
  it('createOrUpdate with a map drops identities it leaves out', () =>
    withEmulator({}, async (em) => {
      const client = compute(em);
      const current = await client.virtualMachineScaleSets.get('rg-prod', 'vmss-api');
      const done = await client.virtualMachineScaleSets.createOrUpdate('rg-prod', 'vmss-api', {
        location: current.location ?? 'westeurope',
        identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [uai('id-logs')]: {} } },
      }, { updateIntervalInMs: 20 });
      assert.deepEqual(Object.keys(done.identity?.userAssignedIdentities ?? {}), [uai('id-logs')]);
      assert.equal(done.identity?.principalId, current.identity?.principalId, 'the system principal stays');
    }));
});

describe('role assignments', () => {
  it('new, duplicate (RoleAssignmentExists), PrincipalNotFound during directory lag', () =>
    withEmulator({ edit: (s) => s.roleAssignments?.push({ principalId: DEPLOYER_OBJECT_ID, role: 'Owner', scope: RG }) }, async (em) => {
      const token = await armToken(em);
      const enabled = await updateAndWait(em, 'vmss-web', { type: 'SystemAssigned' });
      const principalId = enabled.identity?.principalId ?? '';
      const body = { properties: { roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`, principalId } };
      const url = (name: string) => `${RG}/providers/Microsoft.Authorization/roleAssignments/${name}?api-version=2022-04-01`;
      em.controls.directoryLagMs = 60_000;
      const lagging = await arm(em, token, 'PUT', url('00000000-0000-4000-8000-000000000001'), body);
      assert.equal(lagging.status, 400);
      assert.equal((lagging.json['error'] as Record<string, string>)['code'], 'PrincipalNotFound');
      assert.match((lagging.json['error'] as Record<string, string>)['message'] ?? '', /does not exist in the directory .* set the role assignment principalType property/);
      const typed = await arm(em, token, 'PUT', url('00000000-0000-4000-8000-000000000001'), { properties: { ...body.properties, principalType: 'ServicePrincipal' } });
      assert.equal(typed.status, 201, 'principalType skips the directory lookup');
      const again = await arm(em, token, 'PUT', url('00000000-0000-4000-8000-000000000002'), { properties: { ...body.properties, principalType: 'ServicePrincipal' } });
      assert.equal(again.status, 409);
      assert.deepEqual(again.json, { error: { code: 'RoleAssignmentExists', message: 'The role assignment already exists.' } });
      const defs = await arm(em, token, 'GET', `${RG}/providers/Microsoft.Authorization/roleDefinitions?$filter=${encodeURIComponent("roleName eq 'Storage Blob Data Reader'")}&api-version=2022-04-01`);
      assert.deepEqual((defs.json['value'] as { name: string }[]).map((d) => d.name), ['2a2b9908-6ea1-4ae2-8e65-a410df84e7d1']);
      const listed = await arm(em, token, 'GET', `${RG}/providers/Microsoft.Authorization/roleAssignments?$filter=${encodeURIComponent(`principalId eq '${principalId}'`)}&api-version=2022-04-01`);
      assert.deepEqual((listed.json['value'] as { name: string }[]).map((a) => a.name), ['00000000-0000-4000-8000-000000000001']);
      const deleted = await arm(em, token, 'DELETE', url('00000000-0000-4000-8000-000000000001'));
      assert.equal(deleted.status, 200);
      assert.equal((await arm(em, token, 'GET', url('00000000-0000-4000-8000-000000000001'))).status, 404);
      assert.equal((await arm(em, token, 'DELETE', url('00000000-0000-4000-8000-000000000001'))).status, 204);
    }));
});
