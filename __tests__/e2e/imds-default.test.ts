// The IMDS default-identity warning (issue 18): a change that leaves a scale set with no system
// identity and two or more user-assigned ones breaks every program that asks IMDS for a token
// without client_id. The step warns once per target, before the write and in the dry run, names
// the identity that was the default and how to keep programs working, and still makes the change.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Emulator } from '../../emulator/server.ts';
import type { Seed } from '../../emulator/state.ts';
import { SUB, identitySummary, scaleSet, uai, withEmulator } from '../support/emulator.ts';
import { runAction, type ActionRun } from '../support/run-action.ts';
import { unescapeCommandData } from '../support/outcome.ts';

const TITLE = 'IMDS default identity lost';

/** vmss-one: id-app only; vmss-two: system + id-app + id-logs. */
const seed = (s: Seed): void => {
  s.scaleSets?.push(
    { subscriptionId: SUB, resourceGroup: 'rg-prod', name: 'vmss-one', identityType: 'UserAssigned', userAssignedIdentities: [uai('id-app')] },
    { subscriptionId: SUB, resourceGroup: 'rg-prod', name: 'vmss-two', identityType: 'SystemAssigned, UserAssigned', userAssignedIdentities: [uai('id-app'), uai('id-logs')] },
  );
};

/** The text of each IMDS warning annotation. */
const imdsWarnings = (run: ActionRun): string[] =>
  run.stdout.split('\n').filter((l) => l.startsWith(`::warning title=${TITLE}::`)).map((l) => unescapeCommandData(l.slice(`::warning title=${TITLE}::`.length)));

const clientIdOf = (em: Emulator, name: string): string => em.state.findUserAssignedIdentity(uai(name))?.clientId ?? 'missing';
const totalsWarnings = (summary: string): string | undefined => /<th>Warnings<\/th><\/tr><tr>(?:<td>\d+<\/td>)*?<td>(\d+)<\/td><\/tr>/.exec(summary)?.[1];

function assertOneWarning(run: ActionRun, label: string, names: RegExp, dryRun: boolean): void {
  const found = imdsWarnings(run);
  assert.equal(found.length, 1, run.stdout);
  assert.ok(found[0]?.startsWith(`${label}: programs that ask IMDS for a token without client_id get `), found[0]);
  assert.match(found[0] ?? '', names);
  assert.match(found[0] ?? '', /pass client_id \(the client id of the identity each should use\) in their IMDS requests.*, or keep or enable the system-assigned identity\. This warning does not stop the change\./);
  assert.match(run.summary, new RegExp(`⚠️ IMDS default identity lost${dryRun ? ' \\(planned\\)' : ''}: programs that ask IMDS`));
  assert.match(run.outputs['plan'] ?? '', /#### Warnings[\s\S]*- ⚠️ \*\*vmss-\w+\*\*: IMDS default identity lost: programs that ask IMDS/);
  assert.equal(totalsWarnings(run.summary), '1');
}

describe('the IMDS default-identity warning', { concurrency: 4 }, () => {
  it('a second user-assigned identity on a scale set with one and no system identity: warned in the dry run and before the real write, naming id-app and its client id', () =>
    withEmulator({ edit: seed }, async (em) => {
      const inputs = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-one', 'user-assigned-ids': 'id-logs' };
      const names = new RegExp(`user-assigned identity id-app \\(client id ${clientIdOf(em, 'id-app')}, /subscriptions/.*/id-app\\) today.*with no system-assigned identity and 2 user-assigned ones.*\\(client_id=${clientIdOf(em, 'id-app')} keeps them on id-app\\)`);

      const dry = await runAction(em, { ...inputs, 'dry-run': 'true' });
      assert.equal(dry.code, 0, dry.stdout);
      assertOneWarning(dry, 'vmss-one', names, true);
      assert.equal(em.log.writes().length, 0);

      const real = await runAction(em, inputs);
      assert.equal(real.code, 0, real.stdout);
      assertOneWarning(real, 'vmss-one', names, false);
      // Before the write: the warning is printed ahead of Azure's acceptance, and the change is made.
      assert.ok(real.stdout.indexOf(`::warning title=${TITLE}::`) < real.stdout.indexOf('vmss-one: Azure accepted the change'), real.stdout);
      assert.deepEqual(identitySummary(em, 'vmss-one'), { system: false, userAssigned: ['id-app', 'id-logs'] });
    }));

  it('disabling the system identity on a scale set with two user-assigned: warned in the dry run and the real run, naming the system principal', () =>
    withEmulator({ edit: seed }, async (em) => {
      const inputs = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-two', operation: 'remove', 'identity-type': 'SystemAssigned' };
      const principal = scaleSet(em, 'vmss-two').identity.system?.principalId ?? 'missing';
      const names = new RegExp(`get the system-assigned identity \\(principal ${principal}\\) today.*with no system-assigned identity and 2 user-assigned ones`);

      const dry = await runAction(em, { ...inputs, 'dry-run': 'true' });
      assert.equal(dry.code, 0, dry.stdout);
      assertOneWarning(dry, 'vmss-two', names, true);
      assert.equal(em.log.writes().length, 0);

      const real = await runAction(em, inputs);
      assert.equal(real.code, 0, real.stdout);
      assertOneWarning(real, 'vmss-two', names, false);
      assert.deepEqual(identitySummary(em, 'vmss-two'), { system: false, userAssigned: ['id-app', 'id-logs'] });
    }));

  it('once per target after a 412 re-plan', () =>
    withEmulator({ edit: seed }, async (em) => {
      em.controls.fault({ route: 'arm.vmss.patch', times: 1, action: { kind: 'status', status: 412, code: 'PreconditionFailed' } });
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-one', 'user-assigned-ids': 'id-logs' });
      assert.equal(run.code, 0, run.stdout);
      assert.match(run.stdout, /412 PreconditionFailed\); reading it again and re-planning/);
      assert.equal(imdsWarnings(run).length, 1, run.stdout);
      assert.equal(totalsWarnings(run.summary), '1');
    }));

  it('no warning where a default stays, or there was none: system kept, the single user-assigned left, none before', () =>
    withEmulator({ edit: seed }, async (em) => {
      // vmss-api (system + id-app) gains id-logs; vmss-two drops id-logs and its system identity (id-app is left alone);
      // vmss-web (no identity) gains two at once.
      const runs = [
        await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-api', 'user-assigned-ids': 'id-logs', 'dry-run': 'true' }),
        await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-two', operation: 'remove', 'identity-type': 'SystemAssigned, UserAssigned', 'user-assigned-ids': 'id-logs' }),
        await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'user-assigned-ids': 'id-app\nid-logs' }),
      ];
      for (const run of runs) {
        assert.equal(run.code, 0, run.stdout);
        assert.doesNotMatch(run.stdout, /IMDS/);
        assert.doesNotMatch(run.summary, /IMDS/);
        assert.doesNotMatch(run.outputs['plan'] ?? '', /IMDS/);
        assert.equal(totalsWarnings(run.summary), '0');
      }
      assert.deepEqual(identitySummary(em, 'vmss-two'), { system: false, userAssigned: ['id-app'] });
      assert.deepEqual(identitySummary(em, 'vmss-web'), { system: false, userAssigned: ['id-app', 'id-logs'] });
    }));
});
