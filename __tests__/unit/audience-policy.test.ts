// The audience policy (src/audience-policy.ts, applied in src/cloud.ts): a custom cloud that
// signs in at Microsoft's Entra ID never gets a token for one of Microsoft's own resources,
// however the audience is spelled; Azure Stack Hub, app id URIs and api:// audiences still work.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMicrosoftLogin, microsoftResource } from '../../src/audience-policy.ts';
import { readCloud, resolveCloud } from '../../src/cloud.ts';
import { ActionError, InputError } from '../../src/errors.ts';

const STACK = 'https://management.contoso.onmicrosoft.com/81a55b53-ac16-4d07-9d0e-e8d4b5c2a3f1';
const ENDPOINT = 'https://management.local.azurestack.external';

const REFUSED = [
  'https://graph.microsoft.com/',
  'https://graph.microsoft.com',
  'https://vault.azure.net',
  'https://storage.azure.com/',
  'https://management.azure.com:443/',
  'https://management.azure.com./',
  'HTTPS://MANAGEMENT.AZURE.COM',
  'https://management.azure.com/some/path',
  'https://management.core.windows.net/',
  'https://myaccount.blob.core.windows.net/',
  'https://myvault.vault.azure.net',
  'https://database.windows.net/',
  'https://login.microsoftonline.com/',
  'https://management.usgovcloudapi.net/',
  'https://graph.microsoft.us/',
  'https://vault.usgovcloudapi.net',
  'https://management.chinacloudapi.cn/',
  'https://microsoftgraph.chinacloudapi.cn/',
  'https://vault.azure.cn',
  'https://myapp.chinacloudsites.cn',
  'https://user@graph.microsoft.com/',
  'https://graph.microsoft%2Ecom/',
  '797f4846-ba00-4fd7-ba43-dac1f8f63013',
  '00000003-0000-0000-c000-000000000000',
  'CFA8B339-82A2-471A-A3C9-0FC0BE7A4093',
  'e406a681-f3d4-42a8-90b6-c2b029497af1',
  'spn:797f4846-ba00-4fd7-ba43-dac1f8f63013',
  'api://AzureADTokenExchange',
];

const ACCEPTED = [
  STACK,
  'https://management.adfs.azurestack.local/5d4f2a6c-1e3b-4a7d-9c8e-0f1a2b3c4d5e',
  'api://contoso-arm',
  'api://81a55b53-ac16-4d07-9d0e-e8d4b5c2a3f1',
  'https://contoso.onmicrosoft.com/arm',
  'https://arm.contoso.example/',
  'https://management.emulator.localhost/',
  '81a55b53-ac16-4d07-9d0e-e8d4b5c2a3f1',
  'https://notmicrosoft.com/',
  'https://azure.com.example/',
];

describe('audience policy', () => {
  it("names Microsoft's own resources by host, application id or exchange audience", () => {
    for (const audience of REFUSED) assert.ok(microsoftResource(audience), audience);
  });

  it('leaves Azure Stack Hub audiences, app id URIs and other hosts alone', () => {
    for (const audience of ACCEPTED) assert.equal(microsoftResource(audience), undefined, audience);
  });

  it("knows Microsoft's login hosts in every cloud, with a trailing dot or a port", () => {
    for (const login of ['https://login.microsoftonline.com/', 'https://login.microsoftonline.com./', 'https://LOGIN.WINDOWS.NET', 'https://sts.windows.net', 'https://westus.login.microsoft.com', 'https://login.microsoftonline.us', 'https://login.chinacloudapi.cn', 'https://login.partner.microsoftonline.cn:443']) {
      assert.ok(isMicrosoftLogin(login), login);
    }
    for (const login of ['https://adfs.local.azurestack.external/adfs', 'https://127.0.0.1:8443', 'https://login.microsoftonline.com.evil.example', 'https://contoso.onmicrosoft.com']) {
      assert.equal(isMicrosoftLogin(login), false, login);
    }
  });

  it("refuses a custom cloud's metadata audience when the login is Microsoft's", () => {
    const request = { kind: 'custom' as const, resourceManager: ENDPOINT };
    for (const audience of REFUSED) {
      assert.throws(() => resolveCloud(request, { audience, loginEndpoint: 'https://login.microsoftonline.com/' }), ActionError, audience);
    }
    // From the metadata (the endpoint's own word), only an app registered in a tenant or one
    // under the endpoint's domain; any other, not known to be Microsoft's, only as an input.
    const fromMetadata = [STACK, 'https://contoso.onmicrosoft.com/arm', 'https://arm.local.azurestack.external/', 'https://local.azurestack.external/app'];
    for (const audience of fromMetadata) assert.equal(resolveCloud(request, { audience, loginEndpoint: 'https://login.microsoftonline.com/' }).audience, audience);
    for (const audience of ACCEPTED.filter((a) => !fromMetadata.includes(a))) {
      assert.throws(() => resolveCloud(request, { audience, loginEndpoint: 'https://login.microsoftonline.com/' }), /may only name an app registered in a tenant .* give it in resource-manager-audience/, audience);
      assert.equal(resolveCloud({ ...request, audience }, { loginEndpoint: 'https://login.microsoftonline.com/' }).audience, audience, `${audience} as an input`);
    }
    // Microsoft services outside the first list of domains, seen by an attacker's review.
    for (const audience of ['6dae42f8-4368-4678-94ff-3960e28e3630', 'https://app.vssps.visualstudio.com', 'https://api.loganalytics.io', 'https://api.applicationinsights.io', 'https://dev.azuresynapse.net', 'https://azconfig.io']) {
      assert.throws(() => resolveCloud({ ...request, audience }, { loginEndpoint: 'https://login.microsoftonline.com/' }), InputError, audience);
    }
    assert.equal(resolveCloud(request, { audience: STACK, loginEndpoint: 'https://login.microsoftonline.com/' }).scope, `${STACK}/.default`);
  });

  it('applies only when the login is Microsoft: an ADFS cloud issues its own tokens', () => {
    const cloud = resolveCloud({ kind: 'custom', resourceManager: ENDPOINT }, { audience: 'https://management.azure.com/', loginEndpoint: 'https://adfs.local.azurestack.external/adfs' });
    assert.equal(cloud.customAuthority, true);
  });

  it('refuses the resource-manager-audience input by the same policy, before any request', () => {
    for (const audience of REFUSED.filter((a) => !a.startsWith('spn:'))) {
      assert.throws(() => readCloud('', ENDPOINT, audience, ''), InputError, audience);
      assert.throws(() => resolveCloud({ kind: 'custom', resourceManager: ENDPOINT, audience }, { loginEndpoint: 'https://login.microsoftonline.com' }), /^InputError: Input 'resource-manager-audience': .* (names|is Azure\w+'s)/, audience);
    }
    assert.match(String((() => { try { readCloud('', ENDPOINT, 'https://graph.microsoft.com/', ''); } catch (e) { return (e as Error).message; } })()), /names a Microsoft service \(graph\.microsoft\.com, under microsoft\.com\)/);
    assert.deepEqual(readCloud('', ENDPOINT, STACK, ''), { kind: 'custom', resourceManager: ENDPOINT, audience: STACK });
    // With an ADFS authority-host, the login is not Microsoft's: the policy does not apply.
    assert.equal(readCloud('', ENDPOINT, 'https://vault.azure.net', 'https://adfs.example/adfs').kind, 'custom');
  });
});
