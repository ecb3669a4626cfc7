// ARM failures → what happened, why, and what to do, in one or two lines.
import type { ScaleSetRef } from '../resource-id.ts';

export interface ArmFailure {
  statusCode?: number;
  code?: string;
  message: string;
}

export function armFailure(error: unknown): ArmFailure {
  const e = error as { statusCode?: number; code?: string; message?: string; details?: { error?: { code?: string; message?: string } } };
  const code = e.details?.error?.code ?? e.code;
  return {
    ...(typeof e.statusCode === 'number' ? { statusCode: e.statusCode } : {}),
    ...(code ? { code } : {}),
    message: e.details?.error?.message ?? e.message ?? String(error),
  };
}

const ROLE_FOR_ACTION: [RegExp, string][] = [
  [/userAssignedIdentities\/(\*\/)?assign\/action/i, "'Managed Identity Operator' on the user-assigned identity (or its resource group)"],
  [/virtualMachineScaleSets\/read/i, "'Reader' (or 'Virtual Machine Contributor') on the scale set or its resource group"],
  [/virtualMachineScaleSets\//i, "'Virtual Machine Contributor' on the scale set or its resource group"],
  [/roleAssignments\/write/i, "'Role Based Access Control Administrator' (or 'User Access Administrator') on the scope"],
  [/roleDefinitions\/read/i, "'Reader' on the scope"],
];

function roleFor(action: string): string {
  return ROLE_FOR_ACTION.find(([re]) => re.test(action))?.[1] ?? 'a role that grants it';
}

export function describeArmError(error: unknown, ref: ScaleSetRef, signedInAs: string): string {
  const f = armFailure(error);
  const where = `scale set '${ref.name}' in resource group '${ref.resourceGroup}' (subscription ${ref.subscriptionId})`;
  switch (f.code) {
    case 'AuthorizationFailed': {
      const action = /perform action '([^']+)'/.exec(f.message)?.[1] ?? 'the operation';
      const scope = /over scope '([^']+)'/.exec(f.message)?.[1] ?? where;
      return `Permission denied: ${signedInAs} may not perform '${action}' on '${scope}' (AuthorizationFailed). Grant it ${roleFor(action)}; new role assignments can take a few minutes to apply.`;
    }
    case 'LinkedAuthorizationFailed': {
      const actions = [...f.message.matchAll(/action '([^']+)'/g)].map((m) => m[1] ?? '');
      const action = actions[actions.length - 1] ?? 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action';
      const scope = /linked scope\(s\) '([^']+)'/.exec(f.message)?.[1] ?? 'the user-assigned identity';
      return `Permission denied: ${signedInAs} may update the scale set but may not perform '${action}' on '${scope}' (LinkedAuthorizationFailed). Grant it ${roleFor(action)}.`;
    }
    case 'ResourceGroupNotFound':
      return `Resource group '${ref.resourceGroup}' was not found in subscription ${ref.subscriptionId} (ResourceGroupNotFound). Check resource-group and subscription-id.`;
    case 'ResourceNotFound':
      return `The ${where} was not found (ResourceNotFound). Check vmss-name (or vmss-id) and subscription-id; create the scale set before this step.`;
    case 'SubscriptionNotFound':
      return `Subscription ${ref.subscriptionId} was not found or the signed-in identity has no access to it (SubscriptionNotFound). Check subscription-id.`;
    case 'FailedIdentityOperation': {
      const missing = /Resource '([^']+)' was not found/.exec(f.message)?.[1];
      return `A user-assigned identity does not exist${missing ? `: ${missing}` : ''} (FailedIdentityOperation). Check user-assigned-ids; create the identity first (az identity create).`;
    }
    case 'InvalidAuthenticationToken':
    case 'ExpiredAuthenticationToken':
    case 'InvalidAuthenticationTokenAudience':
    case 'InvalidAuthenticationTokenTenant':
    case 'AuthenticationFailed':
      return `Azure Resource Manager rejected the access token (${f.code}): ${f.message} Check tenant-id and environment match the subscription's tenant.`;
  }
  const code = f.code ? ` (${f.code}${f.statusCode ? `, HTTP ${f.statusCode}` : ''})` : f.statusCode ? ` (HTTP ${f.statusCode})` : '';
  return `Azure rejected the request for ${where}${code}: ${f.message}`;
}
