// A fleet of 1,000 scale sets across 4 subscriptions in one step. It runs on its own, after
// the other suites (see package.json), so its load does not skew their timing assertions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FLEET_SUBS, fleetOf, fleetSeed, withEmulator } from '../support/emulator.ts';
import { runAction } from '../support/run-action.ts';
import { results } from '../support/outcome.ts';


describe('platform scale', () => {
  it('1,000 scale sets across 4 subscriptions in one step: default budgets, no 429', { timeout: 240_000 }, () =>
    withEmulator({ updateDurationMs: 100, seed: fleetSeed({ subscriptions: fleetOf(1000, 4, 2) }) }, async (em) => {
      const started = Date.now();
      const run = await runAction(em, {
        'resource-group': '*', 'subscription-id': FLEET_SUBS.join('\n'), 'vmss-name': 'vmss-*', 'identity-type': 'SystemAssigned',
        'max-parallel': '100', 'timeout-seconds': '600',
      });
      assert.equal(run.code, 0, run.stdout.slice(-3000));
      const r = results(run);
      assert.equal(r.length, 1000);
      assert.ok(r.every((x) => x.changed && !x.error));
      assert.equal(em.controls.throttled, 0, `429s caused by the action's pace: ${JSON.stringify(em.controls.throttledBy)}`);
      assert.equal(em.log.of('arm.vmss.patch').length, 1000, 'one write per scale set');
      assert.equal(em.log.of('arm.vmss.get').filter((e) => e.route === 'arm.vmss.get').length <= 1000, true);
      process.stdout.write(`# 1,000 scale sets: ${Date.now() - started} ms, ${em.log.entries.length} requests\n`);
    }));
});
