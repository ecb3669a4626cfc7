// The promises that break first at the edges: deadlines and cancels during sign-in, truthful
// `changed` and write states, outputs on every path, tokens only where they belong, error
// bodies of every shape, and rules checked before any write.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RG, SUB, identitySummary, scaleSet, uai, vmssId, withEmulator } from '../support/emulator.ts';
import { runAction } from '../support/run-action.ts';
import { claimsOf, json, startScripted, type Captured } from '../support/scripted-server.ts';
import { canGrant, errorLine, results, stopTiming } from '../support/outcome.ts';

const web = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web' };

/** Every JWT-looking value a captured request carried: bearer tokens and client assertions. */
function tokensIn(requests: Captured[]): string[] {
  return requests.flatMap((r) => [String(r.headers['authorization'] ?? ''), r.body].join(' ').match(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g) ?? []);
}
const MICROSOFT_AUDIENCES = /management\.azure\.com|management\.core\.windows\.net|AzureADTokenExchange/i;

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

describe('changed and write tell the truth', { concurrency: 4 }, () => {
  it('4 concurrent assigns of the same identity: exactly one changed=true', () =>
    withEmulator({ updateDurationMs: 200 }, async (em) => {
      // All four read before any writes: three of them meet 412, read again and find nothing to do.
      em.controls.fault({ route: 'arm.vmss.get', times: 4, action: { kind: 'hold', until: () => em.log.arrived('arm.vmss.get').length >= 4 } });
      const runs = await Promise.all(Array.from({ length: 4 }, () => runAction(em, { ...web, 'user-assigned-ids': 'id-app', 'timeout-seconds': '120' })));
      runs.forEach((run) => assert.equal(run.code, 0, run.stdout));
      assert.deepEqual(runs.map((r) => r.outputs['changed']).sort(), ['false', 'false', 'false', 'true']);
      assert.deepEqual(identitySummary(em, 'vmss-web').userAssigned, ['id-app']);
      assert.equal(em.log.of('arm.vmss.patch').filter((e) => e.status === 200).length, 1);
      assert.ok(em.log.of('arm.vmss.patch').some((e) => e.status === 412), 'the race must be provoked');
    }));

  it('connections lost while waiting are retried: the write completes and is reported once', () =>
    withEmulator({ updateDurationMs: 2000 }, async (em) => {
      em.controls.fault({ route: 'arm.operation', times: 2, action: { kind: 'drop' } });
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 0, run.stdout);
      assert.equal(run.outputs['changed'], 'true');
      assert.equal(results(run)[0]?.write, 'completed');
      assert.equal(em.log.of('arm.vmss.patch').length, 1);
    }));

  it('connection lost after Azure accepted the write, until the deadline: reported as accepted, with the operation [timing]', () =>
    withEmulator({ updateDurationMs: 60_000 }, async (em) => {
      em.controls.fault({ route: 'arm.operation', times: Infinity, action: { kind: 'drop' } });
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'timeout-seconds': '10' });
      assert.equal(run.code, 1);
      const timing = stopTiming(run);
      assert.ok(timing && timing.uptimeMs < 12_000 && timing.stopToExitMs < 2000, `the action's own clock: ${JSON.stringify(timing)} (deadline 10 s)`);
      assert.match(errorLine(run), /Timed out after 10 s \(timeout-seconds\)\. Azure had accepted the identity change to vmss-web and may still be completing it \(operation https:\/\/.*\/operations\/[0-9a-f-]{36}\)/);
      assert.doesNotMatch(run.stdout, /Azure rejected/);
      assert.equal(run.outputs['changed'], 'true');
      const [r] = results(run);
      assert.equal(r?.write, 'accepted');
      assert.match(r?.operationUrl ?? '', /\/operations\/[0-9a-f-]{36}/);
      assert.ok(em.log.of('arm.operation').length >= 2, 'kept asking after the first lost answer');
      assert.match(run.summary, /Azure accepted the change and had not finished it when the step ended/);
      assert.match(run.summary, /<li>Requested: enable the system-assigned identity<\/li>/);
      assert.doesNotMatch(run.summary, /<li>Enabled the system-assigned identity/);
    }));

  it('SIGTERM while the write is in flight: says it was sent and may have been applied [timing]', () =>
    withEmulator({}, async (em) => {
      // Azure applies the PATCH, then its answer is held back 5 s.
      em.controls.fault({ route: 'arm.vmss.patch', action: { kind: 'latency', ms: 5000, phase: 'after' } });
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' }, { signalWhen: { signal: 'SIGTERM', when: () => scaleSet(em, 'vmss-web').etag > 1 } });
      assert.notEqual(run.code, 0);
      assert.ok((run.exitAfterSignalMs ?? Infinity) < 2000, `exited ${run.exitAfterSignalMs} ms after the signal`);
      assert.ok((stopTiming(run)?.stopToExitMs ?? Infinity) < 2000, `the action's own clock: ${JSON.stringify(stopTiming(run))}`);
      assert.match(errorLine(run), /Cancelled by SIGTERM\. The identity change to vmss-web was sent and its answer had not arrived, so Azure may have applied it\./);
      assert.doesNotMatch(run.stdout, /Nothing was written/);
      assert.equal(results(run)[0]?.write, 'unconfirmed');
      assert.match(run.summary, /A change was sent and its answer never arrived/);
    }));

  it('SIGTERM while a role assignment PUT is in flight: says that role assignment was sent', () =>
    withEmulator({ edit: canGrant }, async (em) => {
      em.controls.fault({ route: 'arm.roleAssignment.put', action: { kind: 'latency', ms: 5000, phase: 'after' } });
      const before = em.state.roleAssignments.length;
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'role-assignments': `Reader at ${RG}` }, { signalWhen: { signal: 'SIGTERM', when: () => em.state.roleAssignments.length > before } });
      assert.notEqual(run.code, 0);
      assert.match(errorLine(run), /Cancelled by SIGTERM\. The identity change to vmss-web was completed before this\. The role assignment 'Reader' at \/subscriptions\/[^ ]+ was sent and its answer had not arrived, so it may have been applied\./);
      // What Azure holds: the identity, and the assignment the unanswered PUT did create.
      const principal = scaleSet(em, 'vmss-web').identity.system?.principalId;
      assert.ok(principal);
      assert.equal(em.state.roleAssignments.filter((a) => a.principalId === principal && a.scope === RG).length, 1);
      assert.equal(results(run)[0]?.changed, true);
      assert.equal(run.outputs['changed'], 'true');
    }));

  it('SIGTERM while waiting to retry a role assignment Azure refused (PrincipalNotFound): it is not said to be sent', () =>
    withEmulator({ edit: canGrant }, async (em) => {
      em.controls.fault({ route: 'arm.roleAssignment.put', times: 5, action: { kind: 'status', status: 400, code: 'PrincipalNotFound', message: 'Principal 00000000 does not exist in the directory.' } });
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'role-assignments': `Reader at ${RG}` }, { signalWhen: { signal: 'SIGTERM', when: () => em.log.of('arm.roleAssignment.put').length > 0 } });
      assert.notEqual(run.code, 0);
      assert.match(run.stdout, /is not visible to Azure RBAC yet/);
      assert.match(errorLine(run), /Cancelled by SIGTERM\. The identity change to vmss-web was completed before this\./);
      assert.doesNotMatch(errorLine(run), /role assignment/);
      const principal = scaleSet(em, 'vmss-web').identity.system?.principalId;
      assert.ok(principal, 'the identity change stands');
      assert.deepEqual(em.state.roleAssignments.filter((a) => a.principalId === principal), [], 'no role assignment was created');
    }));

  it('SIGTERM while looking for an existing role assignment: no role assignment is said to be sent [timing]', () =>
    withEmulator({ edit: canGrant }, async (em) => {
      // Once the identity change is done, the step looks for the assignment by its name before
      // any PUT: that read is held 5 s, and the signal comes once it has arrived.
      em.controls.fault({ route: 'arm.roleAssignment.get', action: { kind: 'latency', ms: 5000 } });
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'role-assignments': `Reader at ${RG}` }, { signalWhen: { signal: 'SIGTERM', when: () => em.faults.pending === 0 } });
      assert.notEqual(run.code, 0);
      assert.ok((run.exitAfterSignalMs ?? Infinity) < 2000, `exited ${run.exitAfterSignalMs} ms after the signal`);
      assert.ok((stopTiming(run)?.stopToExitMs ?? Infinity) < 2000, `the action's own clock: ${JSON.stringify(stopTiming(run))}`);
      assert.equal(em.log.of('arm.roleAssignment.put').length, 0);
      assert.match(errorLine(run), /Cancelled by SIGTERM\. The identity change to vmss-web was completed before this\./);
      assert.doesNotMatch(errorLine(run), /role assignment/);
    }));

  it('a failure after a write lists what was changed in the summary', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'role-assignments': `Reader at ${RG}/providers/Microsoft.Storage/storageAccounts/stprodweb` });
      assert.equal(run.code, 1);
      assert.match(errorLine(run), /Permission denied: could not grant 'Reader'.*The identity change to vmss-web was completed before this\./);
      assert.match(run.summary, /<li>Enabled the system-assigned identity<\/li>/);
      assert.match(run.summary, /<strong>Failed:<\/strong>/);
      assert.equal(run.outputs['changed'], 'true');
      const principal = scaleSet(em, 'vmss-web').identity.system?.principalId;
      assert.ok(principal);
      assert.equal(run.outputs['principal-id'], principal);
      assert.deepEqual(em.state.roleAssignments.filter((a) => a.principalId === principal), []);
    }));
});

describe('outputs on every path', { concurrency: 4 }, () => {
  it('after an input error: results and changed are written and parse', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...web, 'identity-type': 'Sometimes' });
      assert.equal(run.code, 1);
      const r = results(run);
      assert.equal(r.length, 1);
      assert.equal(r[0]?.scaleSet, vmssId('vmss-web'));
      assert.match(r[0]?.error ?? '', /Input 'identity-type': 'Sometimes' is not an identity type/);
      assert.equal(run.outputs['changed'], 'false');
      assert.equal(run.outputs['principal-ids'], '[]');
      assert.equal(em.log.entries.length, 0);
    }));

  it('after a sign-in failure: results carry the error for each scale set', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web, vmss-api', 'identity-type': 'SystemAssigned', 'client-id': '99999999-aaaa-4bbb-8ccc-000000000009' });
      assert.equal(run.code, 1);
      const r = results(run);
      assert.deepEqual(r.map((x) => [x.changed, x.write]), [[false, 'none'], [false, 'none']]);
      assert.ok(r.every((x) => /AADSTS700016/.test(x.error ?? '')));
      assert.equal(run.outputs['changed'], 'false');
    }));

  it('an audience the federated credential does not list: names the audience and the fix', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', audience: 'api://SomethingElse' });
      assert.equal(run.code, 1);
      assert.match(errorLine(run), /for the GitHub token's audience 'api:\/\/SomethingElse' \(AADSTS700212\)\. Set the audience input to the audience the federated credential lists/);
    }));

  it('fleet aggregates list each id once, in input order', () =>
    withEmulator({ edit: (seed) => { canGrant(seed); seed.scaleSets?.push({ subscriptionId: SUB, resourceGroup: 'rg-prod', name: 'vmss-web2' }); } }, async (em) => {
      const run = await runAction(em, {
        'resource-group': 'rg-prod', 'vmss-name': 'vmss-web, vmss-api, vmss-web2', 'user-assigned-ids': 'id-app',
        'role-assignments': `Reader at ${RG}`, 'role-assignee': 'id-app',
      });
      assert.equal(run.code, 0, run.stdout);
      const app = em.state.findUserAssignedIdentity(uai('id-app'));
      const apiSystem = scaleSet(em, 'vmss-api').identity.system?.principalId;
      assert.deepEqual(JSON.parse(run.outputs['principal-ids'] ?? ''), [app?.principalId, apiSystem]);
      assert.deepEqual(JSON.parse(run.outputs['client-ids'] ?? ''), [app?.clientId]);
      const roleIds = JSON.parse(run.outputs['role-assignment-ids'] ?? '') as string[];
      assert.equal(roleIds.length, 1, 'one assignment for the shared identity, listed once');
    }));

  it('show has one column in the summary', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { 'vmss-id': vmssId('vmss-api'), operation: 'show' });
      assert.equal(run.code, 0, run.stdout);
      assert.match(run.summary, /<th>Identity<\/th>/);
      assert.doesNotMatch(run.summary, /Before|After/);
    }));
});

describe('rules checked before any write', { concurrency: 4 }, () => {
  it('set with a role-assignee it would remove: refused before sign-in (issue scenario)', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, {
        'resource-group': 'rg-prod', 'vmss-name': 'vmss-api', operation: 'set', 'identity-type': 'UserAssigned', 'user-assigned-ids': 'id-logs',
        'role-assignee': 'id-app', 'role-assignments': `Reader at /subscriptions/${SUB}`,
      });
      assert.equal(run.code, 1);
      assert.match(errorLine(run), /Input 'role-assignee': 'id-app' is not in user-assigned-ids/);
      assert.equal(em.log.entries.length, 0);
      assert.deepEqual(identitySummary(em, 'vmss-api'), { system: true, userAssigned: ['id-app'] });
    }));

  it('assign with a role-assignee the scale set does not have and is not given: refused after the read, before any write', () =>
    withEmulator({ edit: canGrant }, async (em) => {
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web, vmss-api', 'user-assigned-ids': 'id-logs', 'role-assignee': 'id-app', 'role-assignments': `Reader at ${RG}` });
      assert.equal(run.code, 1);
      assert.match(run.stdout, /vmss-web: Input 'role-assignee': 'id-app' is not a user-assigned identity of scale set 'vmss-web', and operation 'assign' does not add it/);
      assert.match(run.stdout, /vmss-api: Not changed: every scale set is checked before any is written/);
      assert.equal(em.log.writes().length, 0);
      assert.doesNotMatch(run.stdout, /Azure accepted/);
    }));

  it('roles for a system identity the scale set will not have: refused before any write', () =>
    withEmulator({ edit: canGrant }, async (em) => {
      const run = await runAction(em, { ...web, 'user-assigned-ids': 'id-logs', 'role-assignments': `Reader at ${RG}` });
      assert.equal(run.code, 1);
      assert.match(errorLine(run), /scale set 'vmss-web' will have no system-assigned identity to grant roles to/);
      assert.equal(em.log.writes().length, 0);
    }));
});

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

describe('error bodies of every shape', { concurrency: 4 }, () => {
  it('a 429 without Retry-After from Microsoft.Authorization is backed off, then the role is granted', () =>
    withEmulator({ edit: canGrant }, async (em) => {
      em.controls.fault({ route: 'arm.roleAssignment.put', times: 2, action: { kind: 'status', status: 429, code: 'TooManyRequests', message: 'Too many requests.' } });
      const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'role-assignments': `Reader at ${RG}` });
      assert.equal(run.code, 0, run.stdout);
      const puts = em.log.of('arm.roleAssignment.put');
      assert.deepEqual(puts.map((e) => e.status), [429, 429, 201]);
      assert.ok((puts[1]?.at ?? 0) - (puts[0]?.at ?? 0) >= 500, 'waited before trying again');
      assert.equal(JSON.parse(run.outputs['role-assignment-ids'] ?? '[]').length, 1);
    }));

  /** An ARM stand-in whose tokens come from the emulator's Entra: a custom cloud with its own audience. */
  const fakeArm = (em: Parameters<typeof startScripted>[0], answer: (req: Captured) => ReturnType<typeof json> | undefined) =>
    startScripted(em, (req, origin) => {
      if (req.path.startsWith('/metadata/endpoints')) return json(200, [{ resourceManager: `${origin}/`, authentication: { loginEndpoint: `${em.origin}/`, audiences: ['https://management.scripted.localhost/'] } }]);
      return answer(req) ?? json(200, { id: vmssId('vmss-web'), etag: '"1"', identity: { type: 'None' }, properties: { provisioningState: 'Succeeded', orchestrationMode: 'Uniform' } });
    });

  it('an empty-body 431 from the role API: a clean message with the status', () =>
    withEmulator({}, async (em) => {
      const arm = await fakeArm(em, (req) => (req.path.includes('roleDefinitions') ? { status: 431 } : undefined));
      try {
        const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'resource-manager-endpoint': arm.origin, 'role-assignments': `Reader at ${RG}` }, { env: { NODE_EXTRA_CA_CERTS: arm.caBundle } });
        assert.equal(run.code, 1);
        assert.match(errorLine(run), /Could not look up role 'Reader' at '.*rg-prod' \(HTTP 431\): the answer had an empty body/);
        assert.doesNotMatch(run.stdout + run.stderr, /Cannot read properties/);
        assert.equal(arm.requests.filter((r) => r.method !== 'GET').length, 0);
      } finally {
        await arm.stop();
      }
    }));

  it('an HTML 502 from a gateway on the write: read again, then a clean message', () =>
    withEmulator({}, async (em) => {
      const arm = await fakeArm(em, (req) => (req.method === 'PATCH' ? { status: 502, body: '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>', contentType: 'text/html' } : undefined));
      try {
        const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'resource-manager-endpoint': arm.origin }, { env: { NODE_EXTRA_CA_CERTS: arm.caBundle } });
        assert.equal(run.code, 1);
        assert.match(errorLine(run), /\(HTTP 502\): the answer was an HTML page \(502 Bad Gateway\), not an ARM error/);
        assert.doesNotMatch(errorLine(run), /<html>|nginx/);
        const patches = arm.requests.filter((r) => r.method === 'PATCH').length;
        assert.equal(patches, 4, 'a 502 may hide a landed write: each one is checked by reading before sending again');
      } finally {
        await arm.stop();
      }
    }));

  it("ARM's error details are kept: which throttling quota was hit", () =>
    withEmulator({}, async (em) => {
      const arm = await fakeArm(em, (req) => (req.method === 'PATCH' ? json(400, { error: { code: 'OperationNotAllowed', message: 'Too many requests.', details: [{ code: 'TooManyRequests', target: 'HighCostGet30Min', message: 'quota 800' }] } }) : undefined));
      try {
        const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned', 'resource-manager-endpoint': arm.origin }, { env: { NODE_EXTRA_CA_CERTS: arm.caBundle } });
        assert.equal(run.code, 1);
        assert.match(errorLine(run), /\(OperationNotAllowed, HTTP 400\): Too many requests\. Details: TooManyRequests HighCostGet30Min quota 800/);
      } finally {
        await arm.stop();
      }
    }));
});
