// The input parser: what users write → one Settings object, or an error naming the input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.ts';
import { list, readSettings, type InputName } from '../../src/inputs.ts';
import { BASE, INVALID } from '../support/invalid-inputs.ts';

const ENV = { AZURE_CLIENT_ID: '11111111-aaaa-4bbb-8ccc-000000000001', AZURE_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47', AZURE_SUBSCRIPTION_ID: '0b1f6471-1bf0-4dda-aec3-cb9272f09590' };
const read = (inputs: Record<string, string>) => (name: InputName) => (inputs[name] ?? '').trim();

describe('inputs: valid', () => {
  it('reads a minimal step with the AZURE_* fallbacks; the default operation adds and never removes', () => {
    const s = readSettings(read(BASE), ENV);
    assert.deepEqual(s.signIn, { kind: 'oidc', clientId: ENV.AZURE_CLIENT_ID, tenantId: ENV.AZURE_TENANT_ID, audience: 'api://AzureADTokenExchange' });
    assert.deepEqual(s.targets, [{ subscriptionId: ENV.AZURE_SUBSCRIPTION_ID, resourceGroup: 'rg-prod', name: 'vmss-web' }]);
    assert.equal(s.operation, 'assign');
    assert.equal(s.system, true);
    assert.equal(s.dryRun, false);
    assert.deepEqual(s.cloud, { kind: 'builtin', name: 'AzureCloud' });
  });

  it('never takes endpoints from environment variables an earlier step could have set', () => {
    const s = readSettings(read(BASE), { ...ENV, AZURE_RESOURCE_MANAGER_ENDPOINT: 'https://attacker.example', AZURE_AUTHORITY_HOST: 'https://attacker.example' });
    assert.deepEqual(s.cloud, { kind: 'builtin', name: 'AzureCloud' });
  });

  it('accepts every spelling of the combined type ARM accepts', () => {
    for (const t of ['SystemAssigned, UserAssigned', 'SystemAssigned,UserAssigned', 'userassigned , systemassigned', 'SYSTEMASSIGNED,USERASSIGNED']) {
      const s = readSettings(read({ ...BASE, 'identity-type': t, 'user-assigned-ids': 'id-app' }), ENV);
      assert.equal(s.system, true, t);
      assert.deepEqual(s.userAssignedIds, ['id-app']);
    }
  });

  it('splits lists on new lines and commas and keeps ids as written', () => {
    assert.deepEqual(list(' a,b\n\n c ,\n'), ['a', 'b', 'c']);
    const id = '/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-x';
    const s = readSettings(read({ ...BASE, 'identity-type': 'UserAssigned', 'user-assigned-ids': `id-app\n${id}` }), ENV);
    assert.deepEqual(s.userAssignedIds, ['id-app', id]);
  });

  it('takes the subscription from vmss-id, over the AZURE_SUBSCRIPTION_ID variable', () => {
    const vmssId = '/subscriptions/11111111-2222-4333-8444-555555555555/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/web';
    const s = readSettings(read({ 'vmss-id': vmssId, operation: 'set', 'identity-type': 'None' }), ENV);
    assert.deepEqual(s.targets, [{ subscriptionId: '11111111-2222-4333-8444-555555555555', resourceGroup: 'rg', name: 'web' }]);
  });

  it('signs in through the Azure CLI session when no client and tenant are given', () => {
    const s = readSettings(read({ ...BASE, 'subscription-id': ENV.AZURE_SUBSCRIPTION_ID }), {});
    assert.deepEqual(s.signIn, { kind: 'azure-cli' });
  });

  it('treats a custom resource-manager-endpoint as a custom cloud, whose audience comes from its metadata', () => {
    const s = readSettings(read({ ...BASE, 'resource-manager-endpoint': 'https://arm.local/', 'authority-host': 'https://login.local' }), ENV);
    assert.deepEqual(s.cloud, { kind: 'custom', resourceManager: 'https://arm.local', authorityHost: 'https://login.local' });
    // A login endpoint outside Microsoft's clouds gets a GitHub token meant for it alone.
    assert.equal(s.signIn.kind === 'oidc' && s.signIn.audience, 'https://login.local');
  });

  it("recognises a built-in cloud's own endpoint and picks its GitHub audience", () => {
    const s = readSettings(read({ ...BASE, 'resource-manager-endpoint': 'https://management.usgovcloudapi.net/' }), ENV);
    assert.deepEqual(s.cloud, { kind: 'builtin', name: 'AzureUSGovernment' });
    assert.equal(s.signIn.kind === 'oidc' && s.signIn.audience, 'api://AzureADTokenExchangeUSGov');
  });

  it('reads assign/remove with and without identity-type', () => {
    assert.equal(readSettings(read({ ...BASE, operation: 'assign', 'identity-type': '', 'user-assigned-ids': 'id-app' }), ENV).system, undefined);
    assert.equal(readSettings(read({ ...BASE, operation: 'REMOVE', 'identity-type': 'systemassigned' }), ENV).system, true);
    assert.equal(readSettings(read({ ...BASE, 'dry-run': 'TRUE' }), ENV).dryRun, true);
  });
});

describe(`inputs: ${INVALID.length} invalid inputs, each with its own error`, () => {
  for (const c of INVALID) {
    it(c.name, () => {
      const inputs = c.replace ? c.inputs : { ...BASE, ...c.inputs };
      assert.throws(() => readSettings(read(inputs), ENV), (e: unknown) => {
        assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
        assert.ok(e.message.includes(c.error), `message:\n  ${e.message}\nshould contain:\n  ${c.error}`);
        return true;
      });
    });
  }

  it('gives each case a different message', () => {
    const messages = INVALID.map((c) => {
      try {
        readSettings(read({ ...BASE, ...c.inputs }), ENV);
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    });
    assert.equal(new Set(messages).size, INVALID.length);
  });
});

describe('inputs: echoed values', () => {
  it('cuts a 100 KB value short in the error and never lets it start a workflow command', () => {
    const huge = `${'v'.repeat(100_000)}\n::error::x`;
    for (const inputs of [{ ...BASE, 'vmss-name': huge }, { ...BASE, 'resource-group': 'v'.repeat(100_000) }, { ...BASE, operation: huge.replace('\n', ' ') }]) {
      assert.throws(() => readSettings(read(inputs), ENV), (e: unknown) => {
        assert.ok(e instanceof InputError);
        assert.ok(e.message.length < 600, `message of ${e.message.length} characters`);
        assert.ok(!e.message.split('\n').some((line) => line.startsWith('::')), e.message);
        return true;
      });
    }
  });
});

describe('inputs: selectors', () => {
  const SUB2 = '11111111-2222-4333-8444-555555555555';
  it('plain names in one resource group of one subscription stay exact targets: no listing', () => {
    const s = readSettings(read({ ...BASE, 'vmss-name': 'web-1, web-2' }), ENV);
    assert.equal(s.query, undefined);
    assert.deepEqual(s.targets.map((t) => t.name), ['web-1', 'web-2']);
  });

  it('patterns, several resource groups or subscriptions, and tags make a query', () => {
    const s = readSettings(read({ ...BASE, 'vmss-name': 'aks-*-vmss\nweb-?', 'resource-group': 'rg-a\nrg-*', 'subscription-id': `${ENV.AZURE_SUBSCRIPTION_ID}\n${SUB2}`, 'vmss-tags': 'role=web\nowner' }), ENV);
    assert.deepEqual(s.targets, []);
    assert.deepEqual(s.query, {
      subscriptions: [ENV.AZURE_SUBSCRIPTION_ID, SUB2],
      resourceGroups: [{ text: 'rg-a', glob: false }, { text: 'rg-*', glob: true }],
      names: [{ text: 'aks-*-vmss', glob: true }, { text: 'web-?', glob: true }],
      tags: [{ key: 'role', value: 'web' }, { key: 'owner' }],
    });
  });

  it('vmss-tags alone chooses every scale set of the resource groups', () => {
    const s = readSettings(read({ 'resource-group': '*', 'vmss-tags': 'role=web', 'identity-type': 'SystemAssigned' }), ENV);
    assert.equal(s.query?.names, undefined);
    assert.deepEqual(s.query?.resourceGroups, [{ text: '*', glob: true }]);
  });
});
