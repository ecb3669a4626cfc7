// Regression tests for the gaps issue 11 found with real clients: cloud metadata, Entra
// discovery, subscription and tenant listing, PUT replace, strict filters and scopes, request
// ids, fresh GUIDs, aborted requests, redacted bodies in the log, and the audience each face
// of the emulator accepts. Each goes through real HTTPS.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { describe, it } from 'node:test';
import { EMULATOR_AUDIENCE } from '../../emulator/server.ts';
import { arm, armToken, credential, raw } from '../support/clients.ts';
import { DEPLOYER_OBJECT_ID, READER_CLIENT_ID, RG, SUB, TENANT, uai, vmssId, withEmulator } from '../support/emulator.ts';
import { tunnel, viaProxy } from '../support/proxy-client.ts';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const errorOf = (json: Record<string, unknown>) => json['error'] as { code: string; message: string };
const PUBLIC_AUDIENCES = "'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'";

describe('cloud metadata (reference 14.1)', { concurrency: 2 }, () => {
  it('answers /metadata/endpoints, also as //metadata/endpoints, with the emulator as its own cloud', () =>
    withEmulator({}, async (em) => {
      const old = await raw(em, 'GET', `${em.origin}//metadata/endpoints?api-version=2015-01-01`);
      assert.equal(old.status, 200);
      assert.deepEqual(JSON.parse(old.body), {
        galleryEndpoint: `${em.origin}/`,
        graphEndpoint: 'https://graph.windows.net/',
        portalEndpoint: `${em.origin}/`,
        authentication: { loginEndpoint: `${em.origin}/`, audiences: [EMULATOR_AUDIENCE] },
      });
      const clouds = JSON.parse((await raw(em, 'GET', em.urls.metadata)).body) as Record<string, unknown>[];
      assert.equal(clouds.length, 1);
      assert.equal(clouds[0]?.['resourceManager'], `${em.origin}/`);
      assert.deepEqual(clouds[0]?.['authentication'], { loginEndpoint: `${em.origin}/`, audiences: [EMULATOR_AUDIENCE], tenant: 'common', identityProvider: 'AAD' });
      assert.equal(em.urls.audience, EMULATOR_AUDIENCE);
      assert.deepEqual(em.log.of('arm.metadata').map((e) => e.status), [200, 200]);
    }));

  it('through the proxy, management.azure.com publishes the public cloud', () =>
    withEmulator({}, async (em) => {
      const res = await viaProxy(em, 'GET', 'https://management.azure.com/metadata/endpoints?api-version=2022-09-01');
      const [cloud] = JSON.parse(res.body) as { name: string; authentication: { loginEndpoint: string; audiences: string[] } }[];
      assert.equal(cloud?.name, 'AzureCloud');
      assert.equal(cloud?.authentication.loginEndpoint, 'https://login.microsoftonline.com');
      assert.deepEqual(cloud?.authentication.audiences, ['https://management.core.windows.net/', 'https://management.azure.com/']);
    }));
});

describe('token audiences: each face accepts only its own cloud', { concurrency: 2 }, () => {
  it('the origin refuses a public-cloud token; management.azure.com refuses the emulator\'s', () =>
    withEmulator({}, async (em) => {
      const publicToken = (await credential(em).getToken('https://management.azure.com/.default'))?.token ?? '';
      const direct = await arm(em, publicToken, 'GET', `${vmssId('vmss-web')}?api-version=2024-11-01`);
      assert.equal(direct.status, 401);
      assert.deepEqual(errorOf(direct.json), {
        code: 'InvalidAuthenticationTokenAudience',
        message: `The access token has been obtained for wrong audience or resource 'https://management.azure.com/'. It should exactly match with one of the allowed audiences '${EMULATOR_AUDIENCE}','${EMULATOR_AUDIENCE.replace(/\/$/, '')}'.`,
      });
      const own = await armToken(em);
      const proxied = await viaProxy(em, 'GET', `https://management.azure.com${vmssId('vmss-web')}?api-version=2024-11-01`, undefined, { authorization: `Bearer ${own}` });
      assert.equal(proxied.status, 401);
      assert.equal(errorOf(proxied.json).message, `The access token has been obtained for wrong audience or resource '${EMULATOR_AUDIENCE}'. It should exactly match with one of the allowed audiences ${PUBLIC_AUDIENCES}.`);
      const ok = await viaProxy(em, 'GET', `https://management.azure.com${vmssId('vmss-web')}?api-version=2024-11-01`, undefined, { authorization: `Bearer ${publicToken}` });
      assert.equal(ok.status, 200);
      assert.deepEqual(em.log.of('arm.vmss.get').map((e) => [e.via, e.host, e.status]), [['direct', `127.0.0.1:${em.port}`, 401], ['proxy', 'management.azure.com', 401], ['proxy', 'management.azure.com', 200]]);
    }));
});

describe('Entra discovery (reference 14.2)', { concurrency: 2 }, () => {
  it('serves common and organizations, and instance discovery names the caller\'s tenant', () =>
    withEmulator({}, async (em) => {
      for (const t of ['common', 'organizations']) {
        const d = await raw(em, 'GET', `/${t}/v2.0/.well-known/openid-configuration`);
        assert.equal(d.status, 200, t);
        assert.equal((JSON.parse(d.body) as Record<string, string>)['issuer'], `${em.origin}/{tenantid}/v2.0`);
      }
      const authorize = encodeURIComponent(`${em.origin}/${TENANT}/oauth2/v2.0/authorize`);
      const viaLogin = await viaProxy(em, 'GET', `https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&authorization_endpoint=${authorize}`);
      assert.equal(viaLogin.status, 200);
      assert.equal(viaLogin.json['tenant_discovery_endpoint'], `${em.origin}/${TENANT}/v2.0/.well-known/openid-configuration`);
      const tenantDoc = await raw(em, 'GET', String(viaLogin.json['tenant_discovery_endpoint']));
      assert.equal(tenantDoc.status, 200);
      const unknown = await viaProxy(em, 'GET', `https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent('https://login.example.net/x/oauth2/v2.0/authorize')}`);
      assert.equal(unknown.status, 400);
      assert.equal(unknown.json['error'], 'invalid_instance');
    }));
});

describe('subscriptions and tenants', { concurrency: 2 }, () => {
  it('GET /subscriptions, /subscriptions/{id} and /tenants answer for the signed-in app', () =>
    withEmulator({}, async (em) => {
      const token = await armToken(em);
      const subs = await arm(em, token, 'GET', '/subscriptions?api-version=2022-12-01');
      assert.equal(subs.status, 200);
      const [sub] = subs.json['value'] as Record<string, unknown>[];
      assert.equal(sub?.['subscriptionId'], SUB);
      assert.equal(sub?.['tenantId'], TENANT);
      assert.equal(sub?.['state'], 'Enabled');
      assert.equal((await arm(em, token, 'GET', `/subscriptions/${SUB}?api-version=2022-12-01`)).json['id'], `/subscriptions/${SUB}`);
      const tenants = await arm(em, token, 'GET', '/tenants?api-version=2022-12-01');
      assert.deepEqual((tenants.json['value'] as { tenantId: string }[]).map((t) => t.tenantId), [TENANT]);
    }));

  it('an app with no role assignment sees no subscription', () =>
    withEmulator({ edit: (s) => (s.roleAssignments = s.roleAssignments?.filter((a) => a.principalId !== '22222222-aaaa-4bbb-8ccc-000000000002')) }, async (em) => {
      const token = await armToken(em, READER_CLIENT_ID);
      assert.deepEqual((await arm(em, token, 'GET', '/subscriptions?api-version=2022-12-01')).json['value'], []);
      assert.equal((await arm(em, token, 'GET', `/subscriptions/${SUB}?api-version=2022-12-01`)).status, 404);
    }));

  it('lists page with an absolute nextLink that carries its own api-version (reference 14.3)', () =>
    withEmulator({}, async (em) => {
      em.controls.pageSize = 3;
      const token = await armToken(em);
      const names: string[] = [];
      let url: string | undefined = `${RG}/providers/Microsoft.Compute/virtualMachineScaleSets?api-version=2024-11-01`;
      while (url) {
        const page = await arm(em, token, 'GET', url);
        names.push(...(page.json['value'] as { name: string }[]).map((v) => v.name));
        url = page.json['nextLink'] as string | undefined;
        if (url) assert.match(url, new RegExp(`^${em.origin}/.*api-version=2024-11-01.*skiptoken=`));
      }
      assert.deepEqual(names.sort(), ['vmss-api', 'vmss-flex', 'vmss-legacy', 'vmss-web', 'vmss-worker']);
    }));
});

describe('PUT replaces, PATCH merges, for everything stored', () => {
  it('tags set by a full PUT (az vmss update --set tags.env=test) survive, then PATCH replaces the tag set', () =>
    withEmulator({ updateDurationMs: 50 }, async (em) => {
      const token = await armToken(em);
      const url = `${vmssId('vmss-api')}?api-version=2024-11-01`;
      const current = (await arm(em, token, 'GET', url)).json;
      const put = await arm(em, token, 'PUT', url, { ...current, tags: { env: 'test' }, properties: { ...(current['properties'] as object), additionalCapabilities: { ultraSSDEnabled: false } } });
      assert.equal(put.status, 200);
      await new Promise((r) => setTimeout(r, 100));
      const after = (await arm(em, token, 'GET', url)).json;
      assert.deepEqual(after['tags'], { env: 'test' });
      assert.deepEqual((after['properties'] as Record<string, unknown>)['additionalCapabilities'], { ultraSSDEnabled: false });
      assert.deepEqual(Object.keys((after['identity'] as { userAssignedIdentities: object }).userAssignedIdentities), [uai('id-app')], 'the echoed identity is kept');
      await arm(em, token, 'PATCH', url, { tags: { team: 'web' } });
      await new Promise((r) => setTimeout(r, 100));
      const patched = (await arm(em, token, 'GET', url)).json;
      assert.deepEqual(patched['tags'], { team: 'web' });
      assert.deepEqual((patched['properties'] as Record<string, unknown>)['additionalCapabilities'], { ultraSSDEnabled: false }, 'PATCH leaves what it does not name');
    }));

  it('a user-assigned identity PUT replaces its tags and keeps its principal', () =>
    withEmulator({ edit: (s) => s.roleAssignments?.push({ principalId: DEPLOYER_OBJECT_ID, role: 'Contributor', scope: RG }) }, async (em) => {
      const token = await armToken(em);
      const before = em.state.findUserAssignedIdentity(uai('id-app'));
      const put = await arm(em, token, 'PUT', `${uai('id-app')}?api-version=2023-01-31`, { location: 'westeurope', tags: { owner: 'me' } });
      assert.equal(put.status, 200, put.body);
      assert.deepEqual(em.state.findUserAssignedIdentity(uai('id-app'))?.tags, { owner: 'me' });
      assert.equal((put.json['properties'] as { principalId: string }).principalId, before?.principalId);
    }));
});

describe('strict where Azure is strict', { concurrency: 2 }, () => {
  it('an OData quote in a role name stays inside the literal; an unparsable filter is a 400', () =>
    withEmulator({}, async (em) => {
      const token = await armToken(em);
      const defs = (filter: string) => arm(em, token, 'GET', `${RG}/providers/Microsoft.Authorization/roleDefinitions?$filter=${encodeURIComponent(filter)}&api-version=2022-04-01`);
      // What a client that escapes properly sends for the role name "Reader' or roleName eq 'Owner".
      const escaped = await defs("roleName eq 'Reader'' or roleName eq ''Owner'");
      assert.equal(escaped.status, 200);
      assert.deepEqual(escaped.json['value'], [], 'no role has that odd name');
      const injected = await defs("roleName eq 'Reader' or roleName eq 'Owner'");
      assert.equal(injected.status, 400);
      assert.equal(errorOf(injected.json).code, 'UnsupportedQuery');
      for (const bad of ["roleName eq 'Reader", 'roleName eq Reader', "roleName ne 'Reader'"]) assert.equal((await defs(bad)).status, 400, bad);
      const assignments = await arm(em, token, 'GET', `${RG}/providers/Microsoft.Authorization/roleAssignments?$filter=${encodeURIComponent('principalId eq 123')}&api-version=2022-04-01`);
      assert.equal(assignments.status, 400);
      assert.equal(errorOf(assignments.json).message, "The filter 'principalId eq 123' is not supported. Supported filters are either 'atScope()' or 'principalId eq '{value}'' or 'assignedTo('{value}')'.");
    }));

  it('role assignments need a scope that exists', () =>
    withEmulator({ edit: (s) => s.roleAssignments?.push({ principalId: DEPLOYER_OBJECT_ID, role: 'Owner', scope: `/subscriptions/${SUB}` }) }, async (em) => {
      const token = await armToken(em);
      const body = { properties: { roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`, principalId: DEPLOYER_OBJECT_ID, principalType: 'ServicePrincipal' } };
      const put = (scope: string) => arm(em, token, 'PUT', `${scope}/providers/Microsoft.Authorization/roleAssignments/${crypto.randomUUID()}?api-version=2022-04-01`, body);
      const noGroup = await put(`/subscriptions/${SUB}/resourceGroups/rg-missing`);
      assert.equal(noGroup.status, 404);
      assert.deepEqual(errorOf(noGroup.json), { code: 'ResourceGroupNotFound', message: "Resource group 'rg-missing' could not be found." });
      const noResource = await put(`${RG}/providers/Microsoft.KeyVault/vaults/kv-missing`);
      assert.equal(errorOf(noResource.json).code, 'ResourceNotFound');
      assert.equal((await put(`${RG}/providers/Microsoft.Storage/storageAccounts/stprodweb`)).status, 201, 'a seeded resource');
      assert.equal(em.state.roleAssignments.filter((a) => a.scope.includes('missing')).length, 0);
    }));
});

describe('request ids, fresh GUIDs, aborted requests, logged bodies', { concurrency: 2 }, () => {
  it('answers carry x-ms-request-id and keep the caller\'s correlation and client request ids', () =>
    withEmulator({}, async (em) => {
      const token = await armToken(em);
      const res = await arm(em, token, 'GET', `${vmssId('vmss-web')}?api-version=2024-11-01`, undefined, { 'x-ms-client-request-id': 'client-1', 'x-ms-correlation-request-id': 'corr-1' });
      assert.match(String(res.headers['x-ms-request-id']), GUID);
      assert.equal(res.headers['x-ms-correlation-request-id'], 'corr-1');
      assert.equal(res.headers['x-ms-client-request-id'], 'client-1');
      const other = await arm(em, token, 'GET', `${vmssId('vmss-web')}?api-version=2024-11-01`);
      assert.notEqual(other.headers['x-ms-request-id'], res.headers['x-ms-request-id']);
      assert.match(String(other.headers['x-ms-correlation-request-id']), GUID);
    }));

  it('GUIDs differ between starts unless a seed number asks for the same ones', async () => {
    const ids = (randomSeed?: number) => withEmulator(randomSeed === undefined ? {} : { randomSeed }, async (em) => em.state.findScaleSet(SUB, 'rg-prod', 'vmss-api')?.identity.system?.principalId);
    assert.notEqual(await ids(), await ids());
    assert.equal(await ids(7), await ids(7));
  });

  it('a client that aborts mid-body leaves the server answering', () =>
    withEmulator({}, async (em) => {
      await new Promise<void>((resolve) => {
        const req = request(`${em.origin}${vmssId('vmss-web')}?api-version=2024-11-01`, { method: 'PATCH', ca: readFileSync(em.caPath), headers: { 'content-length': '100000', 'content-type': 'application/json' } });
        req.on('error', () => resolve());
        req.write('{"identity": {"type": "Sys');
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 100);
      });
      await new Promise((r) => setTimeout(r, 100));
      const token = await armToken(em);
      assert.equal((await arm(em, token, 'GET', `${vmssId('vmss-web')}?api-version=2024-11-01`)).status, 200);
      const aborted = em.log.entries.find((e) => e.aborted);
      assert.equal(aborted?.route, 'arm.vmss.patch');
      assert.equal(aborted?.status, 0);
    }));

  it('an error inside the emulator after the request body was read still answers 500', { timeout: 10_000 }, () =>
    withEmulator({}, async (em) => {
      const token = await armToken(em);
      em.controls.fault({ route: 'arm.vmss.patch', action: { kind: 'hold', until: () => { throw new Error('boom'); } } });
      const res = await arm(em, token, 'PATCH', `${vmssId('vmss-web')}?api-version=2024-11-01`, { identity: { type: 'SystemAssigned' } });
      assert.equal(res.status, 500);
      assert.match(res.body, /Emulator error: boom/);
    }));

  it('the log keeps request bodies, with assertions and secrets redacted', () =>
    withEmulator({}, async (em) => {
      const token = await armToken(em);
      await arm(em, token, 'PATCH', `${vmssId('vmss-web')}?api-version=2024-11-01`, { identity: { type: 'SystemAssigned' } });
      assert.deepEqual(em.log.of('arm.vmss.patch')[0]?.body, { identity: { type: 'SystemAssigned' } });
      const form = em.log.of('entra.token')[0]?.body as Record<string, string>;
      assert.equal(form['client_assertion'], '[redacted]');
      assert.equal(form['grant_type'], 'client_credentials');
      const logged = JSON.stringify(em.log.entries);
      // The JWTs, by their signatures (the GitHub API's tokens are opaque, and logged nowhere either).
      for (const t of em.issuedTokens()) assert.ok(!logged.includes(t.split('.')[2] ?? t), 'no token in the log');
    }));
});

describe('proxy mode', { concurrency: 2 }, () => {
  it('tunnels only the hosts it emulates; every other CONNECT is refused with 403 and logged', () =>
    withEmulator({}, async (em) => {
      assert.match(em.urls.proxy, /^http:\/\/127\.0\.0\.1:\d+$/);
      for (const host of ['example.com', 'management.azure.com.evil.test', 'storage.azure.com']) assert.equal((await tunnel(em, host)).status, 403, host);
      assert.deepEqual(em.log.refusedConnects.map((r) => r.target), ['example.com:443', 'management.azure.com.evil.test:443', 'storage.azure.com:443']);
      for (const host of ['management.azure.com', 'login.microsoftonline.com', 'management.usgovcloudapi.net', 'login.chinacloudapi.cn', 'token.actions.githubusercontent.com']) {
        const t = await tunnel(em, host);
        assert.equal(t.status, 200, host);
        t.socket?.destroy();
      }
    }));

  it('each host serves only its own service', () =>
    withEmulator({}, async (em) => {
      const armOnLogin = await viaProxy(em, 'GET', `https://login.microsoftonline.com${vmssId('vmss-web')}?api-version=2024-11-01`);
      assert.equal(armOnLogin.status, 404);
      const entraOnArm = await viaProxy(em, 'GET', `https://management.azure.com/${TENANT}/v2.0/.well-known/openid-configuration`);
      assert.equal(entraOnArm.status, 404);
      const discovery = await viaProxy(em, 'GET', `https://login.microsoftonline.com/${TENANT}/v2.0/.well-known/openid-configuration`);
      assert.equal(discovery.json['token_endpoint'], `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`);
    }));
});
