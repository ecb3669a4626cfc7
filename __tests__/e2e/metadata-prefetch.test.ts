// A custom cloud's metadata is asked by the entry point before the SDK loads (src/oidc-prefetch.ts):
// its answer is used once, and anything but 200 or 404 is asked again through the SDK.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withEmulator } from '../support/emulator.ts';
import { runAction } from '../support/run-action.ts';

const show = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', operation: 'show' };

describe('cloud metadata asked early', { concurrency: 2 }, () => {
  it('is asked once', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, show);
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(em.log.of('arm.metadata').map((e) => e.status), [200]);
    }));

  it('a failed early read is asked again through the SDK', () =>
    withEmulator({}, async (em) => {
      em.controls.fault({ route: 'arm.metadata', times: 1, action: { kind: 'status', status: 503 } });
      const run = await runAction(em, show);
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(em.log.of('arm.metadata').map((e) => e.status), [503, 200]);
    }));
});
