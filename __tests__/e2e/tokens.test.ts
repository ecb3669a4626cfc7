// Tokens only where they belong: a capture server posing as ARM or as the login host, a
// nextLink or operation URL on another host, token claims and list answers in the log, and
// endpoint variables an earlier step set.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RG, SUB, vmssId, withEmulator } from '../support/emulator.ts';
import { runAction } from '../support/run-action.ts';
import { claimsOf, json, startScripted, type Captured } from '../support/scripted-server.ts';
import { canGrant, errorLine, results } from '../support/outcome.ts';

const web = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web' };

/** Every JWT-looking value a captured request carried: bearer tokens and client assertions. */
function tokensIn(requests: Captured[]): string[] {
  return requests.flatMap((r) => [String(r.headers['authorization'] ?? ''), r.body].join(' ').match(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g) ?? []);
}
const MICROSOFT_AUDIENCES = /management\.azure\.com|management\.core\.windows\.net|AzureADTokenExchange/i;

describe('tokens only where they belong', { concurrency: 4 }, () => {
  it("a capture server as resource-manager-endpoint that claims Azure's audience gets no token", () =>
    withEmulator({}, async (em) => {
      const capture = await startScripted(em, (req) => (req.path.startsWith('/metadata/endpoints')
        ? json(200, [{ name: 'AzureCloud', resourceManager: 'https://management.azure.com/', authentication: { loginEndpoint: 'https://login.microsoftonline.com/', audiences: ['https://management.core.windows.net/', 'https://management.azure.com/'] } }])
        : json(404, {})));
      try {
        const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'resource-manager-endpoint': capture.origin }, { env: { NODE_EXTRA_CA_CERTS: capture.caBundle } });
        assert.equal(run.code, 1);
        assert.match(errorLine(run), /asks for tokens with AzureCloud's audience 'https:\/\/management\.core\.windows\.net\/'\. Such a token is valid against AzureCloud, so the action will not send one to 127\.0\.0\.1:\d+/);
        assert.deepEqual(capture.requests.map((r) => r.path.split('?')[0]), ['/metadata/endpoints']);
        assert.equal(capture.requests[0]?.headers['authorization'], undefined);
        assert.equal(em.log.of('entra').length + em.log.of('github').length, 0, 'no sign-in was even attempted');
      } finally {
        await capture.stop();
      }
    }));

  it('a capture server as authority-host never receives a GitHub token Microsoft would accept', () =>
    withEmulator({}, async (em) => {
      // A login host that plays along: its discovery document names its own token endpoint, so
      // the sign-in does post an assertion to it (and the test sees which audience that carries).
      const capture = await startScripted(em, (req, origin) => {
        const tenant = req.path.split('/')[1] ?? 'common';
        if (req.path.includes('/.well-known/openid-configuration')) {
          return json(200, { issuer: `${origin}/${tenant}/v2.0`, authorization_endpoint: `${origin}/${tenant}/oauth2/v2.0/authorize`, token_endpoint: `${origin}/${tenant}/oauth2/v2.0/token`, jwks_uri: `${origin}/${tenant}/discovery/v2.0/keys`, response_types_supported: ['code'], subject_types_supported: ['pairwise'], id_token_signing_alg_values_supported: ['RS256'] });
        }
        return json(400, { error: 'invalid_client', error_description: 'AADSTS700016: capture server refuses every assertion.', error_codes: [700016] });
      });
      try {
        // With Microsoft's exchange audience: refused before any request.
        const refused = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'authority-host': capture.origin, audience: 'api://AzureADTokenExchange' }, { withoutEndpoint: true, env: { NODE_EXTRA_CA_CERTS: capture.caBundle } });
        assert.equal(refused.code, 1);
        assert.match(errorLine(refused), /Input 'audience': 'api:\/\/AzureADTokenExchange' is what AzureCloud's Entra ID accepts.*will not send it to 127\.0\.0\.1:\d+, which is not a Microsoft login host/);
        assert.equal(capture.requests.length + em.log.entries.length, 0);
        // Without: the sign-in goes there with a token meant for that host alone, named in the log, and fails cleanly.
        const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'authority-host': capture.origin }, { withoutEndpoint: true, env: { NODE_EXTRA_CA_CERTS: capture.caBundle } });
        assert.equal(run.code, 1);
        assert.match(run.stdout, new RegExp(`The GitHub OIDC token \\(audience ${capture.origin.replace(/[.:/]/g, '\\$&')}\\) goes to 127\\.0\\.0\\.1:\\d+`));
        const assertions = tokensIn(capture.requests);
        assert.ok(assertions.length >= 1, `the capture server received ${assertions.length} assertions: ${capture.requests.map((r) => r.path).join(', ')}`);
        for (const token of assertions) assert.equal(claimsOf(token)['aud'], capture.origin, 'a token meant for that host alone');
        for (const token of assertions) assert.doesNotMatch(JSON.stringify(claimsOf(token)['aud']), MICROSOFT_AUDIENCES);
        assert.match(errorLine(run), /AADSTS700016/);
        assert.equal(em.log.writes().length, 0);
      } finally {
        await capture.stop();
      }
    }));

  it("an authority-host that disagrees with the custom cloud's metadata is refused before sign-in", () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'authority-host': 'https://login.example.test' });
      assert.equal(run.code, 1);
      assert.match(errorLine(run), /Input 'authority-host': 'https:\/\/login\.example\.test' disagrees with the login endpoint 'https:\/\/127\.0\.0\.1:\d+' that .*\/metadata\/endpoints names/);
      // GitHub may have been asked for a token already (it leaves early); it went nowhere.
      assert.deepEqual(em.log.entries.map((e) => e.route).filter((r) => r !== 'github.token'), ['arm.metadata']);
    }));

  it('token claims are never logged verbatim: a subject carrying a workflow command is escaped', () =>
    withEmulator({ edit: (seed) => (seed.github = { repository: 'octo-org/octo-repo', environment: 'prod\n::error::forged' }) }, async (em) => {
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 1);
      assert.ok(!run.stdout.split('\n').some((l) => l.startsWith('::error::forged')), run.stdout);
      assert.match(run.stdout, /subject repo:octo-org\/octo-repo:environment:prod\\n\S*forged/, 'the line break is spelled out');
    }));

  it("a list page whose nextLink points at another host is not followed: no token goes there", () =>
    withEmulator({}, async (em) => {
      const capture = await startScripted(em, () => json(200, { value: [] }));
      const arm = await startScripted(em, (req, origin) => {
        if (req.path.startsWith('/metadata/endpoints')) return json(200, [{ resourceManager: `${origin}/`, authentication: { loginEndpoint: `${em.origin}/`, audiences: ['https://management.scripted.localhost/'] } }]);
        return json(200, { value: [], nextLink: `${capture.origin}/subscriptions/${SUB}/providers/Microsoft.Compute/virtualMachineScaleSets?api-version=2024-11-01&$skiptoken=2` });
      });
      try {
        const bundle = `${arm.caBundle}.both`;
        const { readFileSync, writeFileSync } = await import('node:fs');
        writeFileSync(bundle, `${readFileSync(arm.caBundle, 'utf8')}\n${readFileSync(capture.caBundle, 'utf8')}`);
        const run = await runAction(em, { 'vmss-name': 'web-*', 'resource-group': '*', 'identity-type': 'SystemAssigned', 'resource-manager-endpoint': arm.origin }, { env: { NODE_EXTRA_CA_CERTS: bundle } });
        assert.equal(run.code, 1);
        assert.match(errorLine(run), /a list answer's next page pointed at 127\.0\.0\.1:\d+, outside 127\.0\.0\.1:\d+; the action does not follow it/);
        assert.equal(capture.requests.length, 0);
      } finally {
        await arm.stop();
        await capture.stop();
      }
    }));

  it("the check phase's lists (permissions, role assignments) do not follow a nextLink to another host: no token goes there", () =>
    withEmulator({ edit: canGrant }, async (em) => {
      const capture = await startScripted(em, () => json(200, { value: [] }));
      try {
        const elsewhere = { kind: 'rewrite' as const, body: (body: unknown) => ({ ...(body as object), nextLink: `${capture.origin}/steal?api-version=2022-04-01` }) };
        em.controls.fault({ route: 'arm.permissions.get', times: Infinity, action: elsewhere });
        em.controls.fault({ route: 'arm.roleAssignments.list', times: Infinity, action: elsewhere });
        const env = { env: { NODE_EXTRA_CA_CERTS: capture.caBundle } };
        const roles = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-api', 'identity-type': 'SystemAssigned', 'role-assignments': `Reader at ${RG}` }, env);
        assert.ok(em.log.of('arm.roleAssignments.list').length > 0, 'the role assignments were listed');
        assert.match(errorLine(roles), /the list's next page points outside 127\.0\.0\.1:\d+, and the action sends its token nowhere else/);
        const permissions = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'identity-type': 'SystemAssigned' }, env);
        assert.ok(em.log.of('arm.permissions.get').length > 0, 'the permissions were read');
        assert.match(permissions.stdout, /::warning title=Permissions not confirmed::.*next page points outside 127\.0\.0\.1:\d+; the action does not follow it/);
        assert.equal(capture.requests.length, 0);
      } finally {
        await capture.stop();
      }
    }));

  it('an operation URL on another host is not polled: no token goes there', () =>
    withEmulator({}, async (em) => {
      const capture = await startScripted(em, () => json(200, { status: 'Succeeded' }));
      const arm = await startScripted(em, (req, origin) => {
        if (req.path.startsWith('/metadata/endpoints')) return json(200, [{ resourceManager: `${origin}/`, authentication: { loginEndpoint: `${em.origin}/`, audiences: ['https://management.scripted.localhost/'] } }]);
        if (req.method === 'PATCH') return { ...json(200, { identity: { type: 'SystemAssigned' } }), headers: { 'azure-asyncoperation': `${capture.origin}/op`, location: `${capture.origin}/loc` } };
        return json(200, { id: vmssId('vmss-web'), etag: '"1"', identity: { type: 'None' }, properties: { provisioningState: 'Succeeded', orchestrationMode: 'Uniform' } });
      });
      try {
        const { readFileSync, writeFileSync } = await import('node:fs');
        const bundle = `${arm.caBundle}.both`;
        writeFileSync(bundle, `${readFileSync(arm.caBundle, 'utf8')}\n${readFileSync(capture.caBundle, 'utf8')}`);
        const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'resource-manager-endpoint': arm.origin }, { env: { NODE_EXTRA_CA_CERTS: bundle } });
        assert.equal(run.code, 1);
        assert.match(errorLine(run), /an operation status URL pointed at 127\.0\.0\.1:\d+, outside 127\.0\.0\.1:\d+; the action does not follow it/);
        assert.equal(capture.requests.length, 0);
        assert.equal(results(run)[0]?.write, 'accepted', 'the write itself was accepted');
      } finally {
        await arm.stop();
        await capture.stop();
      }
    }));

  it('tags and names from list answers cannot start a workflow command', () =>
    withEmulator({ edit: (seed) => seed.scaleSets?.push({ subscriptionId: SUB, resourceGroup: 'rg-prod', name: 'web-evil', tags: { owner: `x\n::add-mask::${SUB}\n::error title=forged::tag injected` } }) }, async (em) => {
      const run = await runAction(em, { 'vmss-name': 'web-*', 'resource-group': '*', operation: 'show' });
      assert.equal(run.code, 0, run.stdout);
      const lines = run.stdout.split('\n');
      assert.ok(!lines.some((l) => l.startsWith('::error title=forged') || l === `::add-mask::${SUB}`), run.stdout);
      assert.match(run.stdout, /owner=x\\n::add-mask::/);
      assert.match(run.outputs['results'] ?? '', new RegExp(SUB), 'the subscription id stays in the outputs');
    }));

  it('AZURE_* endpoint variables set by an earlier step are ignored', () =>
    withEmulator({}, async (em) => {
      const capture = await startScripted(em, () => json(404, {}));
      try {
        const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' }, { env: { AZURE_RESOURCE_MANAGER_ENDPOINT: capture.origin, AZURE_AUTHORITY_HOST: capture.origin, NODE_EXTRA_CA_CERTS: capture.caBundle } });
        assert.equal(run.code, 0, run.stdout);
        assert.equal(capture.requests.length, 0);
      } finally {
        await capture.stop();
      }
    }));
});
