// Deadlines and cancels reach into the sign-in: a hung GitHub token service or Entra token
// endpoint ends at timeout-seconds or within 2 s of SIGTERM, with every output written.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withEmulator } from '../support/emulator.ts';
import { runAction } from '../support/run-action.ts';
import { errorLine, results, stopTiming } from '../support/outcome.ts';

const web = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web' };

describe('deadlines and cancels reach into sign-in', { concurrency: 4 }, () => {
  for (const [service, route] of [['GitHub token service', 'github.token'], ['Entra token endpoint', 'entra.token']] as const) {
    it(`SIGTERM while the ${service} hangs: exits within 2 s, outputs written [timing]`, () =>
      withEmulator({}, async (em) => {
        em.controls.fault({ route, times: Infinity, action: { kind: 'latency', ms: 60_000 } });
        const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' }, {
          signalWhen: { signal: 'SIGTERM', when: () => em.log.of(route === 'github.token' ? 'arm.metadata' : 'github.token').length > 0 },
        });
        assert.notEqual(run.code, 0);
        assert.ok((run.exitAfterSignalMs ?? Infinity) < 2000, `exited ${run.exitAfterSignalMs} ms after the signal`);
        assert.ok((stopTiming(run)?.stopToExitMs ?? Infinity) < 2000, `the action's own clock: ${JSON.stringify(stopTiming(run))}`);
        assert.match(errorLine(run), /Cancelled by SIGTERM\. The step stopped while signing in; nothing was written to Azure\./);
        assert.equal(results(run)[0]?.write, 'none');
        assert.equal(run.outputs['changed'], 'false');
        assert.equal(em.log.writes().length, 0);
      }));

    it(`timeout-seconds 10 while the ${service} hangs: ends at the deadline with one GitHub token request [timing]`, () =>
      withEmulator({}, async (em) => {
        em.controls.fault({ route, times: Infinity, action: { kind: 'latency', ms: 60_000 } });
        const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'timeout-seconds': '10' });
        assert.equal(run.code, 1);
        const timing = stopTiming(run);
        assert.ok(timing && timing.uptimeMs < 12_000 && timing.stopToExitMs < 2000, `the action's own clock: ${JSON.stringify(timing)} (deadline 10 s)`);
        assert.match(errorLine(run), /Timed out after 10 s \(timeout-seconds\)\. The step stopped while signing in; nothing was written to Azure\./);
        assert.deepEqual(results(run).map((r) => [r.scaleSet.split('/').pop(), r.changed, r.write]), [['vmss-web', false, 'none']]);
        assert.match(results(run)[0]?.error ?? '', /^Timed out after 10 s/);
        // GitHub's token is asked once: a slow answer is not stale on arrival, and no second
        // request is started meanwhile. Counted as they arrive: a hung request never answers.
        assert.equal(em.log.arrived('github.token').length, 1, `${em.log.arrived('github.token').length} GitHub token requests`);
        assert.equal(em.log.writes().length, 0);
      }));
  }
});
