// Every failure, phrased for the user in one place: what happened, why, and what to do.
import { isStopped } from './abort.ts';
import { armFailure, describeDetails, type ArmFailure } from './azure/arm-errors.ts';
import { ActionError, InputError } from './errors.ts';
import type { TargetResult } from './result.ts';
import type { ScaleSetRef, SignIn } from './settings.ts';
import { clip, q } from './text.ts';

export interface SignInFacts {
  issuer?: string;
  subject?: string;
  audience?: string;
}

export const NO_ID_TOKEN =
  'GitHub did not give this job an OIDC token request URL (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are not set), so the action cannot sign in to Azure without a secret. ' +
  "Add 'permissions: id-token: write' to the job or workflow (a reusable workflow needs its caller to grant it); pull requests from forks and Dependabot never get it.";

const OIDC_FAILED = 'Could not get an OIDC token from GitHub';

export function oidcFailed(error: unknown, env: NodeJS.ProcessEnv): string {
  const reason = clip(((error as Error)?.message ?? String(error)).replace(/\s+/g, ' ').replace(/^Error message: /, ''));
  let host = '?';
  try {
    host = new URL(env['ACTIONS_ID_TOKEN_REQUEST_URL'] ?? '').host;
  } catch {
    // leave '?'
  }
  return `${OIDC_FAILED} (${reason}). GitHub's token service did not answer; re-run the job, and check the runner can reach ${host}.`;
}

/** The subjects a federated credential for this workflow run could have. */
export function subjectForms(env: NodeJS.ProcessEnv): string[] {
  const repo = clip(env['GITHUB_REPOSITORY'] ?? 'OWNER/REPO');
  const ref = clip(env['GITHUB_REF'] ?? 'refs/heads/BRANCH');
  return [
    `repo:${repo}:ref:${ref}`,
    `repo:${repo}:environment:ENVIRONMENT-NAME (when the job has an environment)`,
    `repo:${repo}:pull_request (pull_request events)`,
  ];
}

/** Turns an Entra (or Azure CLI) failure into what happened, why, and what to do. */
export function describeSignInError(error: unknown, settings: SignIn, facts: SignInFacts, env: NodeJS.ProcessEnv, audience?: string): string | undefined {
  if (error instanceof ActionError || error instanceof InputError) return error.message;
  const message = clip((error as Error)?.message ?? String(error), 1000);
  // The credential wraps what getAssertion threw; the action's own message is inside.
  const own = message.indexOf(OIDC_FAILED);
  if (own >= 0) return message.slice(own).split('\\n')[0];
  const code = /AADSTS(\d+)/.exec(message)?.[1];
  if (settings.kind === 'azure-cli') {
    if (/az login|Azure CLI|az: not found|ENOENT/i.test(message)) {
      return `No Azure sign-in: client-id/tenant-id are not set and there is no Azure CLI session (${message.split('\\n')[0]}). Give client-id and tenant-id to sign in with OIDC, or run azure/login before this step.`;
    }
    return undefined;
  }
  const seen = `The token has issuer ${q(facts.issuer ?? '?')}, subject ${q(facts.subject ?? '?')} and audience ${q(facts.audience ?? audience ?? '?')}; Entra compares them case-sensitively.`;
  switch (code) {
    case '700212':
      return [
        `Entra ID found no federated credential on app ${settings.clientId} for the GitHub token's audience ${q(facts.audience ?? audience ?? '?')} (AADSTS700212).`,
        `Set the audience input to the audience the federated credential lists (Entra's default is api://AzureADTokenExchange), or add ${q(facts.audience ?? audience ?? '?')} to the credential's audiences.`,
      ].join(' ');
    case '700211':
      return `Entra ID found no federated credential on app ${settings.clientId} with the GitHub token's issuer ${q(facts.issuer ?? '?')} (AADSTS700211). The credential's issuer must be exactly https://token.actions.githubusercontent.com (or your enterprise's issuer). ${seen}`;
    case '70021':
    case '700213':
    case '7002137':
    case '7002138':
      return [
        `Entra ID found no federated credential on app ${settings.clientId} matching this job's GitHub token subject (AADSTS${code}).`,
        seen,
        `Add a federated credential with exactly that subject, or one of: ${subjectForms(env).join('; ')}.`,
      ].join(' ');
    case '700016':
      return `Entra ID has no application with client id ${q(settings.clientId)} in tenant ${q(settings.tenantId)} (AADSTS700016). Check client-id and tenant-id: use the app registration's Application (client) ID and the Directory (tenant) ID it lives in.`;
    case '90002':
      return `Tenant ${q(settings.tenantId)} was not found (AADSTS90002). Check tenant-id, and that environment matches the cloud the tenant is in.`;
    case '700024':
      return "Entra ID rejected the GitHub token as outside its valid time range (AADSTS700024). Check the runner's clock; the action fetches a fresh token for every sign-in, so a retry of the job usually succeeds.";
  }
  if (/endpoints_resolution_error|Unable to resolve endpoint/i.test(message)) {
    return `Entra ID could not find the sign-in endpoints for tenant ${q(settings.tenantId)} (endpoints_resolution_error): the tenant does not exist in this cloud, or the authority is unreachable. Check tenant-id, environment and authority-host.`;
  }
  if (code) return `Sign-in to Entra ID failed (AADSTS${code}): ${message.split('\\n')[0]}`;
  return undefined;
}

/** Per action: the role that grants it, and where it is usually granted. */
const ROLE_FOR_ACTION: [RegExp, string, string][] = [
  [/userAssignedIdentities\/(\*\/)?assign\/action/i, "'Managed Identity Operator'", 'on the user-assigned identity (or its resource group)'],
  [/virtualMachineScaleSets\/read/i, "'Reader' (or 'Virtual Machine Contributor')", 'on the scale set or its resource group'],
  [/virtualMachineScaleSets\//i, "'Virtual Machine Contributor'", 'on the scale set or its resource group'],
  [/roleAssignments\/write/i, "'Role Based Access Control Administrator' (or 'User Access Administrator')", 'on the scope'],
  [/roleDefinitions\/read/i, "'Reader'", 'on the scope'],
];

/** The role to grant for `action`, `on` a given scope or where it is usually granted. */
function roleFor(action: string, on?: string): string {
  const entry = ROLE_FOR_ACTION.find(([re]) => re.test(action));
  return entry ? `${entry[1]} ${on ?? entry[2]}` : 'a role that grants it';
}

export function describeArmFailure(f: ArmFailure, ref: ScaleSetRef, signedInAs: string): string {
  const where = `scale set '${ref.name}' in resource group '${ref.resourceGroup}' (subscription ${ref.subscriptionId})`;
  const details = describeDetails(f.details);
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
  if (f.network) return `No answer from Azure Resource Manager for ${where}: ${f.message}. Re-run the step; check the runner can reach the endpoint.`;
  const code = f.code ? ` (${f.code}${f.statusCode ? `, HTTP ${f.statusCode}` : ''})` : f.statusCode ? ` (HTTP ${f.statusCode})` : '';
  return `Azure rejected the request for ${where}${code}: ${f.message}${details ? ` Details: ${details}` : ''}`;
}

/** A subscription or resource group whose scale sets could not be listed. */
export function describeScopeFailure(f: ArmFailure, scope: string, signedInAs: string, subscriptions = 1): string {
  if (f.code === 'AuthorizationFailed') {
    const action = /perform action '([^']+)'/.exec(f.message)?.[1] ?? 'Microsoft.Compute/virtualMachineScaleSets/read';
    return `Could not list the scale sets of ${scope}: ${signedInAs} may not perform '${action}' there (AuthorizationFailed). Grant it ${roleFor(action, scope.includes('/resourceGroups/') ? `on resource group ${scope.split('/')[4] ?? ''}` : `on subscription ${scope.split('/')[2] ?? ''}`)}, or leave this ${scope.includes('/resourceGroups/') ? 'resource group out of resource-group' : 'subscription out of subscription-id'}. Its scale sets were not changed.`;
  }
  if (f.code === 'ResourceGroupNotFound') return `Resource group ${scope.split('/')[4] ?? ''} does not exist in subscription ${scope.split('/')[2] ?? ''}${subscriptions > 1 ? ' nor in the other subscriptions listed' : ''} (ResourceGroupNotFound). Check resource-group.`;
  if (f.code === 'SubscriptionNotFound') return `Subscription ${scope.split('/')[2] ?? ''} was not found or the signed-in identity has no access to it (SubscriptionNotFound). Check subscription-id.`;
  const details = describeDetails(f.details);
  return `Could not list the scale sets of ${scope}${f.code ? ` (${f.code}${f.statusCode ? `, HTTP ${f.statusCode}` : ''})` : f.statusCode ? ` (HTTP ${f.statusCode})` : ''}: ${f.message}${details ? ` Details: ${details}` : ''}`;
}

/** The Azure CLI command that shows a scale set's identity, in its own subscription (fleets span several). */
export const checkCommand = (ref: ScaleSetRef) => `az vmss show --subscription ${ref.subscriptionId} -g ${ref.resourceGroup} -n ${ref.name} --query identity`;

/** What this run wrote to the scale set, for any message that follows a write. */
function whatWasWritten(r: TargetResult): string {
  const check = `Check with: ${checkCommand(r.ref)}`;
  const url = r.operationUrl ? ` (operation ${r.operationUrl.split('?')[0]})` : '';
  switch (r.write) {
    case 'accepted':
      return `Azure had accepted the identity change to ${r.ref.name} and may still be completing it${url}. ${check}`;
    case 'sent':
      return `The identity change to ${r.ref.name} was sent and its answer had not arrived, so Azure may have applied it. ${check}`;
    case 'completed':
      return `The identity change to ${r.ref.name} was completed before this.`;
    case 'none':
      return `Nothing was written to ${r.ref.name}'s identity.`;
  }
}

/** Writes besides the identity's that the run did not see finish. */
function otherWrites(r: TargetResult): string {
  const parts = [
    ...r.removedExtensions.map((n) => `the retired extension ${n} was removed`),
    ...r.roles.filter((g) => g.created).map((g) => `the role '${g.role}' at ${g.scope} was granted`),
    ...(r.inFlight ? [`${r.inFlight} was sent and its answer had not arrived, so it may have been applied`] : []),
    ...r.acceptedUnfinished.map((w) => `Azure had accepted ${w} and may still be completing it`),
  ];
  return parts.length ? ` ${parts.map((p) => `${p.charAt(0).toUpperCase()}${p.slice(1)}.`).join(' ')}` : '';
}

/** One scale set's failure, truthful about what was written before it. */
export function describeTargetFailure(error: unknown, r: TargetResult, signIn: SignIn, facts: SignInFacts, env: NodeJS.ProcessEnv, signedInAs: string): string {
  if (isStopped(error)) return `${error.message} ${whatWasWritten(r)}${otherWrites(r)}`;
  const after = r.write === 'none' ? '' : ` ${whatWasWritten(r)}`;
  if (error instanceof ActionError || error instanceof InputError) return `${error.message}${after}`;
  const e = error as { name?: string; status?: string; code?: string; message?: string; details?: ArmFailure['details'] };
  if (e?.name === 'OperationFailedError') {
    const details = describeDetails(e.details ?? []);
    return `Azure reported the identity update of ${r.ref.name} as ${e.status ?? 'Failed'}${e.code ? ` (${e.code})` : ''}: ${e.message ?? ''}${details ? ` Details: ${details}` : ''} Azure keeps the previous identity when an update fails. Check with: ${checkCommand(r.ref)}`;
  }
  const signInProblem = describeSignInError(error, signIn, facts, env);
  if (signInProblem) return `${signInProblem}${after}`;
  return `${describeArmFailure(armFailure(error), r.ref, signedInAs)}${after}`;
}

export function roleNotFound(role: string, scope: string): string {
  return `Role ${q(role)} does not exist at scope ${q(scope)}. Use a built-in role name exactly as Azure spells it (for example 'Storage Blob Data Reader'), a custom role's name, or a role definition id.`;
}

/** A role lookup or grant that Azure refused: `what` says which ("grant 'Reader' at '…' to …"). */
export function describeRoleFailure(f: ArmFailure, what: string): ActionError {
  if (f.code === 'AuthorizationFailed') {
    const scope = /over scope '([^']+)'/.exec(f.message)?.[1] ?? 'the scope';
    return new ActionError(`Permission denied: could not ${what} (AuthorizationFailed): the signed-in identity may not write role assignments on ${q(scope)}. Grant it 'Role Based Access Control Administrator' (or 'User Access Administrator' or 'Owner') there.`);
  }
  const details = describeDetails(f.details);
  return new ActionError(`Could not ${what} (${f.code ?? `HTTP ${f.statusCode ?? '?'}`}): ${f.message}${details ? ` Details: ${details}` : ''}`);
}

/** An identity user-assigned-ids asks for that Azure does not have; `bare` is the input when it was a bare name. */
export function unknownIdentityMessage(ref: ScaleSetRef, id: string, bare?: string): string {
  return `User-assigned identity ${id.split('/').pop() ?? id} (${id}) does not exist: reading it answers 404, and Azure refuses to assign it (FailedIdentityOperation).${lookedUp(ref, bare)} Check user-assigned-ids, or create the identity first (az identity create).`;
}

/** An identity operation 'remove' names that does not exist: a typo must not pass as "not assigned". */
export function unknownRemovalMessage(ref: ScaleSetRef, id: string, bare?: string): string {
  return `User-assigned identity ${id.split('/').pop() ?? id} (${id}) does not exist: reading it answers 404.${lookedUp(ref, bare)} operation 'remove' names only identities that exist (as az vmss identity remove does), so a typo cannot pass as "not assigned". Check user-assigned-ids.`;
}

const lookedUp = (ref: ScaleSetRef, bare?: string) => (bare ? ` ${q(bare)} is a bare name, so it was looked up in scale set ${q(ref.name)}'s own resource group (${ref.resourceGroup}); give the identity's full resource id if it lives elsewhere.` : '');

/** An identity write refused because the scale set still references an identity deleted in Azure. */
export function missingIdentityMessage(scaleSet: string, id: string): string {
  return `Scale set ${q(scaleSet)} still references user-assigned identity ${id.split('/').pop() ?? id} (${id}), which no longer exists: reading it answers 404. Azure refuses every identity change on the scale set while that reference stays (FailedIdentityOperation). Drop it in the same step with remove-missing-identities: true, or run operation: remove with user-assigned-ids: ${id}.`;
}
