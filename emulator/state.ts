// The emulator's world: tenants and apps with federated credentials, subscriptions,
// scale sets, user-assigned identities, role definitions and assignments.
// Seeded from JSON, mutated by the ARM routes, readable back by tests.
import { IdSource } from './ids.ts';
import { builtInRoles, type RoleDefinition } from './roles.ts';

export interface FederatedCredentialSeed {
  name?: string;
  issuer?: string; // defaults to the emulator's GitHub issuer
  subject: string;
  audiences?: string[]; // defaults to ['api://AzureADTokenExchange']
}

export interface AppSeed {
  clientId: string;
  objectId: string;
  displayName?: string;
  federatedCredentials?: FederatedCredentialSeed[];
}

export interface TenantSeed {
  id: string;
  apps?: AppSeed[];
}

export interface SubscriptionSeed {
  id: string;
  tenantId: string;
  displayName?: string;
  resourceGroups?: { name: string; location?: string }[];
}

export interface ExtensionSeed {
  name: string;
  publisher: string;
  type: string;
  typeHandlerVersion?: string;
  settings?: Record<string, unknown>;
}

export interface ScaleSetSeed {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location?: string;
  orchestrationMode?: 'Uniform' | 'Flexible';
  upgradePolicy?: 'Manual' | 'Automatic' | 'Rolling';
  provisioningState?: string;
  /** ARM type string, any spelling ARM accepts. */
  identityType?: string;
  userAssignedIdentities?: string[];
  extensions?: ExtensionSeed[];
  tags?: Record<string, string>;
}

export interface UserAssignedIdentitySeed {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location?: string;
  principalId?: string;
  clientId?: string;
}

export interface RoleAssignmentSeed {
  principalId: string;
  /** Role name ("Contributor") or role definition GUID. */
  role: string;
  scope: string;
  name?: string;
}

export interface GithubSeed {
  repository?: string;
  ref?: string;
  environment?: string;
  eventName?: string;
  /** Overrides the subject built from repository/ref/environment/event. */
  subject?: string;
}

/** Any other resource (a storage account, a key vault) that role assignments may be scoped to. */
export interface ResourceSeed {
  id: string;
  location?: string;
}

export interface Seed {
  tenants?: TenantSeed[];
  resources?: ResourceSeed[];
  subscriptions?: SubscriptionSeed[];
  scaleSets?: ScaleSetSeed[];
  userAssignedIdentities?: UserAssignedIdentitySeed[];
  roleAssignments?: RoleAssignmentSeed[];
  customRoles?: RoleDefinition[];
  github?: GithubSeed;
}

export interface FederatedCredential {
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
}

export interface App {
  tenantId: string;
  clientId: string;
  objectId: string;
  displayName: string;
  federatedCredentials: FederatedCredential[];
}

export interface UserAssignedEntry {
  /** The key exactly as the client first sent it (ARM echoes stored casing). */
  key: string;
  principalId?: string;
  clientId?: string;
}

export interface ScaleSetIdentity {
  system?: { principalId: string; tenantId: string };
  userAssigned: UserAssignedEntry[];
}

export interface Extension extends ExtensionSeed {
  provisioningState: string;
}

export interface ScaleSet {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  orchestrationMode: 'Uniform' | 'Flexible';
  upgradePolicy: string;
  provisioningState: string;
  etag: number;
  identity: ScaleSetIdentity;
  extensions: Extension[];
  uniqueId: string;
  timeCreated: string;
  tags: Record<string, string>;
  sku: Record<string, unknown>;
  /** Properties the emulator does not model, kept exactly as the last PUT or PATCH left them. */
  properties: Record<string, unknown>;
}

export interface UserAssignedIdentity {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  principalId: string;
  clientId: string;
  tenantId: string;
  tags: Record<string, string>;
}

export interface GenericResource {
  id: string;
  subscriptionId: string;
  resourceGroup: string;
  location: string;
}

export interface Subscription {
  id: string;
  tenantId: string;
  displayName: string;
  resourceGroups: Map<string, { name: string; location: string }>;
}

export interface RoleAssignment {
  id: string;
  name: string;
  scope: string;
  roleDefinitionId: string;
  principalId: string;
  principalType: string;
  createdOn: string;
  createdBy: string;
}

/** Principals known to the directory, with the time they became visible to RBAC. */
export interface Principal {
  objectId: string;
  createdAt: number;
  kind: 'app' | 'system' | 'userAssigned';
}

export const GITHUB_DEFAULT_AUDIENCE = 'api://AzureADTokenExchange';

export class State {
  readonly tenants = new Map<string, { id: string }>();
  readonly apps: App[] = [];
  readonly subscriptions = new Map<string, Subscription>();
  readonly resources = new Map<string, GenericResource>();
  readonly scaleSets = new Map<string, ScaleSet>();
  /** Scale sets by subscription and by `sub/rg` (lower case), in the order they were added. */
  private readonly scaleSetsBySub = new Map<string, ScaleSet[]>();
  private readonly scaleSetsByGroup = new Map<string, ScaleSet[]>();
  readonly userAssignedIdentities = new Map<string, UserAssignedIdentity>();
  readonly roleDefinitions: RoleDefinition[];
  readonly roleAssignments: RoleAssignment[] = [];
  readonly principals = new Map<string, Principal>();
  github: Required<Omit<GithubSeed, 'subject' | 'environment'>> & { subject?: string; environment?: string };
  readonly ids: IdSource;

  constructor(seed: Seed, ids: IdSource, githubIssuer: string) {
    this.ids = ids;
    this.roleDefinitions = [...builtInRoles, ...(seed.customRoles ?? [])];
    this.github = {
      repository: seed.github?.repository ?? 'octo-org/octo-repo',
      ref: seed.github?.ref ?? 'refs/heads/main',
      eventName: seed.github?.eventName ?? 'push',
      ...(seed.github?.environment !== undefined ? { environment: seed.github.environment } : {}),
      ...(seed.github?.subject !== undefined ? { subject: seed.github.subject } : {}),
    };
    for (const t of seed.tenants ?? []) {
      this.tenants.set(t.id.toLowerCase(), { id: t.id });
      for (const a of t.apps ?? []) this.addApp(t.id, a, githubIssuer);
    }
    for (const s of seed.subscriptions ?? []) {
      const groups = new Map<string, { name: string; location: string }>();
      for (const g of s.resourceGroups ?? []) groups.set(g.name.toLowerCase(), { name: g.name, location: g.location ?? 'westeurope' });
      this.subscriptions.set(s.id.toLowerCase(), { id: s.id, tenantId: s.tenantId, displayName: s.displayName ?? `Subscription ${s.id.slice(0, 8)}`, resourceGroups: groups });
    }
    for (const r of seed.resources ?? []) this.addResource(r);
    for (const u of seed.userAssignedIdentities ?? []) this.addUserAssignedIdentity(u);
    for (const v of seed.scaleSets ?? []) this.addScaleSet(v);
    for (const r of seed.roleAssignments ?? []) this.seedRoleAssignment(r);
  }

  addApp(tenantId: string, a: AppSeed, githubIssuer: string): App {
    const app: App = {
      tenantId,
      clientId: a.clientId,
      objectId: a.objectId,
      displayName: a.displayName ?? `app-${a.clientId.slice(0, 8)}`,
      federatedCredentials: (a.federatedCredentials ?? []).map((f, i) => ({
        name: f.name ?? `fic-${i + 1}`,
        issuer: f.issuer ?? githubIssuer,
        subject: f.subject,
        // The action asks for a GitHub token meant for a non-Microsoft login endpoint alone: its origin.
        audiences: f.audiences ?? [GITHUB_DEFAULT_AUDIENCE, githubIssuer],
      })),
    };
    this.apps.push(app);
    this.principals.set(app.objectId.toLowerCase(), { objectId: app.objectId, createdAt: 0, kind: 'app' });
    return app;
  }

  resourceGroup(subscriptionId: string, name: string) {
    return this.subscriptions.get(subscriptionId.toLowerCase())?.resourceGroups.get(name.toLowerCase());
  }

  tenantOf(subscriptionId: string): string {
    return this.subscriptions.get(subscriptionId.toLowerCase())?.tenantId ?? '00000000-0000-0000-0000-000000000000';
  }

  ensureResourceGroup(subscriptionId: string, name: string, location: string): void {
    const sub = this.subscriptions.get(subscriptionId.toLowerCase());
    if (!sub) throw new Error(`seed: unknown subscription ${subscriptionId}`);
    if (!sub.resourceGroups.has(name.toLowerCase())) sub.resourceGroups.set(name.toLowerCase(), { name, location });
  }

  addUserAssignedIdentity(u: UserAssignedIdentitySeed): UserAssignedIdentity {
    const location = u.location ?? 'westeurope';
    this.ensureResourceGroup(u.subscriptionId, u.resourceGroup, location);
    const identity: UserAssignedIdentity = {
      id: `/subscriptions/${u.subscriptionId}/resourcegroups/${u.resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${u.name}`,
      subscriptionId: u.subscriptionId,
      resourceGroup: u.resourceGroup,
      name: u.name,
      location,
      principalId: u.principalId ?? this.ids.guid(),
      clientId: u.clientId ?? this.ids.guid(),
      tenantId: this.tenantOf(u.subscriptionId),
      tags: {},
    };
    this.userAssignedIdentities.set(identity.id.toLowerCase(), identity);
    this.principals.set(identity.principalId.toLowerCase(), { objectId: identity.principalId, createdAt: 0, kind: 'userAssigned' });
    return identity;
  }

  /**
   * Deletes a user-assigned identity the way Azure does (reference 14.6): the identity and its
   * principal go, while every scale set that references it keeps the reference with its last
   * principal and client ids (a dangling reference). Returns whether it existed.
   */
  deleteUserAssignedIdentity(id: string): boolean {
    const uai = this.userAssignedIdentities.get(id.toLowerCase());
    if (!uai) return false;
    this.userAssignedIdentities.delete(id.toLowerCase());
    this.principals.delete(uai.principalId.toLowerCase());
    return true;
  }

  /** The user-assigned references of a scale set whose identity no longer exists. */
  danglingReferences(set: ScaleSet): UserAssignedEntry[] {
    return set.identity.userAssigned.filter((e) => !this.findUserAssignedIdentity(e.key));
  }

  findUserAssignedIdentity(id: string): UserAssignedIdentity | undefined {
    return this.userAssignedIdentities.get(id.toLowerCase());
  }

  addScaleSet(v: ScaleSetSeed): ScaleSet {
    const location = v.location ?? 'westeurope';
    this.ensureResourceGroup(v.subscriptionId, v.resourceGroup, location);
    const set: ScaleSet = {
      id: `/subscriptions/${v.subscriptionId}/resourceGroups/${v.resourceGroup}/providers/Microsoft.Compute/virtualMachineScaleSets/${v.name}`,
      subscriptionId: v.subscriptionId,
      resourceGroup: v.resourceGroup,
      name: v.name,
      location,
      orchestrationMode: v.orchestrationMode ?? 'Uniform',
      upgradePolicy: v.upgradePolicy ?? 'Manual',
      provisioningState: v.provisioningState ?? 'Succeeded',
      etag: 1,
      identity: { userAssigned: [] },
      extensions: (v.extensions ?? []).map((e) => ({ ...e, provisioningState: 'Succeeded' })),
      uniqueId: this.ids.guid(),
      timeCreated: new Date().toISOString(),
      tags: { ...(v.tags ?? {}) },
      sku: { name: 'Standard_D2s_v3', tier: 'Standard', capacity: 2 },
      properties: defaultScaleSetProperties(v.name, v.orchestrationMode ?? 'Uniform'),
    };
    const type = (v.identityType ?? 'None').replace(/\s+/g, '').toLowerCase();
    if (type.includes('systemassigned')) set.identity.system = this.newSystemPrincipal(v.subscriptionId);
    if (type.includes('userassigned')) {
      for (const key of v.userAssignedIdentities ?? []) {
        const uai = this.findUserAssignedIdentity(key);
        if (!uai) throw new Error(`seed: scale set ${v.name} names unknown identity ${key}`);
        set.identity.userAssigned.push({ key, principalId: uai.principalId, clientId: uai.clientId });
      }
    }
    this.scaleSets.set(set.id.toLowerCase(), set);
    const bySub = v.subscriptionId.toLowerCase();
    const byGroup = `${bySub}/${v.resourceGroup.toLowerCase()}`;
    if (!this.scaleSetsBySub.has(bySub)) this.scaleSetsBySub.set(bySub, []);
    this.scaleSetsBySub.get(bySub)?.push(set);
    if (!this.scaleSetsByGroup.has(byGroup)) this.scaleSetsByGroup.set(byGroup, []);
    this.scaleSetsByGroup.get(byGroup)?.push(set);
    return set;
  }

  addResource(r: ResourceSeed): GenericResource {
    const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/[^/]+\/[^/]+\/[^/]+/i.exec(r.id);
    if (!m) throw new Error(`seed: ${r.id} is not a resource id`);
    const location = r.location ?? 'westeurope';
    this.ensureResourceGroup(m[1] ?? '', m[2] ?? '', location);
    const resource = { id: r.id, subscriptionId: m[1] ?? '', resourceGroup: m[2] ?? '', location };
    this.resources.set(r.id.toLowerCase(), resource);
    return resource;
  }

  /**
   * Whether a scope exists: the root, a subscription, a resource group, or a resource the
   * emulator holds (nested scopes below a held resource count as that resource).
   */
  scopeExists(scope: string): { ok: true } | { ok: false; code: string; message: string } {
    const parts = scope.replace(/\/+$/, '').split('/');
    if (scope === '' || scope === '/') return { ok: true };
    if (parts[1]?.toLowerCase() === 'providers' && parts[2]?.toLowerCase() === 'microsoft.management') return { ok: true };
    if (parts[1]?.toLowerCase() !== 'subscriptions' || !parts[2]) return { ok: false, code: 'InvalidScope', message: `The scope '${scope}' is not valid.` };
    const sub = this.subscriptions.get(parts[2].toLowerCase());
    if (!sub) return { ok: false, code: 'SubscriptionNotFound', message: `The subscription '${parts[2]}' could not be found.` };
    if (parts.length === 3) return { ok: true };
    if (parts[3]?.toLowerCase() !== 'resourcegroups' || !parts[4]) return { ok: false, code: 'InvalidScope', message: `The scope '${scope}' is not valid.` };
    if (!sub.resourceGroups.has(parts[4].toLowerCase())) return { ok: false, code: 'ResourceGroupNotFound', message: `Resource group '${parts[4]}' could not be found.` };
    if (parts.length === 5) return { ok: true };
    const resourceId = parts.slice(0, 9).join('/').toLowerCase();
    if (parts.length >= 9 && (this.scaleSets.has(resourceId) || this.userAssignedIdentities.has(resourceId) || this.resources.has(resourceId))) return { ok: true };
    const type = parts.slice(6, 8).join('/');
    return { ok: false, code: 'ResourceNotFound', message: `The Resource '${type}/${parts[8] ?? ''}' under resource group '${parts[4]}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix` };
  }

  /** The scale sets of a subscription, or of one of its resource groups, without a scan. */
  scaleSetsIn(subscriptionId: string, resourceGroup?: string): readonly ScaleSet[] {
    const sub = subscriptionId.toLowerCase();
    return (resourceGroup ? this.scaleSetsByGroup.get(`${sub}/${resourceGroup.toLowerCase()}`) : this.scaleSetsBySub.get(sub)) ?? [];
  }

  findScaleSet(subscriptionId: string, resourceGroup: string, name: string): ScaleSet | undefined {
    return this.scaleSets.get(
      `/subscriptions/${subscriptionId}/resourcegroups/${resourceGroup}/providers/microsoft.compute/virtualmachinescalesets/${name}`.toLowerCase(),
    );
  }

  /** A fresh system-assigned principal; RBAC sees it only after the directory lag. */
  newSystemPrincipal(subscriptionId: string): { principalId: string; tenantId: string } {
    const principalId = this.ids.guid();
    this.principals.set(principalId.toLowerCase(), { objectId: principalId, createdAt: Date.now(), kind: 'system' });
    return { principalId, tenantId: this.tenantOf(subscriptionId) };
  }

  findRole(nameOrId: string): RoleDefinition | undefined {
    const guid = nameOrId.split('/').pop()?.toLowerCase();
    return this.roleDefinitions.find((r) => r.name.toLowerCase() === guid || r.roleName.toLowerCase() === nameOrId.toLowerCase());
  }

  seedRoleAssignment(r: RoleAssignmentSeed): RoleAssignment {
    const role = this.findRole(r.role);
    if (!role) throw new Error(`seed: unknown role ${r.role}`);
    const subscriptionId = r.scope.split('/')[2] ?? '';
    const name = r.name ?? this.ids.guid();
    const assignment: RoleAssignment = {
      id: `${r.scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
      name,
      scope: r.scope,
      roleDefinitionId: `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${role.name}`,
      principalId: r.principalId,
      principalType: 'ServicePrincipal',
      createdOn: new Date().toISOString(),
      createdBy: 'seed',
    };
    this.roleAssignments.push(assignment);
    return assignment;
  }

  /** Tenants visible to an app: its own (the emulator has no guest access). */
  tenantsOf(tenantId: string): { id: string }[] {
    const t = this.tenants.get(tenantId.toLowerCase());
    return t ? [t] : [];
  }

  /** A JSON snapshot for tests and the CLI. */
  snapshot(): unknown {
    return {
      scaleSets: [...this.scaleSets.values()].map((s) => structuredClone(s)),
      userAssignedIdentities: [...this.userAssignedIdentities.values()],
      resources: [...this.resources.values()],
      roleAssignments: this.roleAssignments,
    };
  }
}

function defaultScaleSetProperties(name: string, mode: 'Uniform' | 'Flexible'): Record<string, unknown> {
  return {
    singlePlacementGroup: mode === 'Uniform',
    virtualMachineProfile: {
      osProfile: { computerNamePrefix: name.slice(0, 9), adminUsername: 'azureuser' },
      storageProfile: { imageReference: { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' } },
    },
    overprovision: mode === 'Uniform',
    doNotRunExtensionsOnOverprovisionedVMs: false,
    platformFaultDomainCount: mode === 'Uniform' ? 5 : 1,
  };
}
