// Role assignments for the new principals, through ARM's Microsoft.Authorization API with the
// Azure SDK's REST client (its pipeline: bearer token, retries, throttling).
// No Azure SDK package wraps role assignments for modern ESM, hence these few calls by hand.
import { createHash } from 'node:crypto';
import * as core from '@actions/core';
import { getClient, type Client } from '@azure-rest/core-client';
import type { TokenCredential } from '@azure/identity';
import type { Cloud } from '../cloud.ts';
import { ActionError } from '../errors.ts';
import { isGuid } from '../resource-id.ts';
import { sleep } from '../sleep.ts';
import { USER_AGENT } from './scale-sets.ts';

const API = { 'api-version': '2022-04-01' };

export interface GrantedRole {
  role: string;
  scope: string;
  principalId: string;
  id: string;
  /** false when the same assignment existed already. */
  created: boolean;
}

interface ArmError {
  error?: { code?: string; message?: string };
}

/** The same scope, role and principal always give the same assignment name, so a rerun is a no-op. */
export function assignmentName(scope: string, roleDefinitionId: string, principalId: string): string {
  const h = createHash('sha256').update(`${scope.toLowerCase()}|${roleDefinitionId.toLowerCase()}|${principalId.toLowerCase()}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export class RoleAssignments {
  private readonly client: Client;
  private readonly definitions = new Map<string, Promise<string>>();

  constructor(credential: TokenCredential, cloud: Cloud) {
    this.client = getClient(cloud.resourceManager, credential, {
      credentials: { scopes: [cloud.scope] },
      userAgentOptions: { userAgentPrefix: USER_AGENT },
      retryOptions: { maxRetries: 4, retryDelayInMs: 1000, maxRetryDelayInMs: 16000 },
    });
  }

  /** The role definition id for a name, GUID or id; one lookup per distinct name and subscription. */
  resolve(role: string, scope: string, signal: AbortSignal): Promise<string> {
    const subscription = /^\/subscriptions\/[^/]+/i.exec(scope)?.[0] ?? '';
    if (/^\/(subscriptions\/[^/]+\/)?providers\/Microsoft\.Authorization\/roleDefinitions\/[0-9a-f-]{36}$/i.test(role)) return Promise.resolve(role);
    if (isGuid(role)) return Promise.resolve(`${subscription}/providers/Microsoft.Authorization/roleDefinitions/${role}`);
    const key = `${subscription.toLowerCase()}|${role.toLowerCase()}`;
    let found = this.definitions.get(key);
    if (!found) {
      found = this.lookup(role, scope, signal);
      this.definitions.set(key, found);
    }
    return found;
  }

  private async lookup(role: string, scope: string, signal: AbortSignal): Promise<string> {
    const res = await this.client.pathUnchecked(`${scope}/providers/Microsoft.Authorization/roleDefinitions`).get({
      queryParameters: { ...API, $filter: `roleName eq '${role.replace(/'/g, "''")}'` },
      abortSignal: signal,
    });
    if (res.status !== '200') throw armError(res.body as ArmError, Number(res.status), `look up role '${role}' at '${scope}'`);
    const match = ((res.body as { value?: { id?: string }[] }).value ?? [])[0]?.id;
    if (!match) {
      throw new ActionError(`Role '${role}' does not exist at scope '${scope}'. Use a built-in role name exactly as Azure spells it (for example 'Storage Blob Data Reader'), a custom role's name, or a role definition id.`);
    }
    return match;
  }

  /** Grants the role, waiting out Entra's replication delay for a brand-new principal (PrincipalNotFound). */
  async grant(role: string, scope: string, principalId: string, signal: AbortSignal): Promise<GrantedRole> {
    const roleDefinitionId = await this.resolve(role, scope, signal);
    const name = assignmentName(scope, roleDefinitionId, principalId);
    const id = `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`;
    // A rerun finds its own assignment by name and writes nothing.
    const current = await this.client.pathUnchecked(id).get({ queryParameters: API, abortSignal: signal });
    if (current.status === '200') return { role, scope, principalId, id, created: false };
    for (let attempt = 0; ; attempt++) {
      const res = await this.client.pathUnchecked(id).put({
        queryParameters: API,
        // principalType skips the directory lookup that fails for principals Entra has not replicated yet.
        body: { properties: { roleDefinitionId, principalId, principalType: 'ServicePrincipal' } },
        abortSignal: signal,
      });
      const status = Number(res.status);
      if (status === 200 || status === 201) return { role, scope, principalId, id, created: true };
      const code = (res.body as ArmError).error?.code;
      if (code === 'RoleAssignmentExists') return { role, scope, principalId, id: await this.existing(scope, roleDefinitionId, principalId, signal) ?? id, created: false };
      if (code === 'PrincipalNotFound') {
        const wait = Math.min(30_000, 2000 * 2 ** Math.min(attempt, 4));
        core.info(`Principal ${principalId} is not visible to Azure RBAC yet (Entra replication); granting '${role}' again in ${wait / 1000} s.`);
        await sleep(wait, signal);
        continue;
      }
      throw armError(res.body as ArmError, status, `grant '${role}' at '${scope}' to ${principalId}`);
    }
  }

  private async existing(scope: string, roleDefinitionId: string, principalId: string, signal: AbortSignal): Promise<string | undefined> {
    const res = await this.client.pathUnchecked(`${scope}/providers/Microsoft.Authorization/roleAssignments`).get({
      queryParameters: { ...API, $filter: `principalId eq '${principalId}'` },
      abortSignal: signal,
    });
    const guid = roleDefinitionId.split('/').pop()?.toLowerCase();
    const list = (res.body as { value?: { id: string; properties: { roleDefinitionId: string; scope: string } }[] }).value ?? [];
    return list.find((a) => a.properties.roleDefinitionId.split('/').pop()?.toLowerCase() === guid && a.properties.scope.toLowerCase() === scope.toLowerCase())?.id;
  }
}

function armError(body: ArmError, status: number, what: string): Error {
  const code = body.error?.code ?? `HTTP ${status}`;
  const message = body.error?.message ?? '';
  if (code === 'AuthorizationFailed') {
    const scope = /over scope '([^']+)'/.exec(message)?.[1] ?? 'the scope';
    return new ActionError(`Permission denied: could not ${what} (AuthorizationFailed): the signed-in identity may not write role assignments on '${scope}'. Grant it 'Role Based Access Control Administrator' (or 'User Access Administrator' or 'Owner') there.`);
  }
  return new ActionError(`Could not ${what} (${code}): ${message}`);
}
