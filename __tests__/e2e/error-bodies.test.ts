// Error bodies of every shape from ARM and Microsoft.Authorization: no Retry-After, an empty
// 431, an HTML 502 from a gateway, and ARM's throttling details.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RG, vmssId, withEmulator } from '../support/emulator.ts';
import { runAction } from '../support/run-action.ts';
import { json, startScripted, type Captured } from '../support/scripted-server.ts';
import { canGrant, errorLine } from '../support/outcome.ts';

const web = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web' };

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
