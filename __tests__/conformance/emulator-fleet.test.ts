// The emulator's side of issue 12, through real HTTPS: fleet lists paged 2 at a time across
// subscriptions (one unreadable), identities deleted while scale sets still reference them,
// ARM's request limits, and the emulator's own speed with 1,000 scale sets.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ComputeManagementClient } from '@azure/arm-compute';
import { arm, armScope, armToken, credential, raw, trust } from '../support/clients.ts';
import { DEPLOYER_OBJECT_ID, FLEET_SUBS, RG, SUB, SUB_US, fleetOf, fleetSeed, uai, vmssId, withEmulator } from '../support/emulator.ts';

const V = 'api-version=2024-11-01';
const errorOf = (json: Record<string, unknown>) => json['error'] as { code: string; message: string; details?: { code: string; target: string; message: string }[] };
type Item = { id: string; name: string; location: string; tags: Record<string, string>; etag: string; identity?: unknown; properties: Record<string, unknown> };

/** Follows nextLink verbatim until the last page; returns the items and the number of pages. */
async function listAll(em: Parameters<typeof arm>[0], token: string, first: string): Promise<{ items: Item[]; pages: number; links: string[] }> {
  const items: Item[] = [];
  const links: string[] = [];
  let url: string | undefined = first;
  let pages = 0;
  while (url) {
    const page = await arm(em, token, 'GET', url);
    assert.equal(page.status, 200, page.body);
    pages++;
    items.push(...(page.json['value'] as Item[]));
    url = page.json['nextLink'] as string | undefined;
    if (url) links.push(url);
  }
  return { items, pages, links };
}

const [S1, S2, S3] = FLEET_SUBS;
const twoPlusOne = () => fleetSeed({
  subscriptions: [
    { id: S1, resourceGroups: { 'rg-web': [{ name: 'web-1', tags: { role: 'web', Env: 'prod' } }, { name: 'web-2', tags: { role: 'web' } }, { name: 'aks-pool1-12345678-vmss', identityType: 'SystemAssigned' }], 'rg-api': [{ name: 'api-1', tags: { role: 'api' }, upgradePolicy: 'Rolling' }, { name: 'api-flex', orchestrationMode: 'Flexible' }] } },
    { id: S2, resourceGroups: { 'rg-web': [{ name: 'web-3', tags: { role: 'web' } }] } },
    { id: S3, resourceGroups: { 'rg-secret': [{ name: 'hidden-1', tags: { role: 'web' } }] } },
  ],
  unreadable: [S3],
});

describe('fleet lists (reference 14.3)', { concurrency: 2 }, () => {
  it('pages 2 at a time; nextLink followed verbatim; each item is what a GET answers, tags included', () =>
    withEmulator({ seed: twoPlusOne(), pageSize: 2 }, async (em) => {
      const token = await armToken(em);
      const { items, pages, links } = await listAll(em, token, `/subscriptions/${S1}/providers/Microsoft.Compute/virtualMachineScaleSets?${V}`);
      assert.equal(pages, 3);
      for (const link of links) assert.match(link, new RegExp(`^${em.origin}/subscriptions/${S1}/providers/Microsoft\\.Compute/virtualMachineScaleSets\\?api-version=2024-11-01&%24skiptoken=\\d+$`));
      assert.deepEqual(items.map((i) => i.name), ['web-1', 'web-2', 'aks-pool1-12345678-vmss', 'api-1', 'api-flex']);
      assert.deepEqual(items[0]?.tags, { role: 'web', Env: 'prod' });
      for (const item of items) {
        const get = await arm(em, token, 'GET', `${item.id}?${V}`);
        assert.deepEqual(item, get.json, `${item.name}: a list item carries what a GET carries`);
        assert.ok(item.etag && item.location && item.properties['provisioningState'] && item.properties['orchestrationMode'], item.name);
        assert.ok((item.properties['upgradePolicy'] as { mode: string }).mode, item.name);
      }
      assert.deepEqual((items[2]?.identity as { type: string }).type, 'SystemAssigned');
      assert.equal((items[3]?.properties['upgradePolicy'] as { mode: string }).mode, 'Rolling');
      const rgs = await listAll(em, token, `/subscriptions/${S1}/resourcegroups?api-version=2021-04-01`);
      assert.deepEqual([rgs.pages, rgs.items.map((g) => g.name)], [1, ['rg-web', 'rg-api']]);
      const inGroup = await listAll(em, token, `/subscriptions/${S1}/resourceGroups/rg-api/providers/Microsoft.Compute/virtualMachineScaleSets?${V}`);
      assert.deepEqual([inGroup.pages, inGroup.items.map((i) => i.name)], [1, ['api-1', 'api-flex']]);
      const subs = await listAll(em, token, '/subscriptions?api-version=2022-12-01');
      assert.deepEqual(subs.items.map((s) => (s as unknown as { subscriptionId: string }).subscriptionId), [SUB, SUB_US, S1, S2], 'the unreadable subscription is not listed');
      assert.ok(em.log.of('arm.vmss.list').length >= 4 && em.log.of('arm.resourceGroups.list').length === 1);
    }));

  it('the SDK pages through a subscription 2 at a time', () =>
    withEmulator({ seed: twoPlusOne(), pageSize: 2 }, async (em) => {
      trust(em);
      const client = new ComputeManagementClient(credential(em), S1, { endpoint: em.urls.resourceManager, credentials: { scopes: [armScope(em)] } });
      const names: string[] = [];
      for await (const set of client.virtualMachineScaleSets.listAll()) names.push(`${set.name}:${set.tags?.['role'] ?? ''}`);
      assert.deepEqual(names, ['web-1:web', 'web-2:web', 'aks-pool1-12345678-vmss:', 'api-1:api', 'api-flex:']);
      assert.equal(em.log.of('arm.vmss.list').length, 3);
    }));

  it('a subscription the caller cannot read: 403 AuthorizationFailed naming the action and the scope', () =>
    withEmulator({ seed: twoPlusOne(), pageSize: 2 }, async (em) => {
      const token = await armToken(em);
      const msg = (action: string, scope: string) => `The client '${DEPLOYER_OBJECT_ID}' with object id '${DEPLOYER_OBJECT_ID}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`;
      const vmss = await arm(em, token, 'GET', `/subscriptions/${S3}/providers/Microsoft.Compute/virtualMachineScaleSets?${V}`);
      assert.equal(vmss.status, 403);
      assert.deepEqual(errorOf(vmss.json), { code: 'AuthorizationFailed', message: msg('Microsoft.Compute/virtualMachineScaleSets/read', `/subscriptions/${S3}`) });
      const groups = await arm(em, token, 'GET', `/subscriptions/${S3}/resourcegroups?api-version=2021-04-01`);
      assert.equal(groups.status, 403);
      assert.deepEqual(errorOf(groups.json), { code: 'AuthorizationFailed', message: msg('Microsoft.Resources/subscriptions/resourceGroups/read', `/subscriptions/${S3}`) });
      const inGroup = await arm(em, token, 'GET', `/subscriptions/${S3}/resourceGroups/rg-secret/providers/Microsoft.Compute/virtualMachineScaleSets?${V}`);
      assert.equal(errorOf(inGroup.json).message, msg('Microsoft.Compute/virtualMachineScaleSets/read', `/subscriptions/${S3}/resourceGroups/rg-secret`));
    }));

  it('read on one resource group only: the subscription list shows that group\'s scale sets', () =>
    withEmulator({
      seed: fleetSeed({ subscriptions: [{ id: S1, resourceGroups: { 'rg-a': [{ name: 'a-1' }], 'rg-b': [{ name: 'b-1' }] } }], unreadable: [S1] }),
      edit: (seed) => seed.roleAssignments?.push({ principalId: DEPLOYER_OBJECT_ID, role: 'Reader', scope: `/subscriptions/${S1}/resourceGroups/rg-b` }),
    }, async (em) => {
      const token = await armToken(em);
      const list = await listAll(em, token, `/subscriptions/${S1}/providers/Microsoft.Compute/virtualMachineScaleSets?${V}`);
      assert.deepEqual(list.items.map((i) => i.name), ['b-1']);
      const groups = await listAll(em, token, `/subscriptions/${S1}/resourcegroups?api-version=2021-04-01`);
      assert.deepEqual(groups.items.map((g) => g.name), ['rg-b']);
    }));
});

describe('identities deleted while scale sets reference them (reference 14.6, strict choice)', { concurrency: 2 }, () => {
  const ID_APP = uai('id-app');
  const ID_LOGS = uai('id-logs');
  const notFound = (set: string) => `Identity operation for resource '${vmssId(set)}' failed with error 'Failed to perform resource identity operation. Status: 'BadRequest'. Response: '{"error":{"code":"BadRequest","message":"Resource '/subscriptions/${SUB}//resourcegroups/rg-prod/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-app' was not found."}}'.'.`;
  const withTwo = (seed: Parameters<NonNullable<Parameters<typeof withEmulator>[0]['edit']>>[0]) => {
    seed.scaleSets?.push({ subscriptionId: SUB, resourceGroup: 'rg-prod', name: 'vmss-two', identityType: 'UserAssigned', userAssignedIdentities: [ID_APP, ID_LOGS] });
    seed.roleAssignments?.push({ principalId: DEPLOYER_OBJECT_ID, role: 'Contributor', scope: RG });
  };

  it('DELETE leaves the reference; GET shows its last ids; the identity answers 404', () =>
    withEmulator({ edit: withTwo, updateDurationMs: 50 }, async (em) => {
      const token = await armToken(em);
      const before = (await arm(em, token, 'GET', `${vmssId('vmss-two')}?${V}`)).json;
      const del = await arm(em, token, 'DELETE', `${ID_APP}?api-version=2023-01-31`);
      assert.equal(del.status, 200);
      assert.equal(em.log.of('arm.uai.delete').length, 1);
      assert.equal((await arm(em, token, 'DELETE', `${ID_APP}?api-version=2023-01-31`)).status, 204);
      const after = (await arm(em, token, 'GET', `${vmssId('vmss-two')}?${V}`)).json;
      assert.deepEqual(after['identity'], before['identity']);
      const get = await arm(em, token, 'GET', `${ID_APP}?api-version=2023-01-31`);
      assert.equal(get.status, 404);
      assert.deepEqual(errorOf(get.json), { code: 'ResourceNotFound', message: "The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/id-app' under resource group 'rg-prod' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix" });
    }));

  it('a write that keeps the reference fails with FailedIdentityOperation; null, a PUT without it, or SystemAssigned succeed', () =>
    withEmulator({ edit: withTwo, updateDurationMs: 50 }, async (em) => {
      const token = await armToken(em);
      assert.equal(em.state.deleteUserAssignedIdentity(ID_APP), true);
      const url = `${vmssId('vmss-two')}?${V}`;
      const keep = await arm(em, token, 'PATCH', url, { identity: { type: 'UserAssigned', userAssignedIdentities: { [ID_LOGS]: {} } } });
      assert.equal(keep.status, 400);
      assert.deepEqual(errorOf(keep.json), { code: 'FailedIdentityOperation', message: notFound('vmss-two') });
      const current = (await arm(em, token, 'GET', url)).json;
      const put = await arm(em, token, 'PUT', url, current);
      assert.deepEqual([put.status, errorOf(put.json).code], [400, 'FailedIdentityOperation']);
      const withoutIdentity = { ...current };
      delete withoutIdentity['identity'];
      const putKeeping = await arm(em, token, 'PUT', url, withoutIdentity);
      assert.equal(putKeeping.status, 400, 'a PUT without identity keeps the identity, dangling reference included');
      const tagsOnly = await arm(em, token, 'PATCH', url, { tags: { a: 'b' } });
      assert.equal(tagsOnly.status, 200, 'a PATCH without identity is no identity write');
      await new Promise((r) => setTimeout(r, 80));
      const drop = await arm(em, token, 'PATCH', url, { identity: { userAssignedIdentities: { [ID_APP]: null } } });
      assert.equal(drop.status, 200, drop.body);
      await new Promise((r) => setTimeout(r, 80));
      const fixed = (await arm(em, token, 'GET', url)).json['identity'] as { userAssignedIdentities: Record<string, unknown> };
      assert.deepEqual(Object.keys(fixed.userAssignedIdentities), [ID_LOGS]);
      // vmss-api: SystemAssigned plus the deleted id-app. Switching to SystemAssigned drops it.
      const api = `${vmssId('vmss-api')}?${V}`;
      assert.equal((await arm(em, token, 'PATCH', api, { identity: { type: 'SystemAssigned, UserAssigned', userAssignedIdentities: { [ID_LOGS]: {} } } })).status, 400);
      assert.equal((await arm(em, token, 'PATCH', api, { identity: { type: 'SystemAssigned' } })).status, 200);
      // A PUT that drops the reference succeeds.
      em.state.addScaleSet({ subscriptionId: SUB, resourceGroup: 'rg-prod', name: 'vmss-three', identityType: 'UserAssigned', userAssignedIdentities: [ID_LOGS] }).identity.userAssigned.push({ key: ID_APP, principalId: 'p', clientId: 'c' });
      const three = (await arm(em, token, 'GET', `${vmssId('vmss-three')}?${V}`)).json;
      const putDropping = await arm(em, token, 'PUT', `${vmssId('vmss-three')}?${V}`, { ...three, identity: { type: 'UserAssigned', userAssignedIdentities: { [ID_LOGS]: {} } } });
      assert.equal(putDropping.status, 200, putDropping.body);
    }));
});

describe('ARM request limits (reference 14.5, 5.1)', { concurrency: 2 }, () => {
  it('remaining reads fall with each read; over the budget: 429 SubscriptionRequestsThrottled with Retry-After; refill', () =>
    withEmulator({ budgets: { reads: { capacity: 3, perSecond: 2 } } }, async (em) => {
      const token = await armToken(em);
      const url = `${vmssId('vmss-web')}?${V}`;
      const seen: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await arm(em, token, 'GET', url);
        assert.equal(r.status, 200);
        seen.push(String(r.headers['x-ms-ratelimit-remaining-subscription-reads']));
        assert.match(String(r.headers['x-ms-ratelimit-remaining-resource']), /^Microsoft\.Compute\/GetVMScaleSet3Min;\d+,Microsoft\.Compute\/GetVMScaleSet30Min;\d+,Microsoft\.Compute\/GetVMScaleSetSubscriptionMaximum;\d+,Microsoft\.Compute\/GetVMScaleSetResource;\d+$/);
      }
      assert.deepEqual(seen, ['2', '1', '0']);
      const refused = await arm(em, token, 'GET', url);
      assert.equal(refused.status, 429);
      assert.equal(refused.headers['retry-after'], '1');
      assert.deepEqual(errorOf(refused.json), {
        code: 'SubscriptionRequestsThrottled',
        message: `Number of 'read' requests for subscription '${SUB}' actor '${DEPLOYER_OBJECT_ID}' exceeded. Please try again after '1' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling`,
      });
      assert.equal(em.controls.throttled, 1);
      assert.deepEqual(em.controls.throttledBy, { reads: 1 });
      assert.equal(em.log.of('arm.vmss.get').at(-1)?.throttled, 'reads');
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal((await arm(em, token, 'GET', url)).status, 200, 'refilled');
      const admin = JSON.parse((await raw(em, 'GET', '/_emulator/throttled')).body) as { throttled: number };
      assert.equal(admin.throttled, 1);
    }));

  it('Compute\'s per-scale-set write budget: 429 OperationNotAllowed naming the policy; polls count as reads', () =>
    withEmulator({ budgets: { compute: { VMScaleSetActionsResource: { capacity: 1, perSecond: 0.5 } } }, updateDurationMs: 50 }, async (em) => {
      const token = await armToken(em);
      const url = `${vmssId('vmss-web')}?${V}`;
      const first = await arm(em, token, 'PATCH', url, { identity: { type: 'SystemAssigned' } });
      assert.equal(first.status, 200);
      assert.equal(first.headers['x-ms-ratelimit-remaining-subscription-writes'], '199');
      assert.match(String(first.headers['x-ms-ratelimit-remaining-resource']), /^Microsoft\.Compute\/VMScaleSetActionsSubscriptionMaximum;1499,Microsoft\.Compute\/VMScaleSetActionsResource;0,Microsoft\.Compute\/VMScaleSetBatchedVMRequestsSubscriptionMaximum;6000,Microsoft\.Compute\/VmssQueuedVMOperations;0$/);
      const poll = await raw(em, 'GET', String(first.headers['azure-asyncoperation']), undefined, { authorization: `Bearer ${token}` });
      assert.equal(poll.status, 200);
      assert.ok(poll.headers['x-ms-ratelimit-remaining-subscription-reads']);
      assert.match(String(poll.headers['x-ms-ratelimit-remaining-resource']), /^Microsoft\.Compute\/GetOperationResource;44,Microsoft\.Compute\/GetOperationSubscriptionMaximum;14999$/);
      await new Promise((r) => setTimeout(r, 80));
      const second = await arm(em, token, 'PATCH', url, { tags: { a: 'b' } });
      assert.equal(second.status, 429);
      assert.equal(second.headers['retry-after'], '2');
      const err = errorOf(second.json);
      assert.equal(err.code, 'OperationNotAllowed');
      assert.equal(err.message, 'The server rejected the request because too many requests have been received for this subscription.');
      assert.equal(err.details?.[0]?.code, 'TooManyRequests');
      assert.equal(err.details?.[0]?.target, 'VMScaleSetActionsResource');
      assert.deepEqual(Object.keys(JSON.parse(err.details?.[0]?.message ?? '{}') as object), ['operationGroup', 'startTime', 'endTime', 'allowedRequestCount', 'measuredRequestCount']);
      assert.match(String(second.headers['x-ms-ratelimit-remaining-resource']), /VMScaleSetActionsResource;0/);
      assert.equal((await arm(em, token, 'PATCH', `${vmssId('vmss-api')}?${V}`, { tags: { a: 'b' } })).status, 200, 'another scale set has its own budget');
      assert.deepEqual(em.controls.throttledBy, { VMScaleSetActionsResource: 1 });
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal((await arm(em, token, 'PATCH', url, { tags: { a: 'b' } })).status, 200, 'refilled');
    }));

  it('Microsoft.Authorization writes are throttled by the front door; deletes have their own header; budgets can be set and turned off', () =>
    withEmulator({ budgets: { writes: { capacity: 1, perSecond: 0.1 } } }, async (em) => {
      const token = await armToken(em);
      const assignment = (n: number) => `${RG}/providers/Microsoft.Authorization/roleAssignments/00000000-0000-4000-8000-00000000000${n}?api-version=2022-04-01`;
      const body = { properties: { roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`, principalId: DEPLOYER_OBJECT_ID, principalType: 'ServicePrincipal' } };
      await arm(em, token, 'PUT', assignment(1), body);
      const refused = await arm(em, token, 'PUT', assignment(2), body);
      assert.equal(refused.status, 429);
      assert.equal(errorOf(refused.json).code, 'SubscriptionRequestsThrottled');
      assert.match(errorOf(refused.json).message, /^Number of 'write' requests for subscription/);
      assert.equal(refused.headers['retry-after'], '10');
      assert.equal(refused.headers['x-ms-ratelimit-remaining-subscription-writes'], '0');
      const del = await arm(em, token, 'DELETE', `${uai('id-app')}?api-version=2023-01-31`);
      assert.equal(del.headers['x-ms-ratelimit-remaining-subscription-deletes'], '199');
      const tenant = await arm(em, token, 'GET', '/subscriptions?api-version=2022-12-01');
      assert.equal(tenant.headers['x-ms-ratelimit-remaining-tenant-reads'], '249');
      await raw(em, 'POST', '/_emulator/controls', { budgets: 'off' });
      for (let i = 0; i < 3; i++) assert.notEqual((await arm(em, token, 'PUT', assignment(3 + i), body)).status, 429);
      assert.equal(em.controls.budgets.off, true);
      em.controls.setBudgets({ off: false, reads: { capacity: 1, perSecond: 1 } });
      assert.equal((await arm(em, token, 'GET', `${vmssId('vmss-web')}?${V}`)).status, 200);
      assert.equal((await arm(em, token, 'GET', `${vmssId('vmss-web')}?${V}`)).status, 429);
      assert.equal(em.controls.throttled, 2);
    }));
});

describe('the emulator at platform scale', () => {
  it('lists 1,000 scale sets over 4 subscriptions, paged, and reads each, in well under a minute', () =>
    withEmulator({ seed: fleetSeed({ subscriptions: fleetOf(1000, 4, 5) }), pageSize: 50 }, async (em) => {
      const token = await armToken(em);
      const started = Date.now();
      const all = await Promise.all(FLEET_SUBS.map((s) => listAll(em, token, `/subscriptions/${s}/providers/Microsoft.Compute/virtualMachineScaleSets?${V}`)));
      const listMs = Date.now() - started;
      assert.deepEqual(all.map((l) => [l.items.length, l.pages]), [[250, 5], [250, 5], [250, 5], [250, 5]]);
      assert.equal(all.flatMap((l) => l.items).filter((i) => i.tags['role'] === 'web').length, 334);
      const ids = all.flatMap((l) => l.items.map((i) => i.id));
      const queue = [...ids];
      await Promise.all(Array.from({ length: 16 }, async () => {
        for (let id = queue.shift(); id; id = queue.shift()) assert.equal((await arm(em, token, 'GET', `${id}?${V}`)).status, 200);
      }));
      const totalMs = Date.now() - started;
      assert.ok(listMs < 5000, `listing took ${listMs} ms`);
      assert.ok(totalMs < 30_000, `listing and 1,000 GETs took ${totalMs} ms`);
      assert.equal(em.controls.throttled, 0, 'default budgets hold 1,000 reads over 4 subscriptions');
      console.log(`1,000 scale sets: list ${listMs} ms, list + 1,000 GETs ${totalMs} ms`);
    }));
});
