// Issue: no lost identity under concurrency, faults, throttling and cancellation.
// Everything runs the bundled action in separate processes against the emulator.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { identitySummary, scaleSet, SUB, uai, withEmulator } from '../support/emulator.ts';
import { runAction } from '../support/run-action.ts';
import { stopTiming } from '../support/outcome.ts';

const web = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web' };

describe('reliability', { concurrency: 6 }, () => {
  it('8 concurrent jobs each assigning a different identity: all 8 end up assigned', () => {
    const K = 8;
    const names = Array.from({ length: K }, (_, i) => `id-worker-${i}`);
    return withEmulator({
      updateDurationMs: 200,
      edit: (seed) => names.forEach((name) => seed.userAssignedIdentities?.push({ subscriptionId: SUB, resourceGroup: 'rg-prod', name })),
    }, async (em) => {
      // Every job reads before any writes: all 8 plans start from the same state.
      em.controls.fault({ route: 'arm.vmss.get', times: K, action: { kind: 'hold', until: () => em.log.arrived('arm.vmss.get').length >= K } });
      const runs = await Promise.all(names.map((name) => runAction(em, { ...web, operation: 'assign', 'user-assigned-ids': name, 'timeout-seconds': '120' })));
      runs.forEach((run, i) => {
        assert.equal(run.code, 0, run.stdout);
        const reported = Object.keys(JSON.parse(run.outputs['user-assigned-identities'] ?? '{}') as object).map((k) => k.toLowerCase());
        assert.ok(reported.includes(uai(names[i] ?? '').toLowerCase()), `run ${i} reported success without its identity`);
      });
      assert.deepEqual(identitySummary(em, 'vmss-web').userAssigned, [...names].sort());
      const statuses = em.log.of('arm.vmss.patch').map((e) => e.status);
      assert.equal(statuses.filter((s) => s === 200).length, K, 'exactly one accepted write per job');
      assert.ok(statuses.some((s) => s === 412 || s === 409), `the test must provoke conflicts: ${statuses.join(',')}`);
    });
  });

  it('a concurrent writer between read and write: re-reads, re-plans and keeps the other change', () =>
    withEmulator({}, async (em) => {
      em.controls.fault({
        route: 'arm.vmss.get',
        action: { kind: 'after', run: () => { const s = scaleSet(em, 'vmss-web'); s.identity.userAssigned.push({ key: uai('id-logs') }); s.etag++; } },
      });
      const run = await runAction(em, { ...web, operation: 'assign', 'user-assigned-ids': 'id-app' });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(identitySummary(em, 'vmss-web').userAssigned, ['id-app', 'id-logs']);
      assert.deepEqual(em.log.of('arm.vmss.patch').map((e) => e.status), [412, 200]);
      assert.match(run.stdout, /changed since it was read \(412 PreconditionFailed\); reading it again and re-planning/);
    }));

  it('waits out a scale set that is still Creating, then enables the identity', () =>
    withEmulator({}, async (em) => {
      scaleSet(em, 'vmss-web').provisioningState = 'Creating';
      // Creation finishes 1.5 s after the action first looks at the scale set.
      em.controls.fault({ route: 'arm.vmss.get', action: { kind: 'after', run: () => void setTimeout(() => (scaleSet(em, 'vmss-web').provisioningState = 'Succeeded'), 1500) } });
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 0, run.stdout);
      assert.match(run.stdout, /provisioning state is 'Creating'; waiting [\d.]+ s for Azure to finish/);
      assert.equal(identitySummary(em, 'vmss-web').system, true);
      assert.deepEqual(em.log.of('arm.vmss.patch').map((e) => e.status), [200]);
    }));

  it('409 Conflict on the write is waited out and retried', () =>
    withEmulator({}, async (em) => {
      em.controls.fault({ route: 'arm.vmss.patch', times: 2, action: { kind: 'status', status: 409 } });
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(em.log.of('arm.vmss.patch').map((e) => e.status), [409, 409, 200]);
    }));

  it('429 with Retry-After is honoured; 429 without it is backed off by the action', () =>
    withEmulator({}, async (em) => {
      em.controls.fault({ route: 'arm.vmss.get', times: 1, action: { kind: 'status', status: 429, retryAfter: 1 } });
      em.controls.fault({ route: 'arm.vmss.patch', times: 1, action: { kind: 'status', status: 429 } });
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 0, run.stdout);
      const gets = em.log.of('arm.vmss.get');
      assert.equal(gets[0]?.status, 429);
      assert.ok((gets[1]?.at ?? 0) - (gets[0]?.at ?? 0) >= 1000, 'Retry-After: 1 honoured');
      assert.deepEqual(em.log.of('arm.vmss.patch').map((e) => e.status), [429, 200]);
      assert.match(run.stdout, /Azure answered 429 OperationNotAllowed; reading again and retrying in/);
    }));

  it('a Retry-After on the operation sets the pace of the status polls', () =>
    withEmulator({ updateDurationMs: 4500 }, async (em) => {
      em.controls.retryAfterSeconds = 2;
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 0, run.stdout);
      const polls = em.log.of('arm.operation').map((e) => e.at);
      // 4.5 s at one poll per 2 s: two or three polls, depending on when the first one lands.
      assert.ok(polls.length >= 2 && polls.length <= 3, `polls at ${polls.map((t) => t - (polls[0] ?? 0)).join(', ')} ms`);
      for (let i = 1; i < polls.length; i++) assert.ok((polls[i] ?? 0) - (polls[i - 1] ?? 0) >= 1950, 'two seconds apart');
    }));

  it('a throttled status poll (429 without Retry-After) slows polling instead of failing the step', () =>
    withEmulator({}, async (em) => {
      em.controls.fault({ route: 'arm.operation', times: 2, action: { kind: 'status', status: 429 } });
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(em.log.of('arm.operation').map((e) => e.status).slice(0, 3), [429, 429, 200]);
      assert.equal(identitySummary(em, 'vmss-web').system, true);
    }));

  it('500, 503 and dropped connections on reads and polls are retried', () =>
    withEmulator({}, async (em) => {
      em.controls.fault({ route: 'arm.vmss.get', times: 1, action: { kind: 'status', status: 500 } });
      em.controls.fault({ route: 'arm.vmss.get', times: 1, skip: 1, action: { kind: 'drop' } });
      em.controls.fault({ route: 'arm.operation', times: 1, action: { kind: 'status', status: 503 } });
      em.controls.fault({ route: 'arm.operation', times: 1, skip: 1, action: { kind: 'latency', ms: 800 } });
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 0, run.stdout);
      assert.equal(identitySummary(em, 'vmss-web').system, true);
      assert.deepEqual(em.log.of('arm.vmss.patch').map((e) => e.status), [200]);
    }));

  it('SIGTERM while reading to confirm a write whose answer was lost: says it was sent and may have been applied [timing]', () =>
    withEmulator({}, async (em) => {
      em.controls.fault({ route: 'arm.vmss.patch', times: 1, action: { kind: 'loseResponse' } });
      // The first read plans; the second, which would confirm the lost write, is held 5 s.
      em.controls.fault({ route: 'arm.vmss.get', skip: 1, times: 1, action: { kind: 'latency', ms: 5000 } });
      const run = await runAction(em, { ...web, operation: 'assign', 'user-assigned-ids': 'id-app' }, { signalWhen: { signal: 'SIGTERM', when: () => em.faults.pending === 0 } });
      assert.notEqual(run.code, 0);
      assert.ok((run.exitAfterSignalMs ?? Infinity) < 2000, `exited ${run.exitAfterSignalMs} ms after the signal`);
      assert.ok((stopTiming(run)?.stopToExitMs ?? Infinity) < 2000, `the action's own clock: ${JSON.stringify(stopTiming(run))}`);
      assert.match(run.stdout, /::error::Cancelled by SIGTERM\. The identity change to vmss-web was sent and its answer had not arrived, so Azure may have applied it\./);
      assert.doesNotMatch(run.stdout, /Nothing was written/);
      assert.equal(JSON.parse(run.outputs['results'] ?? '[]')[0].write, 'unconfirmed');
      assert.deepEqual(identitySummary(em, 'vmss-web').userAssigned, ['id-app'], 'it had landed');
    }));

  it('a write whose answer was lost lands after the confirming read: the retry is refused (412), and the next read shows it done', () =>
    withEmulator({}, async (em) => {
      const set = em.state.findScaleSet(SUB, 'rg-prod', 'vmss-web');
      assert.ok(set);
      // A gateway answers 504 while the backend applies the write 300 ms later; the retry is held until then.
      em.controls.fault({ route: 'arm.vmss.patch', times: 1, action: { kind: 'status', status: 504 } });
      em.controls.fault({ route: 'arm.vmss.patch', times: 1, action: { kind: 'after', run: () => setTimeout(() => { set.identity.system = em.state.newSystemPrincipal(SUB); set.etag++; }, 300) } });
      em.controls.fault({ route: 'arm.vmss.patch', skip: 1, times: 1, action: { kind: 'latency', ms: 800 } });
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(em.log.of('arm.vmss.patch').map((e) => e.status), [504, 412]);
      const [r] = JSON.parse(run.outputs['results'] ?? '[]') as { write: string; changed: boolean }[];
      assert.deepEqual({ write: r?.write, changed: r?.changed }, { write: 'completed', changed: true });
      assert.equal(run.outputs['changed'], 'true');
      assert.equal(run.outputs['principal-id'], set.identity.system?.principalId);
      assert.match(run.summary, /reading the scale set showed the requested change in place/);
    }));

  it('a write whose answer was lost is confirmed by reading, not applied twice', () =>
    withEmulator({}, async (em) => {
      em.controls.fault({ route: 'arm.vmss.patch', times: 1, action: { kind: 'loseResponse' } });
      const run = await runAction(em, { ...web, operation: 'assign', 'user-assigned-ids': 'id-app' });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(identitySummary(em, 'vmss-web').userAssigned, ['id-app']);
      // The lost PATCH was applied; nothing sent it again (no automatic retries of writes), a read confirmed it.
      assert.deepEqual(em.log.of('arm.vmss.patch').map((e) => e.status), [0]);
      assert.equal(scaleSet(em, 'vmss-web').etag, 2, 'exactly one write took effect');
      assert.equal(run.outputs['changed'], 'true');
      assert.equal(JSON.parse(run.outputs['results'] ?? '[]')[0].write, 'completed');
      assert.match(run.summary, /<li>Added id-app<\/li>/, 'the summary shows the change the lost write made');
      assert.match(run.summary, /reading the scale set showed the requested change in place/);
      assert.match(run.outputs['client-ids'] ?? '', /[0-9a-f-]{36}/, 'waited for the operation and reports its result');
    }));

  it('a Failed operation surfaces ARM\'s code and message', () =>
    withEmulator({}, async (em) => {
      em.controls.planOperation({ outcome: 'Failed', error: { code: 'InternalExecutionError', message: 'An internal execution error occurred. Please retry later.' } });
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 1);
      assert.match(run.stdout, /::error::Azure reported the identity update of vmss-web as Failed \(InternalExecutionError\): An internal execution error occurred\. Please retry later\..*az vmss show --subscription [0-9a-f-]{36} -g rg-prod -n vmss-web --query identity/);
      // Azure holds what it held before, and the outputs say so.
      assert.equal(scaleSet(em, 'vmss-web').identity.system, undefined);
      assert.equal(em.log.of('arm.vmss.patch').length, 1, 'one write, not retried');
      assert.equal(run.outputs['principal-id'], '');
      assert.equal(run.outputs['identity-type'], 'None');
    }));

  it('an operation that never finishes ends at timeout-seconds, saying it may still complete [timing]', () =>
    withEmulator({}, async (em) => {
      em.controls.planOperation({ outcome: 'Never' });
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'timeout-seconds': '10' });
      assert.equal(run.code, 1);
      const timing = stopTiming(run);
      assert.ok(timing && timing.uptimeMs < 12_000 && timing.stopToExitMs < 2000, `the action's own clock: ${JSON.stringify(timing)} (deadline 10 s)`);
      assert.match(run.stdout, /::error::Timed out after 10 s \(timeout-seconds\)\. Azure had accepted the identity change to vmss-web and may still be completing it \(operation https:\/\/127\.0\.0\.1:\d+\/subscriptions\/.*\/operations\/[0-9a-f-]{36}\)\. Check with: az vmss show/);
      assert.equal(em.log.of('arm.vmss.patch').length, 1, 'one write, not retried');
      const r = (JSON.parse(run.outputs['results'] ?? '[]') as { write: string; changed: boolean; operationUrl?: string }[])[0];
      assert.equal(r?.write, 'accepted');
      assert.equal(r?.changed, true);
      assert.match(r?.operationUrl ?? '', /\/operations\/[0-9a-f-]{36}/);
    }));

  it('SIGTERM while waiting: stops polling, reports what it knows and exits non-zero within 2 s [timing]', () =>
    withEmulator({}, async (em) => {
      em.controls.planOperation({ outcome: 'Never' });
      // Cancel while it waits: one status poll after Azure accepted the write.
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' }, { signalWhen: { signal: 'SIGTERM', when: () => em.log.of('arm.operation').length > 0 } });
      assert.notEqual(run.code, 0);
      assert.ok((run.exitAfterSignalMs ?? Infinity) < 2000, `exited ${run.exitAfterSignalMs} ms after the signal`);
      assert.ok((stopTiming(run)?.stopToExitMs ?? Infinity) < 2000, `the action's own clock: ${JSON.stringify(stopTiming(run))}`);
      assert.match(run.stdout, /Cancelled by SIGTERM\. Azure had accepted the identity change to vmss-web and may still be completing it \(operation .*\/operations\/[0-9a-f-]{36}\)/);
      // Polls are a second apart: one that arrives well after the signal was sent after it.
      const late = em.log.arrived('arm.operation').filter((a) => a.at > (run.signalledAt ?? 0) + 100);
      assert.deepEqual(late, [], 'no status poll was sent after the signal');
    }));

  it('SIGTERM in a fleet larger than max-parallel: scale sets never started report that nothing was written to them [timing]', () => {
    const names = Array.from({ length: 5 }, (_, i) => `vmss-c-${i}`);
    return withEmulator({
      updateDurationMs: 60_000,
      edit: (seed) => names.forEach((name) => seed.scaleSets?.push({ subscriptionId: SUB, resourceGroup: 'rg-prod', name })),
    }, async (em) => {
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': names.join('\n'), 'identity-type': 'SystemAssigned', 'max-parallel': '2' }, { signalWhen: { signal: 'SIGTERM', when: () => em.log.of('arm.vmss.patch').length >= 2 } });
      assert.notEqual(run.code, 0);
      assert.ok((run.exitAfterSignalMs ?? Infinity) < 2000, `exited ${run.exitAfterSignalMs} ms after the signal`);
      assert.ok((stopTiming(run)?.stopToExitMs ?? Infinity) < 2000, `the action's own clock: ${JSON.stringify(stopTiming(run))}`);
      const patched = new Set(em.log.of('arm.vmss.patch').map((e) => e.path.split('?')[0]?.split('/').pop()));
      assert.equal(patched.size, 2, 'two writes left before the signal, none after');
      const results = JSON.parse(run.outputs['results'] ?? '[]') as { scaleSet: string; write: string; error?: string }[];
      assert.equal(results.length, 5);
      for (const r of results) {
        const name = r.scaleSet.split('/').pop() ?? '';
        if (patched.has(name)) {
          assert.ok(['accepted', 'unconfirmed'].includes(r.write), `${name}: ${r.write}`);
          assert.match(r.error ?? '', /may (still be completing|have applied) it/);
        } else {
          assert.equal(r.write, 'none', `${name} was never written`);
          assert.match(r.error ?? '', new RegExp(`Cancelled by SIGTERM\\. Nothing was written to ${name}'s identity\\.`));
        }
      }
    });
  });

  it('SIGINT before anything was written says nothing was written [timing]', () =>
    withEmulator({}, async (em) => {
      em.controls.fault({ route: 'arm.vmss.get', action: { kind: 'latency', ms: 5000 } });
      // Signed in, and the read is in flight (held 5 s by the emulator).
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' }, { signalWhen: { signal: 'SIGINT', when: () => em.log.of('entra.token').length > 0 } });
      assert.notEqual(run.code, 0);
      assert.ok((run.exitAfterSignalMs ?? Infinity) < 2000, `exited ${run.exitAfterSignalMs} ms after the signal`);
      assert.ok((stopTiming(run)?.stopToExitMs ?? Infinity) < 2000, `the action's own clock: ${JSON.stringify(stopTiming(run))}`);
      assert.match(run.stdout, /Cancelled by SIGINT\. Nothing was written to vmss-web's identity\./);
      assert.equal(em.log.writes().length, 0);
    }));

  it('a GitHub token service that fails twice is retried', () =>
    withEmulator({}, async (em) => {
      em.controls.fault({ route: 'github.token', times: 2, action: { kind: 'status', status: 503 } });
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(em.log.of('github.token').map((e) => e.status), [503, 503, 200]);
    }));

  it('an unreachable GitHub token service is reported as such', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' }, { env: { ACTIONS_ID_TOKEN_REQUEST_URL: 'https://127.0.0.1:1/_services/token/idtoken?api-version=2.0' } });
      assert.equal(run.code, 1);
      assert.match(run.stdout, /::error::Could not get an OIDC token from GitHub \(.*ECONNREFUSED.*\)\. GitHub's token service did not answer; re-run the job, and check the runner can reach 127\.0\.0\.1:1\./);
      assert.deepEqual(em.log.entries.map((e) => e.route), ['arm.metadata'], 'nothing but the cloud metadata was asked');
    }));

  it('short-lived tokens during a long wait are fetched again, and a token endpoint outage is retried', () =>
    withEmulator({ updateDurationMs: 4000 }, async (em) => {
      em.controls.github.lifetimeSeconds = 10; // real ones live ~5 min; short enough that every sign-in needs a new one
      em.controls.entra.accessTokenLifetimeSeconds = 2;
      em.controls.fault({ route: 'entra.token', times: 2, action: { kind: 'status', status: 503 } });
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 0, run.stdout);
      assert.ok(em.log.of('github.token').length >= 2, 'fresh GitHub tokens were fetched');
      assert.ok(em.log.of('entra.token').filter((e) => e.status === 200).length >= 2, 'access tokens were renewed');
      assert.equal(em.log.of('arm').filter((e) => e.status === 401).length, 0, 'ARM never saw an expired token');
    }));
});
