// The Azure SDK's log cannot print a secret (src/sdk-log.ts). Behind a proxy the SDK's request
// log serialises the proxy agent, whose sockets hold the previous request's headers,
// Authorization included; with access tokens that expire every two seconds and a scale-set
// update that takes longer than that, refreshed tokens travel in those headers. runAction fails
// the test if any token the emulator issued (or any part of one) appears in stderr.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Emulator } from '../../emulator/server.ts';
import { scaleSet, SUB, withEmulator } from '../support/emulator.ts';
import { runAction, type ActionRun } from '../support/run-action.ts';

const WORKFLOW = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'identity-type': 'SystemAssigned' };

function behindProxy(em: Emulator, env: Record<string, string>): Promise<ActionRun> {
  em.controls.github.lifetimeSeconds = 10;
  em.controls.entra.accessTokenLifetimeSeconds = 2;
  return runAction(em, WORKFLOW, { withoutEndpoint: true, env: { HTTPS_PROXY: em.urls.proxy, NODE_EXTRA_CA_CERTS: em.caPath, NO_PROXY: '127.0.0.1', ...env } });
}

/** The SDK logged requests through the proxy, tokens were refreshed, and no object's insides were printed. */
function loggedWithoutInternals(em: Emulator, run: ActionRun): void {
  assert.equal(run.code, 0, run.stdout + run.stderr);
  assert.ok(scaleSet(em, 'vmss-web').identity.system, 'the change was made');
  assert.ok(em.log.of('entra.token').filter((e) => e.status === 200).length >= 2, 'access tokens were refreshed during the run');
  const has = (line: RegExp, what: string) => assert.ok(line.test(run.stderr), `stderr has ${what}`);
  has(/^azure:arm-compute:info Request: GET https:\/\/management\.azure\.com\/subscriptions\/\S+ \{.*"authorization":"REDACTED"/m, 'a GET of the scale set');
  has(/^azure:arm-compute:info Request: PATCH https:\/\/management\.azure\.com\//m, 'the PATCH');
  has(/^azure:core-rest-pipeline:info Request: POST https:\/\/login\.microsoftonline\.com\//m, 'the token requests');
  has(/^azure:identity:info ClientAssertionCredential => getToken\(\) => SUCCESS/m, "the credential's outcome");
  for (const inside of ['HttpsProxyAgent', '_header', '"sockets"', 'Bearer ey']) assert.ok(!run.stderr.includes(inside), `stderr shows ${inside}`);
  assert.ok(!/^\s*::/m.test(run.stderr), 'no stderr line is a workflow command');
}

describe('the SDK log behind a proxy, with tokens refreshed every 2 s, prints no token', { concurrency: 3 }, () => {
  it('AZURE_LOG_LEVEL=info', () =>
    withEmulator({ updateDurationMs: 5000 }, async (em) => {
      const run = await behindProxy(em, { AZURE_LOG_LEVEL: 'info' });
      loggedWithoutInternals(em, run);
    }));

  it('AZURE_LOG_LEVEL=verbose, DEBUG=*: MSAL verbose lines come through the writer; the debug package stays off', () =>
    withEmulator({ updateDurationMs: 5000 }, async (em) => {
      const run = await behindProxy(em, { AZURE_LOG_LEVEL: 'verbose', DEBUG: '*' });
      loggedWithoutInternals(em, run);
      assert.ok(/^azure:identity:info .*MSAL Node V2 verbose message/m.test(run.stderr), "MSAL's verbose lines");
      // DEBUG is removed before the SDK loads: neither @typespec/ts-http-runtime's own namespaces nor
      // the debug package (the proxy agents; it starts each line with the date) print anything.
      const stray = run.stderr.split('\n').filter((l) => /typeSpecRuntime|proxy-agent|agent-base|TUNNEL|^\d{4}-\d\d-\d\dT/.test(l));
      assert.deepEqual(stray, []);
      assert.match(run.stdout, /::warning title=Environment variable removed::The environment variable DEBUG is set/);
    }));

  it('RUNNER_DEBUG=1 without AZURE_LOG_LEVEL turns the SDK log on at info', () =>
    withEmulator({ updateDurationMs: 5000 }, async (em) => {
      const run = await behindProxy(em, { RUNNER_DEBUG: '1' });
      loggedWithoutInternals(em, run);
      assert.ok(!/^azure:[\w:-]+:verbose /m.test(run.stderr), 'info, not verbose');
    }));

  it('a subscription in another tenant: its tokens are redacted too', () => {
    const TENANT2 = '7e2a0000-aaaa-4bbb-8ccc-000000000002';
    const SUB4 = '5c0ffee0-4444-4333-8444-000000000004';
    return withEmulator({
      updateDurationMs: 3000,
      edit: (seed) => {
        seed.tenants?.push({ id: TENANT2, apps: [{ clientId: '11111111-aaaa-4bbb-8ccc-000000000001', objectId: '22222222-aaaa-4bbb-8ccc-0000000000f2', federatedCredentials: [{ subject: 'repo:octo-org/octo-repo:ref:refs/heads/main' }] }] });
        seed.subscriptions?.push({ id: SUB4, tenantId: TENANT2, resourceGroups: [{ name: 'rg-west', location: 'westus' }] });
        seed.scaleSets?.push({ subscriptionId: SUB4, resourceGroup: 'rg-west', name: 'web-6', tags: { role: 'web' } });
        seed.roleAssignments?.push({ principalId: '22222222-aaaa-4bbb-8ccc-0000000000f2', role: 'Virtual Machine Contributor', scope: `/subscriptions/${SUB4}` });
      },
    }, async (em) => {
      em.controls.entra.accessTokenLifetimeSeconds = 2;
      const inputs = { 'vmss-name': '*web*', 'resource-group': '*', 'subscription-id': `${SUB}\n${SUB4}`, 'identity-type': 'SystemAssigned' };
      const run = await runAction(em, inputs, { withoutEndpoint: true, env: { HTTPS_PROXY: em.urls.proxy, NODE_EXTRA_CA_CERTS: em.caPath, NO_PROXY: '127.0.0.1', AZURE_LOG_LEVEL: 'info' } });
      assert.equal(run.code, 0, run.stdout);
      assert.ok(em.log.of('entra.token').some((e) => e.status === 200 && e.path.includes(TENANT2)), 'signed in to the second tenant');
      assert.equal(em.log.of('arm.vmss.patch').filter((e) => e.status === 200).length, 2, 'vmss-web and web-6 changed');
      assert.ok(/^azure:[\w-]+:info Request: GET https:\/\/management\.azure\.com\/subscriptions\/5c0ffee0-4444/m.test(run.stderr), 'its requests are logged');
    });
  });
});
