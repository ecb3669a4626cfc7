// Promises the README makes that no other test held: the action never runs an instance
// upgrade, never deletes a role assignment, waits out a throttled list page, and works end to
// end in every sovereign cloud it names, reached by its public host names through the proxy.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RG, scaleSet, SUB, withEmulator } from '../support/emulator.ts';
import { runAction } from '../support/run-action.ts';
import { canGrant } from '../support/outcome.ts';

const web = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web' };
/** Any request that would restart, reimage or upgrade instances. */
const INSTANCE_ACTION = /\/(manualupgrade|upgrade|reimage|reimageall|restart|redeploy|start|poweroff|deallocate|performmaintenance|rollingupgrades|virtualmachines\/[^/]+\/upgrade)/i;

describe('promises held end to end', { concurrency: 4 }, () => {
  it('never runs an instance upgrade: identity changes and an extension removal on a Manual scale set', () =>
    withEmulator({ edit: (seed) => seed.scaleSets?.forEach((s) => s.name === 'vmss-legacy' && (s.upgradePolicy = 'Manual')) }, async (em) => {
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-legacy', operation: 'set', 'identity-type': 'UserAssigned', 'user-assigned-ids': 'id-app', 'remove-legacy-extension': 'true' });
      assert.equal(run.code, 0, run.stdout);
      assert.equal(em.log.of('arm.vmss.extension.delete').length, 1, 'the extension was removed');
      assert.deepEqual(em.log.arrivals.filter((a) => INSTANCE_ACTION.test(a.path) || a.route === 'arm.vmss.manualupgrade'), []);
      assert.deepEqual(em.log.arrivals.filter((a) => a.method === 'POST' && !a.route.startsWith('entra')).map((a) => a.path), [], 'no action was POSTed to ARM');
    }));

  it('never deletes a role assignment: removing an identity leaves its role assignments in place', () =>
    withEmulator({ edit: (seed) => {
      canGrant(seed);
      seed.scaleSets?.forEach((s) => s.name === 'vmss-api' && (s.identityType = 'SystemAssigned, UserAssigned'));
    } }, async (em) => {
      const granted = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-api', 'identity-type': 'SystemAssigned', 'role-assignments': `Reader at ${RG}` });
      assert.equal(granted.code, 0, granted.stdout);
      const assignments = em.state.roleAssignments.map((a) => a.id).sort();
      const removed = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-api', operation: 'set', 'identity-type': 'None' });
      assert.equal(removed.code, 0, removed.stdout);
      assert.equal(scaleSet(em, 'vmss-api').identity.system, undefined, 'the identity was removed');
      assert.deepEqual(em.state.roleAssignments.map((a) => a.id).sort(), assignments, 'every role assignment is still there');
      assert.deepEqual(em.log.arrivals.filter((a) => a.method === 'DELETE').map((a) => a.route), []);
    }));

  it('a throttled list page (429 with Retry-After) is waited out and the fleet is complete', () =>
    withEmulator({}, async (em) => {
      em.controls.fault({ route: 'arm.vmss.list', times: 1, action: { kind: 'status', status: 429, retryAfter: 1 } });
      const started = Date.now();
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-*', operation: 'show' });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(em.log.of('arm.vmss.list').map((e) => e.status), [429, 200]);
      const names = (JSON.parse(run.outputs['results'] ?? '[]') as { scaleSet: string }[]).map((r) => r.scaleSet.split('/').pop()).sort();
      assert.deepEqual(names, em.state.scaleSetsIn(SUB, 'rg-prod').map((s) => s.name).sort());
      assert.ok(Date.now() - started >= 1000, 'the Retry-After was honoured');
    }));
});

const SOVEREIGN = [
  { environment: 'AzureUSGovernment', arm: 'management.usgovcloudapi.net', login: 'login.microsoftonline.us', audience: 'api://AzureADTokenExchangeUSGov' },
  // MSAL's own cloud metadata sends China's sign-in to its preferred network, the partner host.
  { environment: 'AzureChinaCloud', arm: 'management.chinacloudapi.cn', login: 'login.partner.microsoftonline.cn', audience: 'api://AzureADTokenExchangeChina' },
];

describe('sovereign clouds end to end, by their public host names', { concurrency: 2 }, () => {
  for (const cloud of SOVEREIGN) {
    it(`${cloud.environment}: signs in at ${cloud.login} with ${cloud.audience}, changes the scale set at ${cloud.arm}`, () =>
      withEmulator({ edit: (seed) => seed.tenants?.[0]?.apps?.[0]?.federatedCredentials?.forEach((f) => ((f as { audiences?: string[] }).audiences = [cloud.audience])) }, async (em) => {
        const env = { HTTPS_PROXY: em.urls.proxy, NODE_EXTRA_CA_CERTS: em.caPath, NO_PROXY: '127.0.0.1' };
        const run = await runAction(em, { ...web, environment: cloud.environment, 'identity-type': 'SystemAssigned' }, { withoutEndpoint: true, env });
        assert.equal(run.code, 0, run.stdout);
        assert.equal(run.outputs['principal-id'], scaleSet(em, 'vmss-web').identity.system?.principalId);
        const azure = em.log.entries.filter((e) => e.service === 'arm' || e.service === 'entra');
        assert.ok(azure.length >= 3);
        for (const e of azure) assert.equal(e.host, e.service === 'arm' ? cloud.arm : cloud.login, `${e.route} went to ${e.host}`);
        assert.deepEqual(em.log.refusedConnects, [], 'no other host was tried');
      }));
  }
});
