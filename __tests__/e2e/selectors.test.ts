// Fleets chosen by pattern, resource group, subscription and tag, resolved through ARM's list
// calls with the emulator paging 2 items at a time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Emulator } from '../../emulator/server.ts';
import type { Seed } from '../../emulator/state.ts';
import { DEPLOYER_OBJECT_ID, SUB, TENANT, withEmulator } from '../support/emulator.ts';
import { runAction, type ActionRun } from '../support/run-action.ts';
import { results, stopTiming } from '../support/outcome.ts';

const SUB2 = '5c0ffee0-2222-4333-8444-000000000002';
const SUB3 = '5c0ffee0-3333-4333-8444-000000000003';

/** Three subscriptions: the deployer may change scale sets in the first two and cannot read the third. */
function threeSubscriptions(seed: Seed): void {
  seed.subscriptions?.push(
    { id: SUB2, tenantId: TENANT, resourceGroups: [{ name: 'rg-east', location: 'eastus' }] },
    { id: SUB3, tenantId: TENANT, resourceGroups: [{ name: 'rg-x', location: 'eastus' }] },
  );
  const sub = seed.subscriptions?.find((s) => s.id === SUB);
  sub?.resourceGroups?.push({ name: 'rg-aks', location: 'westeurope' });
  seed.scaleSets?.push(
    { subscriptionId: SUB, resourceGroup: 'rg-prod', name: 'web-1', tags: { role: 'web' } },
    { subscriptionId: SUB, resourceGroup: 'rg-prod', name: 'web-2', tags: { role: 'web', env: 'prod' } },
    { subscriptionId: SUB, resourceGroup: 'rg-prod', name: 'web-10', tags: { role: 'Web' } },
    { subscriptionId: SUB, resourceGroup: 'rg-shared', name: 'web-3', tags: { Role: 'web' } },
    { subscriptionId: SUB, resourceGroup: 'rg-aks', name: 'aks-pool1-12345678-vmss', tags: { 'aks-managed-poolName': 'pool1' } },
    { subscriptionId: SUB, resourceGroup: 'rg-aks', name: 'aks-system-87654321-vmss', tags: { 'aks-managed-poolName': 'system' } },
    { subscriptionId: SUB2, resourceGroup: 'rg-east', name: 'web-4', tags: { role: 'web' } },
    { subscriptionId: SUB2, resourceGroup: 'rg-east', name: 'api-1', tags: { role: 'api' } },
    { subscriptionId: SUB3, resourceGroup: 'rg-x', name: 'web-5', tags: { role: 'web' } },
  );
  seed.roleAssignments?.push(
    { principalId: DEPLOYER_OBJECT_ID, role: 'Virtual Machine Contributor', scope: `/subscriptions/${SUB}` },
    { principalId: DEPLOYER_OBJECT_ID, role: 'Virtual Machine Contributor', scope: `/subscriptions/${SUB2}` },
  );
}

const names = (run: ActionRun) => results(run).map((r) => r.scaleSet.split('/').pop());
const hasSystem = (em: Emulator, sub: string, rg: string, name: string) => Boolean(em.state.findScaleSet(sub, rg, name)?.identity.system);

async function fleet<T>(body: (em: Emulator) => Promise<T>): Promise<T> {
  return withEmulator({ edit: threeSubscriptions }, async (em) => {
    em.controls.pageSize = 2;
    return body(em);
  });
}

describe('selectors', { concurrency: 4 }, () => {
  it('a name pattern over every resource group of two subscriptions, following every page', () =>
    fleet(async (em) => {
      const run = await runAction(em, { 'vmss-name': 'web-?', 'resource-group': '*', 'subscription-id': `${SUB}\n${SUB2}`, 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(names(run), ['web-1', 'web-2', 'web-3', 'web-4']);
      for (const [sub, rg, name] of [[SUB, 'rg-prod', 'web-1'], [SUB, 'rg-prod', 'web-2'], [SUB, 'rg-shared', 'web-3'], [SUB2, 'rg-east', 'web-4']] as const) assert.ok(hasSystem(em, sub, rg, name), name);
      assert.ok(!hasSystem(em, SUB, 'rg-prod', 'web-10'), 'web-? does not match web-10');
      const lists = em.log.of('arm.vmss.list');
      assert.ok(lists.length > 2, `pages were followed (${lists.length} list requests for 2 subscriptions)`);
      assert.equal(em.log.of('arm.vmss.patch').length, 4);
      assert.match(run.stdout, /4 of \d+ scale sets match/);
    }));

  it('tags alone choose every scale set of the named resource groups: names any case, values exact', () =>
    fleet(async (em) => {
      const run = await runAction(em, { 'resource-group': 'rg-prod\nrg-shared', 'vmss-tags': 'role=web', 'identity-type': 'SystemAssigned', 'dry-run': 'true' });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(names(run), ['web-1', 'web-2', 'web-3']);
      assert.equal(em.log.writes().length, 0);
      assert.match(run.summary, /Chosen by pattern or tag: 3 scale set\(s\)/);
      assert.match(run.summary, /<h3>web-3 \(rg-shared, /);
      // One listing per named resource group.
      assert.ok(em.log.of('arm.vmss.list').every((e) => /resourceGroups\/rg-(prod|shared)\//i.test(e.path)));
    }));

  it('a name pattern, a tag and a resource group pattern together', () =>
    fleet(async (em) => {
      const run = await runAction(em, { 'vmss-name': 'web-*', 'resource-group': 'rg-p*', 'vmss-tags': 'env=prod', 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(names(run), ['web-2']);
    }));

  it('AKS node pools by pattern', () =>
    fleet(async (em) => {
      const run = await runAction(em, { 'vmss-name': 'aks-*-vmss', 'resource-group': 'rg-aks', 'subscription-id': `${SUB}\n${SUB2}`, operation: 'show' });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(names(run), ['aks-pool1-12345678-vmss', 'aks-system-87654321-vmss']);
    }));

  it('a subscription the identity cannot read fails its own targets only', () =>
    fleet(async (em) => {
      const run = await runAction(em, { 'vmss-name': 'web-*', 'resource-group': '*', 'subscription-id': `${SUB}\n${SUB3}\n${SUB2}`, 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 1);
      const r = results(run);
      const failed = r.filter((x) => x.error);
      assert.equal(failed.length, 1);
      assert.equal(failed[0]?.scaleSet, `/subscriptions/${SUB3}`);
      assert.match(failed[0]?.error ?? '', /Could not list the scale sets of \/subscriptions\/5c0ffee0-3333.*AuthorizationFailed\)\. Grant it 'Reader' \(or 'Virtual Machine Contributor'\) on subscription 5c0ffee0-3333-4333-8444-000000000003, or leave this subscription out of subscription-id\./);
      assert.ok(hasSystem(em, SUB2, 'rg-east', 'web-4'));
      assert.ok(hasSystem(em, SUB, 'rg-prod', 'web-10'));
      assert.ok(!hasSystem(em, SUB3, 'rg-x', 'web-5'));
      assert.equal(run.outputs['changed'], 'true');
      assert.match(run.stdout, /::error::1 of \d+ failed:%0A- \/subscriptions\/5c0ffee0-3333-4333-8444-000000000003: Could not list/);
    }));

  it('a subscription in another tenant: signed in there once, its scale sets changed', () => {
    const TENANT2 = '7e2a0000-aaaa-4bbb-8ccc-000000000002';
    const OBJECT2 = '22222222-aaaa-4bbb-8ccc-0000000000f2';
    const SUB4 = '5c0ffee0-4444-4333-8444-000000000004';
    return withEmulator({
      edit: (seed) => {
        threeSubscriptions(seed);
        // The same (multi-tenant) app, with its service principal in the second tenant.
        seed.tenants?.push({ id: TENANT2, apps: [{ clientId: '11111111-aaaa-4bbb-8ccc-000000000001', objectId: OBJECT2, federatedCredentials: [{ subject: 'repo:octo-org/octo-repo:ref:refs/heads/main' }] }] });
        seed.subscriptions?.push({ id: SUB4, tenantId: TENANT2, resourceGroups: [{ name: 'rg-west', location: 'westus' }] });
        seed.scaleSets?.push({ subscriptionId: SUB4, resourceGroup: 'rg-west', name: 'web-6', tags: { role: 'web' } });
        seed.roleAssignments?.push({ principalId: OBJECT2, role: 'Virtual Machine Contributor', scope: `/subscriptions/${SUB4}` });
      },
    }, async (em) => {
      em.controls.pageSize = 2;
      const run = await runAction(em, { 'vmss-name': 'web-?', 'resource-group': '*', 'subscription-id': `${SUB}\n${SUB4}`, 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 0, run.stdout);
      assert.ok(hasSystem(em, SUB4, 'rg-west', 'web-6'));
      assert.ok(hasSystem(em, SUB, 'rg-prod', 'web-1'));
      assert.match(run.stdout, new RegExp(`Subscription ${SUB4} belongs to tenant ${TENANT2}: signing in there too\\.`));
      const tokens = em.log.of('entra.token').filter((e) => e.status === 200);
      assert.equal(tokens.filter((e) => e.path.includes(TENANT2)).length, 1, 'one sign-in for the second tenant');
      assert.equal(tokens.filter((e) => e.path.includes(TENANT)).length, 1, 'one sign-in for the first');
    });
  });

  it('an exact name that matches nothing fails, allow-no-match or not, and stops every write', () =>
    fleet(async (em) => {
      for (const allow of ['false', 'true']) {
        const run = await runAction(em, { 'vmss-name': 'web-1\nweb-99', 'resource-group': 'rg-prod\nrg-shared', 'identity-type': 'SystemAssigned', 'allow-no-match': allow });
        assert.equal(run.code, 1, `allow-no-match ${allow}`);
        assert.ok(!hasSystem(em, SUB, 'rg-prod', 'web-1'), 'not written: a named scale set is missing');
        const missing = results(run).filter((r) => r.scaleSet === '');
        assert.equal(missing.length, 1, 'no scale set id for a scale set that was not found');
        assert.match(missing[0]?.error ?? '', /vmss-name 'web-99' matched no scale set in resource group\(s\) rg-prod, rg-shared .*an exact name must exist\./);
        assert.match(results(run).find((r) => r.scaleSet !== '')?.error ?? '', /Not changed: every write is checked before any is made/);
      }
      assert.equal(em.log.writes().length, 0);
    }));

  it('an exact name whose scale set the tags leave out says so, with its tags', () =>
    fleet(async (em) => {
      const run = await runAction(em, { 'vmss-name': 'web-1\nweb-2', 'resource-group': 'rg-prod', 'vmss-tags': 'env=prod', 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 1);
      assert.ok(!hasSystem(em, SUB, 'rg-prod', 'web-2'), 'not written: a named scale set is left out');
      assert.ok(!hasSystem(em, SUB, 'rg-prod', 'web-1'), 'left out, so not changed');
      const failed = results(run).filter((r) => r.error && r.scaleSet === '');
      assert.equal(failed.length, 1);
      assert.equal(failed[0]?.error, `vmss-name 'web-1' names scale set(s) that resource-group (rg-prod) or vmss-tags (env=prod) leave out: ${SUB}/rg-prod/web-1 (role=web). Take the name out of vmss-name, or change the selectors (or the scale set's tags).`);
    }));

  it('a named resource group beside a pattern is checked: a typo fails as ResourceGroupNotFound, an empty group does not', () =>
    withEmulator({ edit: (seed) => { threeSubscriptions(seed); seed.subscriptions?.find((s) => s.id === SUB)?.resourceGroups?.push({ name: 'rg-empty', location: 'westeurope' }); } }, async (em) => {
      em.controls.pageSize = 2;
      const typo = await runAction(em, { 'vmss-name': 'web-*', 'resource-group': 'rg-sharde\nrg-pro*', 'identity-type': 'SystemAssigned', 'dry-run': 'true' });
      assert.equal(typo.code, 1);
      assert.deepEqual(names(typo), ['web-1', 'web-10', 'web-2', 'rg-sharde']);
      assert.match(results(typo).at(-1)?.error ?? '', /^Resource group rg-sharde does not exist in subscription .* \(ResourceGroupNotFound\)\. Check resource-group\./);
      const empty = await runAction(em, { 'vmss-name': 'web-*', 'resource-group': 'rg-empty\nrg-pro*', 'identity-type': 'SystemAssigned', 'dry-run': 'true' });
      assert.equal(empty.code, 0, empty.stdout);
      assert.deepEqual(names(empty), ['web-1', 'web-10', 'web-2']);
      assert.equal(em.log.writes().length, 0);
    }));

  it('a named resource group found only in a subscription that cannot be listed is not called missing', () =>
    fleet(async (em) => {
      const run = await runAction(em, { 'vmss-name': 'web-*', 'resource-group': 'rg-x\nrg-pro*', 'subscription-id': `${SUB}\n${SUB3}`, 'identity-type': 'SystemAssigned', 'dry-run': 'true' });
      assert.equal(run.code, 1);
      const failed = results(run).filter((r) => r.error);
      assert.deepEqual(failed.map((r) => r.scaleSet), [`/subscriptions/${SUB3}`]);
      assert.match(failed[0]?.error ?? '', /AuthorizationFailed/);
      assert.doesNotMatch(run.stdout, /does not exist/);
    }));

  it('a tag line holding two tags (a comma) is pointed out when nothing matches', () =>
    fleet(async (em) => {
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-tags': 'role=web, env=prod', 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 1);
      assert.match(run.stdout, /::error::No scale set matched .* vmss-tags takes one key=value per line; 'role=web, env=prod' is one tag whose value holds the comma: write each tag on a line of its own\. Check the patterns/);
    }));

  it('SIGTERM while the fleet is being listed: exits within 2 s, outputs written, nothing written to Azure [timing]', () =>
    fleet(async (em) => {
      em.controls.fault({ route: 'arm.vmss.list', times: Infinity, action: { kind: 'latency', ms: 5000 } });
      const run = await runAction(em, { 'vmss-name': 'web-*', 'resource-group': '*', 'identity-type': 'SystemAssigned' }, { signalWhen: { signal: 'SIGTERM', when: () => em.log.of('entra.token').length > 0 } });
      assert.notEqual(run.code, 0);
      assert.ok((run.exitAfterSignalMs ?? Infinity) < 2000, `exited ${run.exitAfterSignalMs} ms after the signal`);
      assert.ok((stopTiming(run)?.stopToExitMs ?? Infinity) < 2000, `the action's own clock: ${JSON.stringify(stopTiming(run))}`);
      assert.match(run.stdout, /Cancelled by SIGTERM\. The step stopped before its first write \(finding or checking the scale sets\); nothing was written to Azure\./);
      assert.ok(Array.isArray(results(run)) && results(run).length === 1);
      assert.equal(em.log.writes().length, 0);
    }));

  it('no match fails and lists what it found; allow-no-match succeeds with an empty fleet', () =>
    fleet(async (em) => {
      const inputs = { 'vmss-name': 'db-*', 'resource-group': 'rg-prod', 'subscription-id': `${SUB}\n${SUB2}`, 'identity-type': 'SystemAssigned' };
      const failed = await runAction(em, inputs);
      assert.equal(failed.code, 1);
      assert.match(failed.stdout, /::error::No scale set matched \(vmss-name db-\*; resource-group rg-prod; subscription .*\)\. The listings showed \d+ scale set\(s\): rg-prod\/vmss-web \(no tags\);.*rg-prod\/web-1 \(role=web\)/);
      assert.ok(Array.isArray(results(failed)));
      const allowed = await runAction(em, { ...inputs, 'allow-no-match': 'true' });
      assert.equal(allowed.code, 0, allowed.stdout);
      assert.deepEqual(results(allowed), []);
      assert.match(allowed.stdout, /::notice::No scale set matched.*allow-no-match is set: nothing to do\./);
      assert.equal(em.log.writes().length, 0);
    }));

  it('show with selectors lists a fleet from the listings alone, ids included, for a matrix', () =>
    fleet(async (em) => {
      const run = await runAction(em, { 'resource-group': '*', 'subscription-id': `${SUB}\n${SUB2}`, 'vmss-tags': 'role', operation: 'show' });
      assert.equal(run.code, 0, run.stdout);
      const r = results(run);
      assert.deepEqual(r.map((x) => x.scaleSet.split('/').pop()), ['web-1', 'web-10', 'web-2', 'web-3', 'api-1', 'web-4']);
      assert.ok(r.every((x) => /^\/subscriptions\/.*\/virtualMachineScaleSets\//.test(x.scaleSet) && x.identityType));
      assert.equal(em.log.of('arm.vmss.get').length, 0, 'no read per scale set: the list answers hold the identity');
    }));
});
