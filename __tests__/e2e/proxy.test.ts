// The bundled action as a user's workflow configures it: no endpoint inputs, environment
// AzureCloud, and only HTTPS_PROXY + NODE_EXTRA_CA_CERTS pointing at the emulator. ARM and
// Entra are reached as management.azure.com and login.microsoftonline.com through the proxy
// mode. The runner's ID-token URL is not a Microsoft host the action hard-codes: the runner
// injects it, so it stays direct on 127.0.0.1 (NO_PROXY), as a runner's own service would.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GITHUB_OIDC_HOST } from '../../emulator/clouds.ts';
import { GITHUB_TOKEN_PATH } from '../../emulator/github-oidc.ts';
import type { Emulator } from '../../emulator/server.ts';
import { DEPLOYER_OBJECT_ID, RG, scaleSet, uai, withEmulator } from '../support/emulator.ts';
import { runAction } from '../support/run-action.ts';

/** What a workflow gives: action.yml's defaults (the harness applies them), a target, no endpoint input. */
const WORKFLOW = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web' };

function run(em: Emulator, inputs: Record<string, string>) {
  const env: Record<string, string | undefined> = { HTTPS_PROXY: em.urls.proxy, NODE_EXTRA_CA_CERTS: em.caPath, NO_PROXY: '127.0.0.1' };
  return runAction(em, { ...WORKFLOW, ...inputs }, { withoutEndpoint: true, env });
}

/** Every Azure request went through the proxy under the public cloud's names, none to the origin. */
function viaPublicHosts(em: Emulator): void {
  const azure = em.log.entries.filter((e) => e.service === 'arm' || e.service === 'entra');
  assert.ok(azure.some((e) => e.service === 'arm'), 'ARM was called');
  for (const e of azure) {
    assert.equal(e.via, 'proxy', `${e.route} came through the proxy`);
    assert.equal(e.host, e.service === 'arm' ? 'management.azure.com' : 'login.microsoftonline.com', e.route);
    assert.ok(e.status > 0 && e.status < 500, `${e.route} answered ${e.status}`);
  }
  assert.ok(em.log.of('arm').every((e) => e.status !== 401), 'no token was refused: the action asked for the public audience');
  assert.deepEqual(em.log.refusedConnects, [], 'no other host was tried');
}

const canGrant = { edit: (s: { roleAssignments?: { principalId: string; role: string; scope: string }[] }) => s.roleAssignments?.push({ principalId: DEPLOYER_OBJECT_ID, role: 'Role Based Access Control Administrator', scope: RG }) };

describe('the action through the proxy mode, no endpoint inputs', { concurrency: 3 }, () => {
  it('assigns the system-assigned identity', () =>
    withEmulator({}, async (em) => {
      const r = await run(em, { operation: 'assign', 'identity-type': 'SystemAssigned' });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.ok(scaleSet(em, 'vmss-web').identity.system);
      assert.equal(em.log.of('arm.vmss.patch').length, 1);
      assert.deepEqual(em.log.of('arm.vmss.patch')[0]?.body, { identity: { type: 'SystemAssigned' } });
      assert.equal(em.log.of('github.token')[0]?.via, 'direct');
      viaPublicHosts(em);
    }));

  it('assigns a user-assigned identity, then removes it', () =>
    withEmulator({}, async (em) => {
      const added = await run(em, { operation: 'assign', 'identity-type': 'UserAssigned', 'user-assigned-ids': 'id-logs' });
      assert.equal(added.code, 0, added.stdout + added.stderr);
      assert.deepEqual(scaleSet(em, 'vmss-web').identity.userAssigned.map((u) => u.key.toLowerCase()), [uai('id-logs').toLowerCase()]);
      const removed = await run(em, { operation: 'remove', 'identity-type': 'UserAssigned', 'user-assigned-ids': 'id-logs' });
      assert.equal(removed.code, 0, removed.stdout + removed.stderr);
      assert.deepEqual(scaleSet(em, 'vmss-web').identity.userAssigned, []);
      viaPublicHosts(em);
    }));

  it('shows the identity without writing', () =>
    withEmulator({}, async (em) => {
      const r = await run(em, { operation: 'show', 'vmss-name': 'vmss-api' });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(r.outputs['principal-id'], scaleSet(em, 'vmss-api').identity.system?.principalId);
      assert.equal(em.log.writes().length, 0);
      viaPublicHosts(em);
    }));

  it('grants a role to the new system-assigned identity', () =>
    withEmulator(canGrant, async (em) => {
      const r = await run(em, { operation: 'assign', 'identity-type': 'SystemAssigned', 'role-assignments': `Reader at ${RG}` });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const principalId = scaleSet(em, 'vmss-web').identity.system?.principalId;
      assert.ok(em.state.roleAssignments.some((a) => a.principalId === principalId && a.scope === RG));
      assert.equal(em.log.of('arm.roleAssignment.put').at(-1)?.status, 201);
      viaPublicHosts(em);
    }));

  // Behind a proxy the action leaves the GitHub token request to @actions/core, whose HTTP
  // client tunnels through the proxy with its own agent (the undici it would use for
  // getAgentDispatcher is not bundled: stubs/README.md).
  it('a runner whose GitHub token service is behind the proxy too: the token comes through it', () =>
    withEmulator({}, async (em) => {
      const env: Record<string, string | undefined> = {
        HTTPS_PROXY: em.urls.proxy,
        NODE_EXTRA_CA_CERTS: em.caPath,
        ACTIONS_ID_TOKEN_REQUEST_URL: `https://${GITHUB_OIDC_HOST}${GITHUB_TOKEN_PATH}?api-version=2.0`,
      };
      const r = await runAction(em, { ...WORKFLOW, operation: 'show' }, { withoutEndpoint: true, env });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(r.outputs['principal-id'], scaleSet(em, 'vmss-web').identity.system?.principalId ?? '');
      const token = em.log.of('github.token');
      assert.equal(token.length, 1, 'one GitHub token request');
      assert.deepEqual({ via: token[0]?.via, host: token[0]?.host, status: token[0]?.status }, { via: 'proxy', host: GITHUB_OIDC_HOST, status: 200 });
      viaPublicHosts(em);
    }));
});
