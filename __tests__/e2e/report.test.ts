// What a fleet's report says, through the bundled action: twins told apart in the log and the
// summary, the summary opening with totals and collapsing what did not change, a done line per
// target whose write finished, the totals line at the end, and a group heading that counts
// what runs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Seed } from '../../emulator/state.ts';
import { defaultSeed, DEPLOYER_OBJECT_ID, FLEET_SUBS, fleetSeed, SUB, uai, vmssId, withEmulator } from '../support/emulator.ts';
import { runAction } from '../support/run-action.ts';
import { foreignMarkup } from '../support/runner-view.ts';

const OTHER = FLEET_SUBS[0];
const otherWeb = `/subscriptions/${OTHER}/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web`;

/** A second vmss-web in rg-prod of another subscription, and a second id-logs in rg-shared. */
function twins(): Seed {
  const seed = fleetSeed({ subscriptions: [{ id: OTHER, resourceGroups: { 'rg-prod': [{ name: 'vmss-web' }] }, identities: [{ resourceGroup: 'rg-prod', name: 'id-logs' }] }] });
  seed.userAssignedIdentities?.push({ subscriptionId: SUB, resourceGroup: 'rg-shared', name: 'id-logs' });
  seed.roleAssignments?.push({ principalId: DEPLOYER_OBJECT_ID, role: 'Managed Identity Operator', scope: `/subscriptions/${SUB}/resourceGroups/rg-shared` });
  return seed;
}

/** The lines the action printed outside any group's end, without the runner's commands. */
const logLines = (stdout: string) => stdout.split('\n').filter((l) => !l.startsWith('::'));

describe('a report for any fleet', { concurrency: 2 }, () => {
  it('twins in two subscriptions, with twin identities: the log and the summary tell them apart', () =>
    withEmulator({ seed: twins() }, async (em) => {
      const run = await runAction(em, {
        'vmss-id': `${vmssId('vmss-web')}\n${otherWeb}`,
        'user-assigned-ids': `${uai('id-logs')}\n${uai('id-logs', 'rg-shared')}`,
      });
      assert.equal(run.code, 0, run.stdout.slice(-3000));
      const lines = logLines(run.stdout);
      for (const label of ['0b1f6471/rg-prod/vmss-web', '1a2b3c4d/rg-prod/vmss-web']) {
        assert.ok(lines.some((l) => l.startsWith(`${label}: None → UserAssigned: `)), `the plan line of ${label}`);
        assert.ok(lines.includes(`${label}: done: identity None → UserAssigned: added rg-prod/id-logs, added rg-shared/id-logs.`), `the done line of ${label}:\n${lines.join('\n')}`);
        assert.match(run.summary, new RegExp(`<h3>${label}</h3>`));
      }
      assert.doesNotMatch(run.summary, /<h3>vmss-web<\/h3>/);
      assert.match(run.summary, /rg-prod\/id-logs: principal [0-9a-f-]{36}/);
      assert.match(run.summary, /rg-shared\/id-logs: principal [0-9a-f-]{36}/);
      assert.match(run.summary, /<li>Added rg-shared\/id-logs<\/li>/);
      assert.equal(lines.at(-2), '2 targets: 2 changed, 0 unchanged, 0 failed.');
      assert.deepEqual(foreignMarkup(run.summary, 'no-marker'), []);
    }));

  it('a twin that fails is named apart in its annotation and in the step error', () =>
    withEmulator({ seed: fleetSeed({ subscriptions: [{ id: OTHER, resourceGroups: { 'rg-prod': [{ name: 'vmss-web' }] } }], unreadable: [OTHER] }) }, async (em) => {
      const run = await runAction(em, { 'vmss-id': `${vmssId('vmss-web')}\n${otherWeb}`, 'identity-type': 'SystemAssigned', 'dry-run': 'true' });
      assert.equal(run.code, 1, run.stdout.slice(-3000));
      assert.match(run.stdout, /^::error title=Scale set 1a2b3c4d\/rg-prod\/vmss-web::/m);
      // A named scale set that cannot be read stops every write: its twin is not changed either.
      assert.match(run.stdout, /^::error::2 of 2 failed:%0A- 0b1f6471\/rg-prod\/vmss-web: Not changed: .*%0A- 1a2b3c4d\/rg-prod\/vmss-web: /m);
      assert.match(run.summary, /<h3>1a2b3c4d\/rg-prod\/vmss-web<\/h3>\n[^\n]*\n<p><strong>Failed:<\/strong>/);
    }));

  it('the summary opens with the totals and collapses the unchanged; the log ends with the totals line', () =>
    withEmulator({}, async (em) => {
      const fleet = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web\nvmss-api\nvmss-legacy', 'identity-type': 'SystemAssigned' };
      const dry = await runAction(em, { ...fleet, 'dry-run': 'true' });
      assert.equal(dry.code, 0, dry.stdout.slice(-3000));
      assert.equal(logLines(dry.stdout).at(-2), '3 targets: 1 to change, 2 unchanged, 0 failed. 1 warning.');
      assert.doesNotMatch(dry.stdout, /: done: /, 'a dry run finishes no write');
      const run = await runAction(em, fleet);
      assert.equal(run.code, 0, run.stdout.slice(-3000));
      assert.ok(logLines(run.stdout).includes('vmss-web: done: identity None → SystemAssigned: enabled the system-assigned identity.'), run.stdout.slice(-2000));
      assert.equal(logLines(run.stdout).at(-2), '3 targets: 1 changed, 2 unchanged, 0 failed. 1 warning.');
      const [heading, totals, sentence] = run.summary.split('\n');
      assert.equal(heading, '<h2>Scale set identities: assign</h2>');
      assert.equal(totals, '<table><tr><th>Targets</th><th>Changed</th><th>Unchanged</th><th>Failed</th><th>Roles granted</th><th>Warnings</th></tr><tr><td>3</td><td>1</td><td>2</td><td>0</td><td>0</td><td>1</td></tr></table>');
      assert.equal(sentence, '<p><strong>3 targets: 1 changed, 2 unchanged, 0 failed. 1 warning.</strong></p>');
      // vmss-legacy is unchanged but keeps its section: its retired extension is a warning.
      assert.match(run.summary, /<h3>vmss-web<\/h3>/);
      assert.match(run.summary, /<h3>vmss-legacy<\/h3>/);
      assert.doesNotMatch(run.summary, /<h3>vmss-api<\/h3>/);
      assert.match(run.summary, /<details><summary>1 unchanged target<\/summary><p>vmss-api<\/p><\/details>\n?$/);
      assert.deepEqual(foreignMarkup(run.summary, 'no-marker'), []);
    }));

  it('the group heading counts the scale sets that run, never more at a time than there are', () =>
    withEmulator({ seed: fleetSeed({ base: defaultSeed(), subscriptions: [{ id: OTHER, resourceGroups: { 'rg-prod': [{ name: 'vmss-x' }] } }], unreadable: [OTHER] }) }, async (em) => {
      // Two scale sets found, one subscription that could not be listed: 2 run, 3 entries.
      const run = await runAction(em, { 'subscription-id': `${SUB}\n${OTHER}`, 'resource-group': 'rg-prod', 'vmss-name': 'vmss-we*\nvmss-a*', 'dry-run': 'true', 'max-parallel': '3', 'identity-type': 'SystemAssigned' });
      assert.match(run.stdout, /^::group::2 scale sets, 2 at a time$/m, run.stdout.slice(-3000));
      const one = await runAction(em, { 'subscription-id': SUB, 'resource-group': 'rg-prod', 'vmss-name': 'vmss-we*', 'dry-run': 'true', 'identity-type': 'SystemAssigned' });
      assert.equal(one.code, 0, one.stdout.slice(-3000));
      assert.match(one.stdout, /^::group::1 scale set$/m);
      assert.equal(logLines(one.stdout).at(-2), '1 target: 1 to change, 0 unchanged, 0 failed.');
    }));
});
