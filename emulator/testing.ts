// Helpers for running things against the emulator: the default seed, the ids it holds, and
// withEmulator (start, run, always stop). Tests, the demo and the benchmark share them.
import { readFileSync } from 'node:fs';
import { start, type Emulator, type StartOptions } from './server.ts';
import type { ScaleSetSeed, Seed } from './state.ts';

export const SUB = '0b1f6471-1bf0-4dda-aec3-cb9272f09590';
export const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const DEPLOYER_CLIENT_ID = '11111111-aaaa-4bbb-8ccc-000000000001';
export const DEPLOYER_OBJECT_ID = '22222222-aaaa-4bbb-8ccc-000000000001';
export const READER_CLIENT_ID = '11111111-aaaa-4bbb-8ccc-000000000002';
/** github-no-mio: Virtual Machine Contributor on rg-prod and Reader on SUB, no Managed Identity Operator. */
export const NO_MIO_CLIENT_ID = '11111111-aaaa-4bbb-8ccc-000000000003';
export const NO_MIO_OBJECT_ID = '22222222-aaaa-4bbb-8ccc-000000000003';
/** The second subscription of the default seed (the examples' AZURE_SUBSCRIPTION_ID_US): rg-prod/vmss-web, a twin of SUB's. */
export const SUB_US = '7d3e9a42-5c1b-4f6e-9a8d-3b2c1e0f4a57';
export const RG = `/subscriptions/${SUB}/resourceGroups/rg-prod`;
export const uai = (name: string, rg = 'rg-prod') => `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
export const vmssId = (name: string) => `${RG}/providers/Microsoft.Compute/virtualMachineScaleSets/${name}`;

export function defaultSeed(): Seed {
  return JSON.parse(readFileSync(new URL('./seed.json', import.meta.url), 'utf8')) as Seed;
}

export async function withEmulator<T>(options: StartOptions & { edit?: (seed: Seed) => void }, body: (em: Emulator) => Promise<T>): Promise<T> {
  const seed = options.seed ?? defaultSeed();
  options.edit?.(seed);
  const em = await start({ updateDurationMs: 300, ...options, seed });
  try {
    return await body(em);
  } finally {
    await em.stop();
  }
}

export function scaleSet(em: Emulator, name: string) {
  const set = em.state.findScaleSet(SUB, 'rg-prod', name);
  if (!set) throw new Error(`no scale set ${name}`);
  return set;
}

/** The identity as a test wants to compare it: type plus user-assigned names, lower-cased. */
export function identitySummary(em: Emulator, name: string): { system: boolean; userAssigned: string[] } {
  const set = scaleSet(em, name);
  return {
    system: set.identity.system !== undefined,
    userAssigned: set.identity.userAssigned.map((u) => (u.key.split('/').pop() ?? '').toLowerCase()).sort(),
  };
}

/** Four more subscriptions of the default tenant, for fleets across subscriptions. */
export const FLEET_SUBS = [
  '1a2b3c4d-0001-4e5f-8a9b-000000000001',
  '1a2b3c4d-0002-4e5f-8a9b-000000000002',
  '1a2b3c4d-0003-4e5f-8a9b-000000000003',
  '1a2b3c4d-0004-4e5f-8a9b-000000000004',
] as const;

/** A scale set of a fleet: what a seed says of it, minus where it lives. */
export type FleetScaleSet = Omit<ScaleSetSeed, 'subscriptionId' | 'resourceGroup'>;

export interface FleetSubscription {
  id: string;
  displayName?: string;
  /** Resource group name → its scale sets (each with its tags, identity, …). */
  resourceGroups: Record<string, FleetScaleSet[]>;
  /** User-assigned identities to create in this subscription. */
  identities?: { resourceGroup: string; name: string }[];
}

export interface FleetSeedOptions {
  subscriptions: FleetSubscription[];
  /**
   * Ids of the subscriptions (among `subscriptions`) the default deployer app may not read: it
   * holds no role there, so its lists there answer 403 AuthorizationFailed. In the others it is
   * Reader, Virtual Machine Contributor and Managed Identity Operator at subscription scope.
   */
  unreadable?: string[];
  /** The seed to add to; defaultSeed() when absent (its subscription stays the first one). */
  base?: Seed;
}

/** A seed for fleets across subscriptions, resource groups and tags. */
export function fleetSeed(options: FleetSeedOptions): Seed {
  const seed = options.base ?? defaultSeed();
  const unreadable = new Set((options.unreadable ?? []).map((s) => s.toLowerCase()));
  seed.subscriptions ??= [];
  seed.scaleSets ??= [];
  seed.userAssignedIdentities ??= [];
  seed.roleAssignments ??= [];
  for (const sub of options.subscriptions) {
    seed.subscriptions.push({
      id: sub.id,
      tenantId: TENANT,
      ...(sub.displayName ? { displayName: sub.displayName } : {}),
      resourceGroups: Object.keys(sub.resourceGroups).map((name) => ({ name, location: 'westeurope' })),
    });
    for (const u of sub.identities ?? []) seed.userAssignedIdentities.push({ subscriptionId: sub.id, resourceGroup: u.resourceGroup, name: u.name });
    for (const [rg, sets] of Object.entries(sub.resourceGroups)) {
      for (const set of sets) seed.scaleSets.push({ ...set, subscriptionId: sub.id, resourceGroup: rg });
    }
    if (unreadable.has(sub.id.toLowerCase())) continue;
    for (const role of ['Reader', 'Virtual Machine Contributor', 'Managed Identity Operator']) {
      seed.roleAssignments.push({ principalId: DEPLOYER_OBJECT_ID, role, scope: `/subscriptions/${sub.id}` });
    }
  }
  return seed;
}

/**
 * `count` scale sets spread evenly over `subscriptions` (from FLEET_SUBS) and `groups` resource
 * groups each (`rg-fleet-0`, …), named `vmss-<sub#>-<n>` and tagged by `tags(i)` (default
 * `role` web/api/worker in turn and `env=prod`). For fleetSeed's `subscriptions`.
 */
export function fleetOf(count: number, subscriptions = 4, groups = 2, tags: (i: number) => Record<string, string> = (i) => ({ role: ['web', 'api', 'worker'][i % 3] ?? 'web', env: 'prod' })): FleetSubscription[] {
  const subs: FleetSubscription[] = FLEET_SUBS.slice(0, subscriptions).map((id) => ({ id, resourceGroups: {} }));
  if (subs.length < subscriptions) throw new Error(`fleetOf: at most ${FLEET_SUBS.length} subscriptions`);
  for (let i = 0; i < count; i++) {
    const s = i % subscriptions;
    const rg = `rg-fleet-${Math.floor(i / subscriptions) % groups}`;
    const sub = subs[s] as FleetSubscription;
    (sub.resourceGroups[rg] ??= []).push({ name: `vmss-${s}-${String(Math.floor(i / subscriptions)).padStart(4, '0')}`, tags: tags(i) });
  }
  return subs;
}
