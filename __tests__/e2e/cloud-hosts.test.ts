// Tokens go only to the hosts of their cloud. The audience policy: a custom cloud that signs in
// at Microsoft's Entra ID gets no token for one of Microsoft's own resources (src/cloud.ts,
// src/audience-policy.ts). The host policy: the sign-in's requests go only to its login
// endpoint (src/azure/sign-in.ts). Microsoft's login host is the emulator's, through its proxy.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Emulator } from '../../emulator/server.ts';
import { withEmulator } from '../support/emulator.ts';
import { runAction, type RunOptions } from '../support/run-action.ts';
import { json, startScripted } from '../support/scripted-server.ts';
import { errorLine } from '../support/outcome.ts';

const web = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web' };
const STACK_AUDIENCE = 'https://management.contoso.onmicrosoft.com/81a55b53-ac16-4d07-9d0e-e8d4b5c2a3f1/';

/** The emulator's metadata, as a custom cloud that signs in at Microsoft's Entra ID would publish it. */
function microsoftLoginMetadata(em: Emulator, audience: string): void {
  em.controls.fault({
    route: 'arm.metadata',
    times: Infinity,
    action: {
      kind: 'rewrite',
      body: (body) => (body as { authentication: object }[]).map((c) => ({ ...c, authentication: { ...c.authentication, loginEndpoint: 'https://login.microsoftonline.com/', audiences: [audience] } })),
    },
  });
}

/** login.microsoftonline.com is the emulator's (proxy mode); the custom ARM and GitHub stay direct. */
const throughProxy = (em: Emulator): RunOptions => ({ env: { HTTPS_PROXY: em.urls.proxy, NO_PROXY: '127.0.0.1' } });

describe('audience policy: no token for Microsoft resources from a custom cloud', { concurrency: 3 }, () => {
  it("metadata naming an audience no list knows (https://api.some-new-service.example/) with Microsoft's login: refused, an input may name it", () =>
    withEmulator({}, async (em) => {
      microsoftLoginMetadata(em, 'https://api.some-new-service.example/');
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' }, throughProxy(em));
      assert.equal(run.code, 1);
      assert.match(errorLine(run), /asks for tokens with audience 'https:\/\/api\.some-new-service\.example\/' from Microsoft's Entra ID at login\.microsoftonline\.com\. A custom cloud's metadata may only name an app registered in a tenant .* give it in resource-manager-audience\./);
      assert.deepEqual(em.log.arrived('entra.token'), [], 'no token was requested');
      assert.equal(em.log.writes().length, 0);
    }));

  for (const audience of ['https://graph.microsoft.com/', 'https://management.azure.com:443/', 'https://vault.azure.net']) {
    it(`metadata naming ${audience} with Microsoft's login: refused before any token is asked`, () =>
      withEmulator({}, async (em) => {
        microsoftLoginMetadata(em, audience);
        const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' }, throughProxy(em));
        assert.equal(run.code, 1);
        assert.match(errorLine(run), new RegExp(`The metadata of 'https://127\\.0\\.0\\.1:\\d+' asks for tokens with (AzureCloud's )?audience '${audience.replace(/[.:/]/g, '\\$&')}'`));
        assert.match(errorLine(run), /so the action (never asks for one to send|will not send one) to 127\.0\.0\.1:\d+/);
        assert.deepEqual(em.log.of('entra.token'), [], 'no token was requested');
        assert.deepEqual(em.log.of('arm').map((e) => e.route), ['arm.metadata']);
        assert.equal(run.outputs['changed'], 'false');
      }));
  }

  it('resource-manager-audience naming a Microsoft resource is refused before any request', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'resource-manager-audience': 'https://storage.azure.com/' }, throughProxy(em));
      assert.equal(run.code, 1);
      assert.match(errorLine(run), /Input 'resource-manager-audience': 'https:\/\/storage\.azure\.com\/' names a Microsoft service \(storage\.azure\.com, under azure\.com\)/);
      assert.deepEqual(em.log.entries, []);
    }));

  it("an Azure Stack Hub audience with Microsoft's login: signs in and changes the scale set", () =>
    withEmulator({ audiences: [STACK_AUDIENCE] }, async (em) => {
      microsoftLoginMetadata(em, STACK_AUDIENCE);
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' }, throughProxy(em));
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.equal(run.outputs['changed'], 'true');
      assert.match(run.stdout, /Custom cloud 127\.0\.0\.1:\d+: token audience https:\/\/management\.contoso\.onmicrosoft\.com\/81a55b53-ac16-4d07-9d0e-e8d4b5c2a3f1\/, login endpoint https:\/\/login\.microsoftonline\.com/);
      const token = em.log.of('entra.token');
      assert.equal(token.length, 1);
      assert.equal(token[0]?.host, 'login.microsoftonline.com');
      assert.equal(em.log.of('arm.vmss.patch').length, 1);
    }));
});

describe('host policy: the sign-in goes only to its login endpoint', { concurrency: 2 }, () => {
  it('a login endpoint whose discovery document names a token endpoint on another host: refused, nothing sent there', () =>
    withEmulator({}, async (em) => {
      const elsewhere = await startScripted(em, () => json(400, { error: 'invalid_client', error_description: 'AADSTS700016: captured.' }));
      const login = await startScripted(em, (req, origin) => {
        const tenant = req.path.split('/')[1] ?? 'common';
        if (!req.path.includes('/.well-known/openid-configuration')) return json(404, { error: 'not_found' });
        return json(200, {
          token_endpoint: `${elsewhere.origin}/${tenant}/oauth2/v2.0/token`,
          authorization_endpoint: `${origin}/${tenant}/oauth2/v2.0/authorize`,
          end_session_endpoint: `${origin}/${tenant}/oauth2/v2.0/logout`,
          jwks_uri: `${origin}/${tenant}/discovery/v2.0/keys`,
          issuer: `${origin}/${tenant}/v2.0`,
          response_types_supported: ['code', 'id_token'],
          token_endpoint_auth_methods_supported: ['private_key_jwt'],
        });
      });
      try {
        const bundle = `${login.caBundle}.both`;
        writeFileSync(bundle, `${readFileSync(login.caBundle, 'utf8')}\n${readFileSync(elsewhere.caBundle, 'utf8')}`);
        const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'authority-host': login.origin, 'timeout-seconds': '30' }, { withoutEndpoint: true, env: { NODE_EXTRA_CA_CERTS: bundle } });
        assert.equal(run.code, 1);
        assert.deepEqual(elsewhere.requests.map((r) => `${r.method} ${r.path}`), [], 'the other host received nothing');
        const loginHost = new URL(login.origin).host.replace(/[.]/g, '\\.');
        const otherHost = new URL(elsewhere.origin).host.replace(/[.]/g, '\\.');
        assert.match(errorLine(run), new RegExp(`The sign-in at ${loginHost} was directed to ${otherHost} \\(POST /[^/]+/oauth2/v2\\.0/token\\), outside ${loginHost}\\. The action refused the request: nothing was sent to ${otherHost}\\.`));
        assert.ok(login.requests.some((r) => r.path.includes('openid-configuration')), 'the discovery document was read');
        assert.equal(run.outputs['changed'], 'false');
        assert.equal(em.log.writes().length, 0);
      } finally {
        await login.stop();
        await elsewhere.stop();
      }
    }));
});
