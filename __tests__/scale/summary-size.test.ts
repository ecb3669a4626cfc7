// GitHub drops a job summary over 1 MiB, and with it everything the step reported there. A
// fleet whose sections add up to about twice that still gets a summary: whole sections up to
// the limit, then a count of the rest; every scale set is still in the results output.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FLEET_SUBS, fleetOf, fleetSeed, withEmulator } from '../support/emulator.ts';
import { runAction } from '../support/run-action.ts';
import { foreignMarkup } from '../support/runner-view.ts';

const SCALE_SETS = 10_000;
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

/** Every other scale set already has its system-assigned identity. */
function halfChanged() {
  const subscriptions = fleetOf(SCALE_SETS, 4, 2, (i) => ({ half: String(i % 2) }));
  for (const sub of subscriptions) for (const sets of Object.values(sub.resourceGroups)) for (const set of sets) if (set.tags?.['half'] === '1') set.identityType = 'SystemAssigned';
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
      assert.match(run.summary, new RegExp(`^<h2>Scale set identities: show</h2>\n<table><tr><th>Targets</th>.*<td>${SCALE_SETS}</td>.*\n<p><strong>${SCALE_SETS} targets: ${SCALE_SETS} read, 0 failed\\.`));
      process.stdout.write(`# summary: ${bytes} bytes, ${shown} of ${SCALE_SETS} sections\n`);
    }));

  it(`${SCALE_SETS} scale sets, a dry run where half change: totals first, the unchanged collapsed and counted, under 1 MiB`, { timeout: 240_000 }, () =>
    withEmulator({ seed: halfChanged() }, async (em) => {
      const run = await runAction(em, { 'resource-group': '*', 'subscription-id': FLEET_SUBS.join('\n'), 'vmss-name': 'vmss-*', 'identity-type': 'SystemAssigned', 'dry-run': 'true', 'timeout-seconds': '600' });
      assert.equal(run.code, 0, run.stdout.slice(-2000));
      const bytes = Buffer.byteLength(run.summary);
      assert.ok(bytes < 1024 * 1024, `summary of ${bytes} bytes`);
      const half = SCALE_SETS / 2;
      assert.match(run.summary, new RegExp(`^<h2>Scale set identities: assign \\(dry run, nothing written\\)</h2>\n<table>.*\n<p><strong>${SCALE_SETS} targets: ${half} to change, ${half} unchanged, 0 failed\\.</strong></p>`));
      const shown = run.summary.match(/<h3>/g)?.length ?? 0;
      assert.ok(shown > 100 && shown <= half, `${shown} sections shown`);
      if (shown < half) assert.match(run.summary, new RegExp(`<p>${half - shown} more target\\(s\\) are not shown`));
      assert.match(run.summary, new RegExp(`<details><summary>${half} unchanged targets</summary><p>vmss-[^<]* … and ${half - 1000} more \\(every target is in the results output\\)</p></details>\n?$`));
      assert.deepEqual(foreignMarkup(run.summary, 'no-marker'), []);
      process.stdout.write(`# dry-run summary: ${bytes} bytes, ${shown} of ${half} sections\n`);
    }));
});
