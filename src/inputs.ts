// Inputs → one typed, validated Settings object. Everything a user can get wrong is caught
// here, before the first request to Azure.
import { resolveCloud, type Cloud } from './cloud.ts';
import { InputError } from './errors.ts';
import { parseIdentityType } from './identity.ts';
import type { Operation } from './plan.ts';
import {
  checkIdentityName, checkResourceGroup, checkScaleSetName, isGuid, parseIdentityId, parseScaleSetId, sameId, scaleSetId, type ScaleSetRef,
} from './resource-id.ts';

export const INPUTS = [
  'client-id', 'tenant-id', 'subscription-id', 'audience', 'environment', 'resource-manager-endpoint', 'authority-host',
  'resource-group', 'vmss-name', 'vmss-id', 'operation', 'identity-type', 'user-assigned-ids', 'dry-run', 'timeout-seconds', 'max-parallel',
  'role-assignments', 'role-assignee', 'remove-legacy-extension',
] as const;
export type InputName = (typeof INPUTS)[number];

export type SignIn =
  | { kind: 'oidc'; clientId: string; tenantId: string; audience: string }
  | { kind: 'azure-cli' };

export interface Settings {
  signIn: SignIn;
  cloud: Cloud;
  /** The scale sets to configure, each with its subscription. */
  targets: ScaleSetRef[];
  operation: Operation;
  /** See IdentityRequest.system. */
  system?: boolean;
  /** Full resource ids or bare names (resolved in each scale set's resource group). */
  userAssignedIds: string[];
  dryRun: boolean;
  timeoutSeconds: number;
  maxParallel: number;
  /** Roles to grant each scale set's identity after the change. */
  roleAssignments: RoleRequest[];
  /** The user-assigned identity (id or bare name) that receives the roles; the system-assigned one when empty. */
  roleAssignee?: string;
  removeLegacyExtension: boolean;
}

export interface RoleRequest {
  /** A role name ("Storage Blob Data Reader"), a role definition GUID or its full id. */
  role: string;
  scope: string;
}

/** Reads one input, trimmed, '' when not given (the runner passes every input as a string). */
export type ReadInput = (name: InputName) => string;

const OPERATIONS: Operation[] = ['set', 'assign', 'remove', 'show'];
const TYPES = "SystemAssigned, UserAssigned, 'SystemAssigned, UserAssigned' or None";

/** Splits a list input on new lines and commas. */
export function list(value: string): string[] {
  return value.split(/[\n,]/).map((v) => v.trim()).filter(Boolean);
}

function bool(input: InputName, value: string, fallback: boolean): boolean {
  if (value === '') return fallback;
  if (['true', 'True', 'TRUE'].includes(value)) return true;
  if (['false', 'False', 'FALSE'].includes(value)) return false;
  throw new InputError(input, `'${value}' is not a boolean. Use true or false.`);
}

function integer(input: InputName, value: string, fallback: number, min: number, max: number): number {
  if (value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new InputError(input, `'${value}' is not a whole number from ${min} to ${max}.`);
  }
  return Number(value);
}

export function readSettings(read: ReadInput, env: NodeJS.ProcessEnv = {}): Settings {
  const operation = readOperation(read('operation'));
  const { system, userAssignedIds } = readIdentity(operation, read('identity-type'), read('user-assigned-ids'));
  const roleAssignments = readRoleAssignments(read('role-assignments'));
  const roleAssignee = readRoleAssignee(read('role-assignee'), roleAssignments, operation, system, userAssignedIds);
  return {
    signIn: readSignIn(read, env),
    cloud: resolveCloud(read('environment'), read('resource-manager-endpoint') || env['AZURE_RESOURCE_MANAGER_ENDPOINT'] || '', read('authority-host') || env['AZURE_AUTHORITY_HOST'] || ''),
    targets: readTargets(read, env),
    operation,
    ...(system !== undefined ? { system } : {}),
    userAssignedIds,
    dryRun: bool('dry-run', read('dry-run'), false),
    timeoutSeconds: integer('timeout-seconds', read('timeout-seconds'), 900, 10, 21600),
    maxParallel: integer('max-parallel', read('max-parallel'), 50, 1, 100),
    roleAssignments,
    ...(roleAssignee ? { roleAssignee } : {}),
    removeLegacyExtension: bool('remove-legacy-extension', read('remove-legacy-extension'), false),
  };
}

const ROLE_LINE = /^(.+?)\s+at\s+(\/\S*)$/;
const SCOPE = /^\/(subscriptions\/[0-9a-f-]{36}(\/resourceGroups\/[^/]+(\/providers\/[^/]+(\/[^/]+\/[^/]+)+)?)?|providers\/Microsoft\.Management\/managementGroups\/[^/]+)$/i;

function readRoleAssignments(value: string): RoleRequest[] {
  const lines = value.split('\n').map((l) => l.trim()).filter(Boolean);
  const requests = lines.map((line) => {
    const m = ROLE_LINE.exec(line);
    if (!m) throw new InputError('role-assignments', `'${line}' is not 'ROLE at SCOPE' (for example: Storage Blob Data Reader at /subscriptions/…/resourceGroups/…/providers/Microsoft.Storage/storageAccounts/NAME).`);
    const [, role = '', scope = ''] = m;
    if (/[?#%\\]|\/\.\.?(\/|$)/.test(scope) || !SCOPE.test(scope.replace(/\/+$/, ''))) {
      throw new InputError('role-assignments', `'${scope}' is not a scope: use a subscription, resource group or resource id (/subscriptions/{id}/…) or a management group.`);
    }
    return { role: role.trim(), scope: scope.replace(/\/+$/, '') };
  });
  requests.forEach((r, i) => {
    if (requests.slice(0, i).some((o) => o.role.toLowerCase() === r.role.toLowerCase() && sameId(o.scope, r.scope))) {
      throw new InputError('role-assignments', `lists '${r.role} at ${r.scope}' twice. List each assignment once.`);
    }
  });
  return requests;
}

function readRoleAssignee(value: string, roles: RoleRequest[], operation: Operation, system: boolean | undefined, ids: string[]): string | undefined {
  if (value && roles.length === 0) throw new InputError('role-assignee', "is set but role-assignments is empty. Remove it, or list the roles to grant.");
  if (roles.length === 0) return undefined;
  if (operation === 'show') throw new InputError('role-assignments', "is set but operation 'show' only reads. Use operation assign or set to grant roles.");
  if (value) {
    if (value.startsWith('/')) parseIdentityId('role-assignee', value);
    else checkIdentityName('role-assignee', value);
    if (operation === 'remove' && ids.some((id) => sameId(id, value) || sameId(id.split('/').pop() ?? '', value))) {
      throw new InputError('role-assignee', `names '${value}', which this step removes. Grant roles to an identity the scale set keeps.`);
    }
    return value;
  }
  const losesSystem = (operation === 'set' && system === false) || (operation === 'remove' && system === true);
  if (losesSystem) {
    throw new InputError('role-assignments', 'needs the system-assigned identity, which this step removes. Name a user-assigned identity in role-assignee, or keep the system-assigned identity.');
  }
  return undefined;
}

function readOperation(value: string): Operation {
  const op = (value || 'set').toLowerCase() as Operation;
  if (!OPERATIONS.includes(op)) throw new InputError('operation', `'${value}' is not an operation. Use set, assign, remove or show.`);
  return op;
}

function readSignIn(read: ReadInput, env: NodeJS.ProcessEnv): SignIn {
  const clientId = read('client-id') || env['AZURE_CLIENT_ID'] || '';
  const tenantId = read('tenant-id') || env['AZURE_TENANT_ID'] || '';
  if (!clientId && !tenantId) return { kind: 'azure-cli' };
  if (!clientId || !tenantId) {
    const missing = clientId ? 'tenant-id' : 'client-id';
    throw new InputError(missing, `is empty while ${missing === 'client-id' ? 'tenant-id' : 'client-id'} is set. Give both (or the AZURE_CLIENT_ID and AZURE_TENANT_ID variables) to sign in with OIDC, or neither to use an earlier azure/login session.`);
  }
  if (!isGuid(clientId)) throw new InputError('client-id', `'${clientId}' is not a GUID. Use the application (client) id of the app registration or managed identity that has the federated credential.`);
  if (!isGuid(tenantId) && !/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(tenantId)) {
    throw new InputError('tenant-id', `'${tenantId}' is neither a GUID nor a domain name. Use the directory (tenant) id.`);
  }
  const audience = read('audience') || 'api://AzureADTokenExchange';
  return { kind: 'oidc', clientId, tenantId, audience };
}

function readTargets(read: ReadInput, env: NodeJS.ProcessEnv): ScaleSetRef[] {
  const ids = list(read('vmss-id'));
  const names = list(read('vmss-name'));
  const resourceGroup = read('resource-group');
  const subscriptionInput = read('subscription-id');
  if (ids.length > 0 && names.length > 0) {
    throw new InputError('vmss-id', "is set together with 'vmss-name'. Name the scale sets one way: 'vmss-id', or 'resource-group' with 'vmss-name'.");
  }
  let targets: ScaleSetRef[];
  if (ids.length > 0) {
    if (resourceGroup) throw new InputError('resource-group', "is not used with 'vmss-id' (the id names the resource group). Remove one of them.");
    targets = ids.map((id) => parseScaleSetId('vmss-id', id));
    for (const t of targets) {
      if (subscriptionInput && !sameId(subscriptionInput, t.subscriptionId)) {
        throw new InputError('subscription-id', `'${subscriptionInput}' conflicts with subscription '${t.subscriptionId}' in vmss-id '${scaleSetId(t)}'. Remove subscription-id or make them agree.`);
      }
    }
  } else {
    if (names.length === 0) throw new InputError('vmss-name', "is empty. Give 'resource-group' and 'vmss-name', or 'vmss-id' (the scale set's full resource id).");
    if (!resourceGroup) throw new InputError('resource-group', "is empty. 'vmss-name' needs the resource group the scale set is in.");
    checkResourceGroup('resource-group', resourceGroup);
    const subscriptionId = subscriptionInput || env['AZURE_SUBSCRIPTION_ID'] || '';
    if (!subscriptionId) throw new InputError('subscription-id', "is empty. Give 'subscription-id' (or the AZURE_SUBSCRIPTION_ID variable), or use 'vmss-id'.");
    if (!isGuid(subscriptionId)) throw new InputError('subscription-id', `'${subscriptionId}' is not a GUID.`);
    for (const n of names) checkScaleSetName('vmss-name', n);
    targets = names.map((name) => ({ subscriptionId, resourceGroup, name }));
  }
  const seen = new Map<string, string>();
  for (const t of targets) {
    const key = scaleSetId(t).toLowerCase();
    if (seen.has(key)) throw new InputError(ids.length ? 'vmss-id' : 'vmss-name', `names the scale set '${t.name}' twice. List each scale set once.`);
    seen.set(key, t.name);
  }
  return targets;
}

function readIdentity(operation: Operation, typeValue: string, idsValue: string): { system?: boolean; userAssignedIds: string[] } {
  const ids = list(idsValue);
  if (operation === 'show') {
    if (typeValue || ids.length) {
      throw new InputError(typeValue ? 'identity-type' : 'user-assigned-ids', "is set but operation 'show' only reads. Remove it, or choose operation set, assign or remove.");
    }
    return { userAssignedIds: [] };
  }
  const type = typeValue ? parseIdentityType(typeValue) : undefined;
  if (typeValue && !type) throw new InputError('identity-type', `'${typeValue}' is not an identity type. Use ${TYPES} (any case).`);
  const userAssignedIds = readIdentityIds(ids);

  if (operation === 'set') {
    if (!type) throw new InputError('identity-type', `is required for operation 'set'. Use ${TYPES}.`);
    if (!type.user && userAssignedIds.length > 0) {
      throw new InputError('user-assigned-ids', `lists identities but identity-type '${typeValue}' has no UserAssigned. Add UserAssigned to identity-type, or remove user-assigned-ids.`);
    }
    if (type.user && userAssignedIds.length === 0) {
      throw new InputError('user-assigned-ids', `is empty but identity-type '${typeValue}' includes UserAssigned. List the identities the scale set should have.`);
    }
    return { system: type.system, userAssignedIds };
  }
  const verb = operation === 'assign' ? 'add' : 'remove';
  if (type && !type.system && !type.user) {
    throw new InputError('identity-type', `None means nothing to ${verb} with operation '${operation}'. To drop every identity use operation 'set' with identity-type None.`);
  }
  if (type?.user && userAssignedIds.length === 0) {
    throw new InputError('user-assigned-ids', `is empty but identity-type includes UserAssigned. List the identities to ${verb}.`);
  }
  if (type && !type.user && userAssignedIds.length > 0) {
    throw new InputError('user-assigned-ids', `lists identities but identity-type '${typeValue}' has no UserAssigned. Use identity-type 'SystemAssigned, UserAssigned' to ${verb} both, or leave identity-type empty.`);
  }
  if (!type && userAssignedIds.length === 0) {
    throw new InputError('user-assigned-ids', `is empty and identity-type is not set, so there is nothing to ${verb}. Give user-assigned-ids, identity-type SystemAssigned, or both.`);
  }
  return { ...(type?.system ? { system: true } : {}), userAssignedIds };
}

function readIdentityIds(values: string[]): string[] {
  const ids = values.map((v) => {
    if (v.startsWith('/')) return parseIdentityId('user-assigned-ids', v);
    if (v.includes('/')) {
      throw new InputError('user-assigned-ids', `'${v}' is neither a full resource id (starting with /subscriptions/) nor a bare identity name.`);
    }
    checkIdentityName('user-assigned-ids', v);
    return v;
  });
  for (let i = 0; i < ids.length; i++) {
    const twin = ids.slice(0, i).find((other) => sameId(other, ids[i] ?? ''));
    if (twin !== undefined) {
      throw new InputError('user-assigned-ids', `lists '${ids[i]}' twice${twin === ids[i] ? '' : ` (also as '${twin}'; ids compare case-insensitively)`}. List each identity once.`);
    }
  }
  return ids;
}
