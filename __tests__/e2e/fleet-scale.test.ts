// Identities deleted while scale sets still reference them, ARM's request budgets, and a
// fleet of 1,000 scale sets across 4 subscriptions in one step.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Seed } from '../../emulator/state.ts';
import { identitySummary, SUB, TENANT, uai, withEmulator } from '../support/emulator.ts';

const OTHER_SUB = '5c0ffee0-9999-4333-8444-000000000009';
const FAR = `/subscriptions/${OTHER_SUB}/resourceGroups/rg-other/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-far`;
import { runAction } from '../support/run-action.ts';
import { errorLine, results } from '../support/outcome.ts';

const api = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-api' };
/** vmss-api holds id-app (deleted in Azure, the reference stays) and id-logs. */
const withDangling = (seed: Seed) => {
  const api = seed.scaleSets?.find((s) => s.name === 'vmss-api');
  api?.userAssignedIdentities?.push(uai('id-logs'));
  seed.userAssignedIdentities?.push({ subscriptionId: SUB, resourceGroup: 'rg-prod', name: 'id-new' });
};

describe('identities that no longer exist', { concurrency: 4 }, () => {
  const start = (body: (em: Parameters<Parameters<typeof withEmulator>[1]>[0]) => Promise<void>) =>
    withEmulator({ edit: withDangling }, async (em) => {
      assert.ok(em.state.deleteUserAssignedIdentity(uai('id-app')));
      await body(em);
    });

  it('assign: the failure names the deleted identity, confirms it is gone and gives the fix', () =>
    start(async (em) => {
      const run = await runAction(em, { ...api, 'user-assigned-ids': 'id-new' });
      assert.equal(run.code, 1);
      assert.match(errorLine(run), /Scale set 'vmss-api' still references user-assigned identity id-app \(.*userAssignedIdentities\/id-app\), which no longer exists: reading it answers 404\. .*remove-missing-identities: true/);
      assert.ok(em.log.of('arm.uai.get').some((e) => e.status === 404), 'confirmed by reading it');
      assert.equal(em.log.writes().length, 0, 'found by the check phase, before any write');
      assert.deepEqual(identitySummary(em, 'vmss-api').userAssigned, ['id-app', 'id-logs']);
    }));

  it('assign with remove-missing-identities: the reference is dropped in the same write', () =>
    start(async (em) => {
      const run = await runAction(em, { ...api, 'user-assigned-ids': 'id-new', 'remove-missing-identities': 'true' });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(identitySummary(em, 'vmss-api').userAssigned, ['id-logs', 'id-new']);
      assert.equal(em.log.of('arm.vmss.patch').length, 1, 'one write');
      assert.match(run.stdout, /references user-assigned identity id-app .* which no longer exists/);
    }));

  it('remove: fails with the explanation without the flag, removes both with it', () =>
    start(async (em) => {
      const without = await runAction(em, { ...api, operation: 'remove', 'user-assigned-ids': 'id-logs' });
      assert.equal(without.code, 1);
      assert.match(errorLine(without), /still references user-assigned identity id-app/);
      const withFlag = await runAction(em, { ...api, operation: 'remove', 'user-assigned-ids': 'id-logs', 'remove-missing-identities': 'true' });
      assert.equal(withFlag.code, 0, withFlag.stdout);
      assert.deepEqual(identitySummary(em, 'vmss-api'), { system: true, userAssigned: [] });
    }));

  it('set drops it like any unlisted identity', () =>
    start(async (em) => {
      const run = await runAction(em, { ...api, operation: 'set', 'identity-type': 'SystemAssigned, UserAssigned', 'user-assigned-ids': 'id-logs' });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(identitySummary(em, 'vmss-api'), { system: true, userAssigned: ['id-logs'] });
    }));

  it('a dry run fails where the real run would, and passes with remove-missing-identities', () =>
    start(async (em) => {
      const run = await runAction(em, { ...api, 'user-assigned-ids': 'id-new', 'dry-run': 'true' });
      assert.equal(run.code, 1);
      assert.match(errorLine(run), /^Scale set 'vmss-api' still references user-assigned identity id-app .*remove-missing-identities: true/);
      const fixed = await runAction(em, { ...api, 'user-assigned-ids': 'id-new', 'dry-run': 'true', 'remove-missing-identities': 'true' });
      assert.equal(fixed.code, 0, fixed.stdout);
      assert.match(fixed.stdout, /dry run, nothing written\. The PATCH would be: .*id-app.*null/);
      assert.equal(em.log.writes().length, 0);
      assert.deepEqual(em.log.of('arm.uai.get').map((e) => e.status).sort(), [200, 200, 200, 200, 404, 404], 'each referenced or added identity read once per run');
    }));

  it('an identity that cannot be read (another subscription, no access) is not taken for deleted: a warning, and the step goes on', () =>
    withEmulator({
      edit: (seed) => {
        seed.subscriptions?.push({ id: OTHER_SUB, tenantId: TENANT, resourceGroups: [{ name: 'rg-other', location: 'westeurope' }] });
        seed.userAssignedIdentities?.push({ subscriptionId: OTHER_SUB, resourceGroup: 'rg-other', name: 'id-far' });
        seed.scaleSets?.find((v) => v.name === 'vmss-api')?.userAssignedIdentities?.push(FAR);
      },
    }, async (em) => {
      // A plan that writes the identity reads every identity the scale set references.
      for (const inputs of [{ 'user-assigned-ids': 'id-logs', 'dry-run': 'true' }, { operation: 'show' }] as Record<string, string>[]) {
        const run = await runAction(em, { ...api, ...inputs });
        assert.equal(run.code, 0, run.stdout);
        assert.match(run.stdout, /::warning title=Identity not checked::Could not check whether user-assigned identity id-far \(.*\) exists: .*Going on as if it does\./);
        assert.deepEqual(results(run)[0]?.missingIdentities ?? [], []);
      }
      assert.equal(em.log.writes().length, 0);
    }));

  it('show reports it', () =>
    start(async (em) => {
      const run = await runAction(em, { ...api, operation: 'show' });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(results(run)[0]?.missingIdentities?.map((id) => id.split('/').pop()), ['id-app']);
      assert.match(run.stdout, /::warning title=Identity that no longer exists::vmss-api references user-assigned identity id-app/);
      assert.match(run.summary, /References id-app, which no longer exists/);
    }));
});

describe("ARM's request limits", { concurrency: 2 }, () => {
  it('a tiny write budget is waited out and the step finishes', () =>
    withEmulator({
      budgets: { writes: { capacity: 2, perSecond: 2 } },
      edit: (seed) => { for (let i = 0; i < 8; i++) seed.scaleSets?.push({ subscriptionId: SUB, resourceGroup: 'rg-prod', name: `vmss-b-${i}` }); },
    }, async (em) => {
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': Array.from({ length: 8 }, (_, i) => `vmss-b-${i}`).join('\n'), 'identity-type': 'SystemAssigned', 'timeout-seconds': '120' });
      assert.equal(run.code, 0, run.stdout);
      assert.equal(em.log.of('arm.vmss.patch').filter((e) => e.status === 200).length, 8);
      assert.match(run.stdout, /Azure answered 429 SubscriptionRequestsThrottled; reading again and retrying/);
      assert.ok(run.durationMs < 30_000, `took ${run.durationMs} ms`);
    }));

  it('a read budget the fleet would overrun in a burst is paced from the headers: no 429', () =>
    withEmulator({
      // 60 reads at once, 25 a second after that: 120 scale sets read 20 at a time would take
      // the bucket to zero within a second without pacing.
      budgets: { reads: { capacity: 60, perSecond: 25 } },
      edit: (seed) => { for (let i = 0; i < 120; i++) seed.scaleSets?.push({ subscriptionId: SUB, resourceGroup: 'rg-prod', name: `vmss-r-${i}` }); },
    }, async (em) => {
      const names = Array.from({ length: 120 }, (_, i) => `vmss-r-${i}`);
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': names.join('\n'), 'identity-type': 'SystemAssigned', 'dry-run': 'true', 'max-parallel': '20', 'timeout-seconds': '120' }, { env: { RUNNER_DEBUG: '1' } });
      assert.equal(run.code, 0, run.stdout);
      const reads = em.log.of('arm.vmss.get');
      assert.equal(reads.filter((e) => e.status === 429).length, 0, 'no read was refused');
      assert.deepEqual(new Set(reads.filter((e) => e.status === 200).map((e) => e.path.split('/').pop()?.split('?')[0])), new Set(names));
      assert.match(run.stdout, /ARM request budget: .*reads: \d+ left/, 'the step said it slowed down');
      assert.equal(results(run).length, 120);
    }));

});
