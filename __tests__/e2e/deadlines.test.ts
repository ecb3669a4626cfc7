// Every wait obeys the run's deadline and the runner's signals, even where no request has an
// answer to wait for yet (a TLS handshake that never completes); and status polls keep their
// floor of one a second per operation whatever Retry-After says.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { withEmulator } from '../support/emulator.ts';
import { runAction, type ActionRun } from '../support/run-action.ts';

const web = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web' };
interface Result { scaleSet: string; changed: boolean; write: string; error?: string }
const results = (run: ActionRun) => JSON.parse(run.outputs['results'] ?? 'null') as Result[];
const errorLine = (run: ActionRun) => (run.stdout.split('\n').find((l) => l.startsWith('::error::')) ?? '').replace(/%0A/g, '\n').replace(/%25/g, '%');

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
  it('timeout-seconds 10: the step ends by the deadline + 2 s, outputs written', () =>
    withEmulator({}, async (em) => {
      const arm = await silentServer();
      try {
        const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'resource-manager-endpoint': arm.origin, 'timeout-seconds': '10' });
        assert.equal(run.code, 1);
        assert.ok(arm.connections() >= 1, 'the metadata read reached the server');
        assert.ok(run.durationMs < 12_000, `took ${run.durationMs} ms`);
        assert.match(errorLine(run), /Timed out after 10 s \(timeout-seconds\)\. The step stopped while signing in; nothing was written to Azure\./);
        assert.equal(run.outputs['changed'], 'false');
        assert.match(results(run)[0]?.error ?? '', /Timed out after 10 s/);
        assert.equal(em.log.of('entra').length, 0);
      } finally {
        await arm.stop();
      }
    }));

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} once the connection is held: exits within 2 s, outputs written`, () =>
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
