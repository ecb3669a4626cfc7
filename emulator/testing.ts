// Helpers for running things against the emulator: the default seed, the ids it holds, and
// withEmulator (start, run, always stop). Tests, the demo and the benchmark share them.
import { readFileSync } from 'node:fs';
import { start, type Emulator, type StartOptions } from './server.ts';
import type { Seed } from './state.ts';

export const SUB = '0b1f6471-1bf0-4dda-aec3-cb9272f09590';
export const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const DEPLOYER_CLIENT_ID = '11111111-aaaa-4bbb-8ccc-000000000001';
export const DEPLOYER_OBJECT_ID = '22222222-aaaa-4bbb-8ccc-000000000001';
export const READER_CLIENT_ID = '11111111-aaaa-4bbb-8ccc-000000000002';
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
