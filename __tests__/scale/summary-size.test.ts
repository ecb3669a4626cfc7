// GitHub drops a job summary over 1 MiB, and with it everything the step reported there. A
// fleet whose sections add up to about twice that still gets a summary: whole sections up to
// the limit, then a count of the rest; every scale set is still in the results output.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FLEET_SUBS, fleetOf, fleetSeed, withEmulator } from '../support/emulator.ts';
import { runAction } from '../support/run-action.ts';
import { foreignMarkup } from '../support/runner-view.ts';

const SCALE_SETS = 2000;
const IDENTITIES = Array.from({ length: 6 }, (_, i) => `id-summary-padding-${i}`);

function seed() {
  const subscriptions = fleetOf(SCALE_SETS, 4, 2);
  for (const sub of subscriptions) {
    sub.identities = IDENTITIES.map((name) => ({ resourceGroup: 'rg-fleet-0', name }));
    for (const sets of Object.values(sub.resourceGroups)) {
      for (const set of sets) {
        set.identityType = 'SystemAssigned, UserAssigned';
        set.userAssignedIdentities = IDENTITIES.map((name) => `/subscriptions/${sub.id}/resourceGroups/rg-fleet-0/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`);
      }
    }
  }
  return fleetSeed({ subscriptions });
}

describe('summary size', () => {
  it(`${SCALE_SETS} scale sets with 7 identities each: the summary stays under 1 MiB and counts what it leaves out`, { timeout: 240_000 }, () =>
    withEmulator({ seed: seed() }, async (em) => {
      const run = await runAction(em, { 'resource-group': '*', 'subscription-id': FLEET_SUBS.join('\n'), 'vmss-name': 'vmss-*', operation: 'show', 'timeout-seconds': '600' });
      assert.equal(run.code, 0, run.stdout.slice(-2000));
      assert.equal((JSON.parse(run.outputs['results'] ?? '[]') as unknown[]).length, SCALE_SETS);
      const bytes = Buffer.byteLength(run.summary);
      assert.ok(bytes < 1024 * 1024, `summary of ${bytes} bytes`);
      const shown = run.summary.match(/<h3>/g)?.length ?? 0;
      assert.ok(shown > 100 && shown < SCALE_SETS, `${shown} sections shown`);
      assert.match(run.summary, new RegExp(`<p>${SCALE_SETS - shown} more target\\(s\\) are not shown`));
      assert.deepEqual(foreignMarkup(run.summary, 'no-marker'), []);
      process.stdout.write(`# summary: ${bytes} bytes, ${shown} of ${SCALE_SETS} sections\n`);
    }));
});
