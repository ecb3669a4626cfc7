// Built-in role definitions (ids as Azure publishes them) and the RBAC check the
// ARM routes run before they act.
export interface RoleDefinition {
  /** The role definition GUID. */
  name: string;
  roleName: string;
  type: 'BuiltInRole' | 'CustomRole';
  actions: string[];
  notActions: string[];
  dataActions?: string[];
  notDataActions?: string[];
}

const role = (name: string, roleName: string, actions: string[], notActions: string[] = [], dataActions: string[] = []): RoleDefinition => ({
  name,
  roleName,
  type: 'BuiltInRole',
  actions,
  notActions,
  dataActions,
});

export const builtInRoles: RoleDefinition[] = [
  role('8e3af657-a8ff-443c-a75c-2fe8c4bcb635', 'Owner', ['*']),
  role('b24988ac-6180-42a0-ab88-20f7382dd24c', 'Contributor', ['*'], [
    'Microsoft.Authorization/*/Delete',
    'Microsoft.Authorization/*/Write',
    'Microsoft.Authorization/elevateAccess/Action',
  ]),
  role('acdd72a7-3385-48ef-bd42-f606fba81ae7', 'Reader', ['*/read']),
  role('9980e02c-c2be-4d73-94e8-173b1dc7cf3c', 'Virtual Machine Contributor', [
    'Microsoft.Authorization/*/read',
    'Microsoft.Compute/virtualMachineScaleSets/*',
    'Microsoft.Compute/virtualMachines/*',
    'Microsoft.Compute/locations/*',
    'Microsoft.Resources/subscriptions/resourceGroups/read',
  ]),
  role('f1a07417-d97a-45cb-824c-7a7467783830', 'Managed Identity Operator', [
    'Microsoft.ManagedIdentity/userAssignedIdentities/*/read',
    'Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action',
    'Microsoft.Authorization/*/read',
    'Microsoft.Resources/subscriptions/resourceGroups/read',
  ]),
  role('18d7d88d-d35e-4fb5-a5c3-7773c20a72d9', 'User Access Administrator', ['*/read', 'Microsoft.Authorization/*']),
  role('f58310d9-a9f6-439a-9e8d-f62e7b41a168', 'Role Based Access Control Administrator', [
    'Microsoft.Authorization/roleAssignments/write',
    'Microsoft.Authorization/roleAssignments/delete',
    '*/read',
  ]),
  role('2a2b9908-6ea1-4ae2-8e65-a410df84e7d1', 'Storage Blob Data Reader', [
    'Microsoft.Storage/storageAccounts/blobServices/containers/read',
    'Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action',
  ], [], ['Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read']),
  role('4633458b-17de-408a-b874-0445c86b69e6', 'Key Vault Secrets User', [], [], [
    'Microsoft.KeyVault/vaults/secrets/getSecret/action',
    'Microsoft.KeyVault/vaults/secrets/readMetadata/action',
  ]),
  role('7f951dda-4ed3-4680-a7ca-43fe172d538d', 'AcrPull', ['Microsoft.ContainerRegistry/registries/pull/read']),
];

// Azure's wildcard: "*" matches anything, and "/*/" also matches a single "/".
function matches(pattern: string, action: string): boolean {
  const escape = (p: string) => p.replace(/[.+?^${}()|[\]\\]/g, (c) => `\\${c}`);
  const body = pattern.split('/*/').map((part) => part.split('*').map(escape).join('.*')).join('(?:/.*)?/');
  return new RegExp(`^${body}$`, 'i').test(action);
}

export function roleAllows(def: RoleDefinition, action: string): boolean {
  return def.actions.some((a) => matches(a, action)) && !def.notActions.some((a) => matches(a, action));
}

/** True when `scope` is `parent` or lies below it (ARM ids compare case-insensitively). */
export function scopeContains(parent: string, scope: string): boolean {
  const p = parent.toLowerCase().replace(/\/+$/, '');
  const s = scope.toLowerCase();
  return s === p || s.startsWith(`${p}/`) || p === '';
}
