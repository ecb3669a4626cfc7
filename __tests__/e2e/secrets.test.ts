// No token ever reaches the log, an output or the summary. runAction() checks this after
// every run in every end-to-end test; this file proves the check bites and covers the
// remaining paths (debug logging on, failures after sign-in).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withEmulator } from '../support/emulator.ts';
import { findLeaks, findLeaksInFiles, runAction } from '../support/run-action.ts';

describe('secrets', () => {
  it('the leak check finds a token anywhere it could appear', () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm9jdG8tb3JnL29jdG8tcmVwbyJ9.c2lnbmF0dXJlLW9mLWF0LWxlYXN0LXR3ZW50eS1jaGFycw';
    const clean = { stdout: `::add-mask::${token}\nhello`, stderr: '', outputs: {}, summary: '' };
    assert.deepEqual(findLeaks(clean, [token]), []);
    assert.deepEqual(findLeaks({ ...clean, stdout: `token ${token}` }, [token]), ['log']);
    assert.deepEqual(findLeaks({ ...clean, summary: token.split('.')[2] ?? '' }, [token]), ['summary']);
    assert.deepEqual(findLeaks({ ...clean, outputs: { x: token } }, [token]), ['outputs']);
    assert.deepEqual(findLeaksInFiles({ 'home/.cache/msal.json': `{"secret":"${token.split('.')[2] ?? ''}"}`, output: 'changed=true' }, [token]), ['file home/.cache/msal.json']);
  });

  it('with step debug logging on, through a change and a failure, nothing leaks', () =>
    withEmulator({}, async (em) => {
      const debug = { env: { RUNNER_DEBUG: '1', ACTIONS_STEP_DEBUG: 'true' } };
      const ok = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'identity-type': 'SystemAssigned, UserAssigned', 'user-assigned-ids': 'id-app' }, debug);
      assert.equal(ok.code, 0, ok.stdout);
      const failed = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', operation: 'assign', 'user-assigned-ids': 'id-ghost' }, debug);
      assert.equal(failed.code, 1);
      assert.ok(em.issuedTokens().length >= 4, 'tokens were issued and checked');
      // Every issued token was masked before anything could print it.
      for (const token of em.issuedTokens().slice(0, 2)) assert.ok((ok.stdout + failed.stdout).includes(`::add-mask::${token}`));
    }));

  it('an answer that echoes a token back: the writer prints *** in its place, masked or not', () =>
    withEmulator({}, async (em) => {
      // A hostile (or careless) Entra ID quotes the client assertion it was sent in its error.
      em.controls.fault({ route: 'entra.token', times: Infinity, action: { kind: 'rewrite', body: () => ({ error: 'invalid_client', error_description: `AADSTS50027: JWT token is invalid: ${em.issuedTokens()[0] ?? ''}`, error_codes: [50027] }) } });
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 1);
      assert.ok(em.issuedTokens().length >= 1, 'a GitHub token was issued');
      assert.match(run.stdout, /AADSTS50027: JWT token is invalid: \*\*\*/, 'the token was replaced, not dropped with its message');
    }));
});
