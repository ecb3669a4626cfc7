// Each error path end to end, with the exact message the user sees and what reached Azure.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEPLOYER_CLIENT_ID, DEPLOYER_OBJECT_ID, READER_CLIENT_ID, SUB, TENANT, uai, vmssId, withEmulator } from '../support/emulator.ts';
import { BASE, INVALID } from '../support/invalid-inputs.ts';
import { runAction, type ActionRun } from '../support/run-action.ts';

const target = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web' };

/** The ::error:: line the runner turns into the step's failure annotation. */
function failure(run: ActionRun): string {
  const lines = run.stdout.split('\n').filter((l) => l.startsWith('::error::'));
  assert.equal(run.code, 1, `expected exit code 1, got ${run.code}\n${run.stdout}\n${run.stderr}`);
  assert.equal(lines.length, 1, run.stdout);
  return (lines[0] ?? '').slice('::error::'.length).replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

describe('error paths end to end', { concurrency: 4 }, () => {
  it('no id-token permission: says how to grant it, before any request', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...target, 'identity-type': 'SystemAssigned' }, { env: { ACTIONS_ID_TOKEN_REQUEST_URL: undefined, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined } });
      assert.equal(failure(run),
        "GitHub did not give this job an OIDC token request URL (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are not set), so the action cannot sign in to Azure without a secret. Add 'permissions: id-token: write' to the job or workflow (a reusable workflow needs its caller to grant it); pull requests from forks and Dependabot never get it.");
      assert.equal(em.log.entries.length, 0);
    }));

  it('federated credential mismatch: prints the token subject and the forms that could match', () =>
    withEmulator({ edit: (seed) => (seed.github = { repository: 'octo-org/octo-repo', environment: 'staging' }) }, async (em) => {
      const run = await runAction(em, { ...target, 'identity-type': 'SystemAssigned' });
      const message = failure(run);
      assert.match(message, /^Entra ID found no federated credential on app 11111111-aaaa-4bbb-8ccc-000000000001 matching this job's GitHub token subject \(AADSTS700213\)\./);
      assert.match(message, /subject 'repo:octo-org\/octo-repo:environment:staging'/);
      assert.match(message, /Add a federated credential with exactly that subject, or one of: repo:octo-org\/octo-repo:ref:refs\/heads\/main; repo:octo-org\/octo-repo:environment:ENVIRONMENT-NAME/);
      assert.deepEqual(em.log.of('arm').map((e) => e.route), ['arm.metadata'], 'no authenticated ARM request');
    }));

  it('unknown client id', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...target, 'identity-type': 'SystemAssigned', 'client-id': '99999999-aaaa-4bbb-8ccc-000000000009' });
      assert.equal(failure(run),
        `Entra ID has no application with client id '99999999-aaaa-4bbb-8ccc-000000000009' in tenant '${TENANT}' (AADSTS700016). Check client-id and tenant-id: use the app registration's Application (client) ID and the Directory (tenant) ID it lives in.`);
      assert.deepEqual(em.log.of('arm').map((e) => e.route), ['arm.metadata'], 'no authenticated ARM request');
    }));

  it('unknown tenant', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...target, 'identity-type': 'SystemAssigned', 'tenant-id': '99999999-aaaa-4bbb-8ccc-00000000000a' });
      assert.equal(failure(run),
        "Entra ID could not find the sign-in endpoints for tenant '99999999-aaaa-4bbb-8ccc-00000000000a' (endpoints_resolution_error): the tenant does not exist in this cloud, or the authority is unreachable. Check tenant-id, environment and authority-host.");
      assert.equal(em.log.of('entra.discovery')[0]?.status, 400);
      assert.deepEqual(em.log.of('arm').map((e) => e.route), ['arm.metadata'], 'no authenticated ARM request');
    }));

  // With permission-check: warn the write is tried (a grant the permissions list does not show
  // may allow it), and Azure's own refusal is explained.
  it('403 on the scale set names the permission and the role that grants it', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...target, 'identity-type': 'SystemAssigned', 'client-id': READER_CLIENT_ID, 'permission-check': 'warn' });
      assert.equal(failure(run),
        `Permission denied: app ${READER_CLIENT_ID} in tenant ${TENANT} (GitHub OIDC) may not perform 'Microsoft.Compute/virtualMachineScaleSets/write' on '${vmssId('vmss-web')}' (AuthorizationFailed). Grant it 'Virtual Machine Contributor' on the scale set or its resource group; new role assignments can take a few minutes to apply.`);
      assert.equal(em.state.findScaleSet(SUB, 'rg-prod', 'vmss-web')?.identity.system, undefined);
      // The plan was a change; the refused write changed nothing, and `changed` says what happened.
      assert.equal(run.outputs['changed'], 'false');
      assert.equal((JSON.parse(run.outputs['results'] ?? '[]') as { changed: boolean; write: string }[])[0]?.changed, false);
    }));

  it('403 on a user-assigned identity names Managed Identity Operator', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...target, operation: 'assign', 'user-assigned-ids': uai('id-build', 'rg-shared'), 'permission-check': 'warn' });
      assert.equal(failure(run),
        `Permission denied: app ${DEPLOYER_CLIENT_ID} in tenant ${TENANT} (GitHub OIDC) may update the scale set but may not perform 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on '${uai('id-build', 'rg-shared')}' (LinkedAuthorizationFailed). Grant it 'Managed Identity Operator' on the user-assigned identity (or its resource group).`);
      assert.equal(em.state.findScaleSet(SUB, 'rg-prod', 'vmss-web')?.identity.userAssigned.length, 0);
      void DEPLOYER_OBJECT_ID;
    }));

  it('scale set not found', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...target, 'vmss-name': 'vmss-missing', 'identity-type': 'SystemAssigned' });
      assert.equal(failure(run),
        `The scale set 'vmss-missing' in resource group 'rg-prod' (subscription ${SUB}) was not found (ResourceNotFound). Check vmss-name (or vmss-id) and subscription-id; create the scale set before this step.`);
      assert.equal(em.log.writes().length, 0);
    }));

  it('resource group not found', () =>
    withEmulator({ edit: (seed) => seed.roleAssignments?.push({ principalId: DEPLOYER_OBJECT_ID, role: 'Contributor', scope: `/subscriptions/${SUB}` }) }, async (em) => {
      const run = await runAction(em, { ...target, 'resource-group': 'rg-missing', 'identity-type': 'SystemAssigned' });
      assert.equal(failure(run), `Resource group 'rg-missing' was not found in subscription ${SUB} (ResourceGroupNotFound). Check resource-group and subscription-id.`);
    }));

  it('unknown user-assigned identity: named, confirmed by reading it, and a bare name says where it was looked for', () =>
    withEmulator({}, async (em) => {
      const id = `/subscriptions/${SUB}/resourceGroups/rg-prod/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-ghost`;
      const run = await runAction(em, { ...target, operation: 'assign', 'user-assigned-ids': 'id-ghost' });
      assert.equal(failure(run),
        `User-assigned identity id-ghost (${id}) does not exist: reading it answers 404, and Azure refuses to assign it (FailedIdentityOperation). 'id-ghost' is a bare name, so it was looked up in scale set 'vmss-web''s own resource group (rg-prod); give the identity's full resource id if it lives elsewhere. Check user-assigned-ids, or create the identity first (az identity create).`);
      assert.deepEqual(em.log.of('arm.uai.get').map((e) => e.status), [404], 'confirmed by reading it');
      assert.equal(em.state.findScaleSet(SUB, 'rg-prod', 'vmss-web')?.etag, 1, 'nothing was written');
      const byId = await runAction(em, { ...target, operation: 'assign', 'user-assigned-ids': id });
      assert.equal(failure(byId), `User-assigned identity id-ghost (${id}) does not exist: reading it answers 404, and Azure refuses to assign it (FailedIdentityOperation). Check user-assigned-ids, or create the identity first (az identity create).`);
    }));

  it('a dry run fails on the unknown identity as the real run does, before any write', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...target, operation: 'assign', 'user-assigned-ids': 'id-ghost', 'dry-run': 'true' });
      assert.equal(run.code, 1);
      assert.match(failure(run), /^User-assigned identity id-ghost \(.*\) does not exist: reading it answers 404.* 'id-ghost' is a bare name, so it was looked up in scale set 'vmss-web''s own resource group \(rg-prod\)/);
      assert.equal(JSON.parse(run.outputs['results'] ?? '[]')[0]?.changed, false);
      assert.equal(em.log.writes().length, 0);
      const fine = await runAction(em, { ...target, operation: 'assign', 'user-assigned-ids': 'id-logs', 'dry-run': 'true' });
      assert.equal(fine.code, 0, fine.stdout);
    }));

  it('Flexible orchestration with SystemAssigned fails before writing', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, { ...target, 'vmss-name': 'vmss-flex', 'identity-type': 'SystemAssigned' });
      assert.equal(failure(run),
        "Scale set 'vmss-flex' uses Flexible orchestration, which supports only user-assigned identities at the scale-set level (Azure rejects SystemAssigned). Use identity-type: UserAssigned with user-assigned-ids, or enable a system-assigned identity on each VM instead.");
      assert.equal(em.log.writes().length, 0);
    }));
});

describe(`${INVALID.length} invalid inputs through dist/: each its own error, zero requests to Azure`, () => {
  it('runs every case', () =>
    withEmulator({}, async (em) => {
      const runs = new Map<string, ActionRun>();
      const queue = [...INVALID];
      await Promise.all(Array.from({ length: 6 }, async () => {
        // Every host goes through the emulator's proxy mode (management.azure.com,
        // login.microsoftonline.com, any other): a request to any service would be seen.
        const env = { HTTPS_PROXY: em.urls.proxy, NODE_EXTRA_CA_CERTS: em.caPath, NO_PROXY: '127.0.0.1' };
        for (let c = queue.shift(); c; c = queue.shift()) runs.set(c.name, await runAction(em, { ...BASE, ...c.inputs }, { withoutEndpoint: true, env }));
      }));
      const messages = new Set<string>();
      for (const c of INVALID) {
        const message = failure(runs.get(c.name) as ActionRun);
        assert.ok(message.includes(c.error), `${c.name}:\n  ${message}\nshould contain:\n  ${c.error}`);
        messages.add(message);
      }
      assert.equal(messages.size, INVALID.length, 'every case has its own message');
      assert.deepEqual(em.log.arrivals, [], 'no request reached GitHub, Entra or ARM, answered or not');
      assert.deepEqual(em.log.refusedConnects, [], 'no other host was tried');
      for (const c of INVALID) {
        const run = runs.get(c.name) as ActionRun;
        const results = JSON.parse(run.outputs['results'] ?? 'null') as unknown;
        assert.ok(Array.isArray(results), `${c.name}: results is written and parses`);
        assert.equal(run.outputs['changed'], 'false', `${c.name}: changed is written`);
      }
    }));
});
