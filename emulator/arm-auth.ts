// ARM's front door: bearer token checks (401s) and RBAC (403s), in ARM's wording.
import { compactVerify, createLocalJWKSet, decodeJwt } from 'jose';
import { armError, bearer, type Exchange } from './http.ts';
import type { CloudProfile } from './clouds.ts';
import type { Entra } from './entra.ts';
import { roleAllows, scopeContains, type RoleDefinition } from './roles.ts';
import type { State } from './state.ts';

export interface Caller {
  objectId: string;
  appId: string;
  tenantId: string;
}

function armClock(ms: number): string {
  return new Date(ms).toLocaleString('en-US', { timeZone: 'UTC' }).replace(',', '');
}

/**
 * Verifies the bearer token; answers 401 itself and returns undefined when it is not good.
 * Only the audiences of the cloud that was reached pass: the emulator's own at its origin,
 * the public cloud's under management.azure.com.
 */
export async function authenticate(x: Exchange, entra: Entra, state: State, cloud: CloudProfile, subscriptionId?: string): Promise<Caller | undefined> {
  const token = bearer(x.req);
  const login = cloud.loginEndpoint.replace(/\/?$/, '/');
  const challenge = (desc: string) => ({ 'www-authenticate': `Bearer authorization_uri="${login}", error="invalid_token", error_description="${desc}"` });
  if (!token) {
    await armError(x, 401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.", {}, challenge("The authentication failed because of missing 'Authorization' header."));
    return undefined;
  }
  let claims: Record<string, unknown>;
  try {
    await compactVerify(token, createLocalJWKSet({ keys: [entra.key.publicJwk] }));
    claims = decodeJwt(token);
  } catch {
    await armError(x, 401, 'InvalidAuthenticationToken', 'The access token is invalid.', {}, challenge('The access token is invalid.'));
    return undefined;
  }
  const exp = Number(claims['exp'] ?? 0) * 1000;
  if (Date.now() >= exp) {
    await armError(x, 401, 'ExpiredAuthenticationToken', `The access token expiry UTC time '${armClock(exp)}' is earlier than current UTC time '${armClock(Date.now())}'.`, {}, challenge('The access token expiry UTC time is earlier than current UTC time.'));
    return undefined;
  }
  const allowed = cloud.audiences;
  if (!allowed.includes(String(claims['aud']))) {
    await armError(x, 401, 'InvalidAuthenticationTokenAudience', `The access token has been obtained for wrong audience or resource '${String(claims['aud'])}'. It should exactly match with one of the allowed audiences '${allowed.join("','")}'.`);
    return undefined;
  }
  const tenantId = String(claims['tid']);
  if (subscriptionId) {
    const sub = state.subscriptions.get(subscriptionId.toLowerCase());
    if (sub && sub.tenantId.toLowerCase() !== tenantId.toLowerCase()) {
      await armError(x, 401, 'InvalidAuthenticationTokenTenant', `The access token is from the wrong issuer 'https://sts.windows.net/${tenantId}/'. It must match the tenant 'https://sts.windows.net/${sub.tenantId}/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/${sub.tenantId}' to get the token.`);
      return undefined;
    }
  }
  const caller = { objectId: String(claims['oid']), appId: String(claims['appid']), tenantId };
  x.caller = caller.objectId;
  return caller;
}

/** The role definitions of the principal's assignments at `scope` or above it, one per assignment. */
export function grantsAt(state: State, principalId: string, scope: string): RoleDefinition[] {
  return state.roleAssignments
    .filter((a) => a.principalId.toLowerCase() === principalId.toLowerCase() && scopeContains(a.scope, scope))
    .flatMap((a) => state.findRole(a.roleDefinitionId) ?? []);
}

export function hasPermission(state: State, principalId: string, action: string, scope: string): boolean {
  return grantsAt(state, principalId, scope).some((def) => roleAllows(def, action));
}

/** Whether some role assignment strictly inside `scope` lets the principal perform `action` there. */
export function readsInside(state: State, principalId: string, action: string, scope: string): boolean {
  return state.roleAssignments.some((a) => {
    if (a.principalId.toLowerCase() !== principalId.toLowerCase() || !scopeContains(scope, a.scope)) return false;
    const def = state.findRole(a.roleDefinitionId);
    return def !== undefined && roleAllows(def, action);
  });
}

/** 403 AuthorizationFailed unless the caller may perform `action` on `scope`. */
export async function authorize(x: Exchange, state: State, caller: Caller, action: string, scope: string): Promise<boolean> {
  if (hasPermission(state, caller.objectId, action, scope)) return true;
  await armError(x, 403, 'AuthorizationFailed',
    `The client '${caller.objectId}' with object id '${caller.objectId}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`);
  return false;
}
