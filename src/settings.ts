// The typed settings one run works from. inputs.ts reads them; plan, azure, apply and report
// share them. No logic here beyond the types.

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

export interface Settings {
  signIn: SignIn;
  cloud: CloudRequest;
  /** The scale sets to configure, each with its subscription. */
  targets: ScaleSetRef[];
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
}
