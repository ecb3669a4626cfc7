// A closed environment (src/environment.ts): variables an earlier step can set through
// GITHUB_ENV do not move the sign-in. Each region variable points at a loopback capture server
// in the form an attacker would use (`host/steal?r=`, which MSAL puts in front of the login
// host); the token request must still reach the emulator's Entra ID, and the capture server
// must receive nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Emulator } from '../../emulator/server.ts';
import { withEmulator } from '../support/emulator.ts';
import { runAction, type ActionRun } from '../support/run-action.ts';
import { startScripted } from '../support/scripted-server.ts';

const WORKFLOW = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', operation: 'show' };

const warnings = (run: ActionRun) => run.stdout.split('\n').filter((l) => l.startsWith('::warning'));

/** The sign-in went to the login host it should have, and nothing else was tried. */
function signedInAtEntra(em: Emulator, host: string): void {
  const tokens = em.log.of('entra.token');
  assert.ok(tokens.length >= 1, 'the token request reached Entra ID');
  for (const t of tokens) assert.equal(t.host, host, 'on the expected host');
  assert.deepEqual(em.log.refusedConnects, [], 'no other host was tried through the proxy');
}

describe('a closed environment: region variables do not move the sign-in', { concurrency: 2 }, () => {
  for (const variable of ['AZURE_REGIONAL_AUTHORITY_NAME', 'MSAL_FORCE_REGION']) {
    it(`${variable} pointing at another host: removed with a warning, the token request still goes to Entra ID`, () =>
      withEmulator({}, async (em) => {
        const capture = await startScripted(em, () => ({ status: 404 }));
        try {
          const env = {
            [variable]: `${new URL(capture.origin).host}/steal?r=`,
            HTTPS_PROXY: em.urls.proxy,
            NO_PROXY: '127.0.0.1',
            NODE_EXTRA_CA_CERTS: capture.caBundle,
          };
          const run = await runAction(em, WORKFLOW, { withoutEndpoint: true, env });
          assert.deepEqual(capture.requests.map((r) => `${r.method} ${r.path}`), [], 'the capture server received nothing');
          assert.equal(run.code, 0, run.stdout + run.stderr);
          signedInAtEntra(em, 'login.microsoftonline.com');
          const named = warnings(run).filter((l) => l.includes(variable));
          assert.equal(named.length, 1, warnings(run).join('\n'));
          assert.match(named[0] ?? '', /title=Environment variable removed::The environment variable \w+ is set .*removed it/);
          assert.ok(!named[0]?.includes('steal'), 'the warning names the variable, not its value');
        } finally {
          await capture.stop();
        }
      }));
  }
});

describe('a closed environment: certificate checks stay on', () => {
  it('NODE_TLS_REJECT_UNAUTHORIZED=0 is removed: a host whose certificate the runner does not trust gets no request', () =>
    withEmulator({}, async (em) => {
      // No NODE_EXTRA_CA_CERTS: the emulator stands for an impostor the runner does not trust.
      const run = await runAction(em, WORKFLOW, { env: { NODE_TLS_REJECT_UNAUTHORIZED: '0', NODE_EXTRA_CA_CERTS: undefined } });
      assert.deepEqual(em.log.entries.map((e) => e.route), [], 'no request got through the TLS handshake');
      assert.equal(run.code, 1);
      assert.equal(warnings(run).filter((l) => l.includes('NODE_TLS_REJECT_UNAUTHORIZED')).length, 1, warnings(run).join('\n'));
    }));
});
