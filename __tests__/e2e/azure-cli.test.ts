// Without client-id and tenant-id the action uses the Azure CLI session of an earlier
// azure/login step. A stand-in `az` on PATH answers `az account get-access-token` with a token
// the emulator's Entra issued, as the real CLI would after azure/login.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { armToken, credential } from '../support/clients.ts';
import { scaleSet, SUB, TENANT, withEmulator } from '../support/emulator.ts';
import { runAction } from '../support/run-action.ts';

const noOidc = { AZURE_CLIENT_ID: undefined, AZURE_TENANT_ID: undefined, ACTIONS_ID_TOKEN_REQUEST_URL: undefined, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined };
const inputs = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'identity-type': 'SystemAssigned', 'subscription-id': SUB };

describe('the Azure CLI session fallback', () => {
  it('uses the session az has, and says so', () =>
    withEmulator({}, async (em) => {
      // Like the real CLI, the stand-in answers for the resource asked: the emulator's own cloud
      // (resource-manager-endpoint) or the public cloud (reached through the proxy mode).
      const answer = (token: string) => JSON.stringify({ accessToken: token, expiresOn: '2099-01-01 00:00:00.000000', expires_on: Math.floor(Date.now() / 1000) + 3600, subscription: SUB, tenant: TENANT, tokenType: 'Bearer' });
      const own = answer(await armToken(em));
      const pub = answer((await credential(em).getToken('https://management.azure.com/.default'))?.token ?? '');
      const bin = mkdtempSync(join(tmpdir(), 'fake-az-'));
      writeFileSync(join(bin, 'az'), `#!/bin/sh\nif [ "$1 $2" = "account get-access-token" ]; then\n  case "$*" in *management.azure.com*|*management.core.windows.net*) echo '${pub}';; *) echo '${own}';; esac\n  exit 0\nfi\necho "unexpected az $*" >&2\nexit 1\n`);
      chmodSync(join(bin, 'az'), 0o755);
      em.log.clear();
      try {
        const run = await runAction(em, inputs, { env: { ...noOidc, PATH: `${bin}:${process.env['PATH'] ?? ''}` } });
        assert.equal(run.code, 0, run.stdout + run.stderr);
        assert.match(run.stdout, /No client-id\/tenant-id given: using the Azure CLI session of an earlier azure\/login step\./);
        assert.ok(scaleSet(em, 'vmss-web').identity.system);
        assert.equal(em.log.of('github').length + em.log.of('entra').length, 0, 'no OIDC exchange');
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    }));

  it('without az and without client-id/tenant-id: says how to sign in', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, inputs, { env: { ...noOidc, PATH: '/nonexistent' } });
      assert.equal(run.code, 1);
      assert.match(run.stdout, /::error::No Azure sign-in: client-id\/tenant-id are not set and there is no Azure CLI session \(.*\)\. Give client-id and tenant-id to sign in with OIDC, or run azure\/login before this step\./);
      assert.deepEqual(em.log.entries.map((e) => e.route), ['arm.metadata'], 'nothing but the cloud metadata was asked');
    }));
});
