// Every wait obeys the run's deadline and the runner's signals, even where no request has an
// answer to wait for yet (a TLS handshake that never completes); and status polls keep their
// floor of one a second per operation whatever Retry-After says.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { DEPLOYER_OBJECT_ID, RG, withEmulator } from '../support/emulator.ts';
import { runAction } from '../support/run-action.ts';
import { errorLine, results, stopTiming } from '../support/outcome.ts';
import type { FaultAction } from '../../emulator/faults.ts';

const web = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web' };

/** A TCP server that accepts connections and never says a word: every TLS handshake with it stalls. */
async function silentServer(): Promise<{ origin: string; connections: () => number; stop: () => Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => sockets.length,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('a stalled TLS handshake on the custom cloud metadata read', { concurrency: 2 }, () => {
  it('timeout-seconds 10: the step ends by the deadline + 2 s, outputs written [timing]', () =>
    withEmulator({}, async (em) => {
      const arm = await silentServer();
      try {
        const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'resource-manager-endpoint': arm.origin, 'timeout-seconds': '10' });
        assert.equal(run.code, 1);
        assert.ok(arm.connections() >= 1, 'the metadata read reached the server');
        const timing = stopTiming(run);
        assert.ok(timing && timing.uptimeMs < 12_000 && timing.stopToExitMs < 2000, `the action's own clock: ${JSON.stringify(timing)} (deadline 10 s)`);
        assert.match(errorLine(run), /Timed out after 10 s \(timeout-seconds\)\. The step stopped while signing in; nothing was written to Azure\./);
        assert.equal(run.outputs['changed'], 'false');
        assert.match(results(run)[0]?.error ?? '', /Timed out after 10 s/);
        assert.equal(em.log.of('entra').length, 0);
      } finally {
        await arm.stop();
      }
    }));

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} once the connection is held: exits within 2 s, outputs written [timing]`, () =>
      withEmulator({}, async (em) => {
        const arm = await silentServer();
        try {
          const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'resource-manager-endpoint': arm.origin }, {
            signalWhen: { signal, when: () => arm.connections() > 0 },
          });
          assert.equal(run.code, 1);
          assert.ok((run.exitAfterSignalMs ?? Infinity) < 2000, `exited ${run.exitAfterSignalMs} ms after the signal`);
          assert.match(errorLine(run), new RegExp(`Cancelled by ${signal}\\. The step stopped while signing in; nothing was written to Azure\\.`));
          assert.equal(run.outputs['changed'], 'false');
          assert.match(results(run)[0]?.error ?? '', new RegExp(`Cancelled by ${signal}`));
        } finally {
          await arm.stop();
        }
      }));
  }
});

describe('status polls keep a floor of one a second per operation', { concurrency: 2 }, () => {
  const pastDate = new Date(Date.now() - 3_600_000).toUTCString();
  const variants: [string, Record<string, string> | undefined][] = [
    ['Retry-After: 0 (on the write and every poll)', undefined],
    ['Retry-After: -1', { 'retry-after': '-1' }],
    [`Retry-After: an HTTP date in the past`, { 'retry-after': pastDate }],
    ['retry-after-ms: 0', { 'retry-after-ms': '0' }],
  ];
  for (const [name, headers] of variants) {
    it(`${name}, an update that takes 3 s: at most 4 polls, never 2 within a second`, () =>
      withEmulator({ updateDurationMs: 3000 }, async (em) => {
        em.controls.retryAfterSeconds = 0;
        if (headers) em.controls.fault({ route: 'arm.operation', times: Infinity, action: { kind: 'rewrite', headers } });
        const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'timeout-seconds': '60' });
        assert.equal(run.code, 0, run.stdout);
        assert.equal(run.outputs['changed'], 'true');
        const polls = em.log.of('arm.operation').map((e) => e.at);
        assert.ok(polls.length >= 2 && polls.length <= 4, `${polls.length} polls`);
        const gaps = polls.slice(1).map((at, i) => at - (polls[i] ?? 0));
        // The log stamps arrival at the emulator; a few ms of scheduling either side.
        assert.ok(gaps.every((g) => g >= 980), `gaps between polls: ${gaps.join(', ')} ms`);
        const patch = em.log.of('arm.vmss.patch')[0]?.at ?? 0;
        assert.ok((polls[0] ?? 0) - patch >= 980, `first poll ${(polls[0] ?? 0) - patch} ms after the write`);
      }));
  }
});

describe('a status poll that fails is asked again a second later at the soonest', { concurrency: 2 }, () => {
  const failures: [string, FaultAction][] = [
    ['500', { kind: 'status', status: 500 }],
    ['503', { kind: 'status', status: 503 }],
    ['408', { kind: 'status', status: 408 }],
    ['a dropped connection', { kind: 'drop' }],
  ];
  for (const [name, action] of failures) {
    it(`${name} on every poll: the polls, retries included, stay a second apart`, () =>
      withEmulator({ updateDurationMs: 60_000 }, async (em) => {
        em.controls.fault({ route: 'arm.operation', times: Infinity, action });
        const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'timeout-seconds': '10' });
        assert.equal(run.code, 1);
        assert.equal(results(run)[0]?.write, 'accepted');
        const polls = em.log.arrived('arm.operation').map((a) => a.at);
        assert.ok(polls.length >= 2, `${polls.length} polls`);
        const gaps = polls.slice(1).map((at, i) => at - (polls[i] ?? 0));
        assert.ok(gaps.every((g) => g >= 980), `gaps between polls: ${gaps.join(', ')} ms`);
      }));
  }
});

describe('every retry that honours Retry-After keeps the floor', { concurrency: 2 }, () => {
  it("reads throttled with Retry-After: 0 (the SDK's own retries): tried again a second later at the soonest", () =>
    withEmulator({}, async (em) => {
      em.controls.fault({ route: 'arm.vmss.get', times: 3, action: { kind: 'status', status: 429, code: 'TooManyRequests', message: 'Too many requests.', retryAfter: 0 } });
      const run = await runAction(em, { ...web, operation: 'show' });
      assert.equal(run.code, 0, run.stdout);
      const reads = em.log.of('arm.vmss.get');
      assert.deepEqual(reads.map((e) => e.status), [429, 429, 429, 200]);
      const gaps = reads.slice(1).map((e, i) => e.at - (reads[i]?.at ?? 0));
      assert.ok(gaps.every((g) => g >= 980), `gaps between reads: ${gaps.join(', ')} ms`);
    }));

  it('a role assignment throttled with retry-after-ms: 0: tried again a second later at the soonest', () =>
    withEmulator({ edit: (seed) => seed.roleAssignments?.push({ principalId: DEPLOYER_OBJECT_ID, role: 'Role Based Access Control Administrator', scope: RG }) }, async (em) => {
      em.controls.fault({ route: 'arm.roleAssignment.put', times: 2, action: { kind: 'status', status: 429, code: 'TooManyRequests', message: 'Too many requests.', headers: { 'retry-after-ms': '0' } } });
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'role-assignments': `Reader at ${RG}` });
      assert.equal(run.code, 0, run.stdout);
      const puts = em.log.of('arm.roleAssignment.put');
      assert.deepEqual(puts.map((e) => e.status), [429, 429, 201]);
      const gaps = puts.slice(1).map((e, i) => e.at - (puts[i]?.at ?? 0));
      assert.ok(gaps.every((g) => g >= 980), `gaps between role assignment writes: ${gaps.join(', ')} ms`);
    }));
});
