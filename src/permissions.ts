// What the plan's writes need from Azure RBAC, and whether a permissions list grants it. Pure.
// The list ARM returns holds one block per role the caller has at a scope (inherited ones
// included); a block's notActions only take away from that block's actions.

export interface PermissionBlock {
  actions: string[];
  notActions: string[];
}

export const ACTIONS = {
  scaleSetWrite: 'Microsoft.Compute/virtualMachineScaleSets/write',
  assignIdentity: 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action',
  roleAssignmentWrite: 'Microsoft.Authorization/roleAssignments/write',
  extensionDelete: 'Microsoft.Compute/virtualMachineScaleSets/extensions/delete',
} as const;
export type Action = (typeof ACTIONS)[keyof typeof ACTIONS];

/** The narrowest built-in role that grants each action (reference §16.4). */
export const GRANTING_ROLE: Record<Action, string> = {
  [ACTIONS.scaleSetWrite]: 'Virtual Machine Contributor',
  [ACTIONS.assignIdentity]: 'Managed Identity Operator',
  [ACTIONS.roleAssignmentWrite]: 'Role Based Access Control Administrator',
  [ACTIONS.extensionDelete]: 'Virtual Machine Contributor',
};

const escape = (text: string) => text.replace(/[.+?^${}()|[\]\\]/g, (c) => `\\${c}`);

// ARM's wildcard, case-insensitively: a star matches any run of characters, and a star between
// two slashes also matches no segment at all: Managed Identity Operator's
// "userAssignedIdentities/<star>/assign/action" is what grants "userAssignedIdentities/assign/action".
export function actionMatches(pattern: string, action: string): boolean {
  const body = pattern.split('/*/').map((part) => part.split('*').map(escape).join('.*')).join('(?:/.*)?/');
  return new RegExp(`^${body}$`, 'i').test(action);
}

/** Allowed when some block's actions match and none of that same block's notActions do. */
export function allows(blocks: PermissionBlock[], action: string): boolean {
  return blocks.some((b) => b.actions.some((p) => actionMatches(p, action)) && !b.notActions.some((p) => actionMatches(p, action)));
}
