// The typed settings one run works from. inputs.ts reads them; plan, azure, apply and report
// share them. No logic here beyond the types.
import type { NamePattern, TagFilter } from './selectors.ts';

export type Operation = 'set' | 'assign' | 'remove' | 'show';

export type SignIn =
  | {
      kind: 'oidc';
      clientId: string;
      tenantId: string;
      /** The GitHub token audience; undefined until a custom cloud's login endpoint is known. */
      audience?: string;
      /** The audience came from the input rather than the cloud's default. */
      audienceGiven?: boolean;
    }
  | { kind: 'azure-cli' };

/**
 * Where Azure is, as the inputs say it. A custom cloud is only resolved (its metadata read)
 * once the run starts: that needs the network.
 */
export type CloudRequest =
  | { kind: 'builtin'; name: string; authorityHost?: string }
  | { kind: 'custom'; resourceManager: string; audience?: string; authorityHost?: string };

export interface RoleRequest {
  /** A role name ("Storage Blob Data Reader"), a role definition GUID or its full id. */
  role: string;
  scope: string;
}

export interface ScaleSetRef {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

/** Scale sets chosen by pattern or tag: resolved through ARM's list calls at run time. */
export interface FleetQuery {
  subscriptions: string[];
  /** Resource group names or globs; `*` is every resource group of the subscription. */
  resourceGroups: NamePattern[];
  /** Scale set names or globs; undefined: every scale set (vmss-tags alone). */
  names?: NamePattern[];
  tags: TagFilter[];
}

export interface Settings {
  signIn: SignIn;
  cloud: CloudRequest;
  /** The scale sets named exactly, each with its subscription (empty when a query chooses them). */
  targets: ScaleSetRef[];
  query?: FleetQuery;
  /** A query that matches nothing succeeds instead of failing. */
  allowNoMatch: boolean;
  /** Drop references to user-assigned identities that no longer exist, in the same write. */
  removeMissingIdentities: boolean;
  operation: Operation;
  /**
   * set: whether the system-assigned identity should exist;
   * assign: true adds it; remove: true removes it; undefined leaves it alone.
   */
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
  /** A permission the plan needs that ARM's permissions list does not show: stop (error) or say so (warn). */
  permissionCheck: 'error' | 'warn';
  /** Post the plan as a comment on the pull request that triggered the run. */
  pullRequestComment: boolean;
  /** The token that posts it (github-token): a secret, masked as soon as it is read, never printed. */
  githubToken: string;
}
