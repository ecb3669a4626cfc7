// Nothing quadratic, nothing unbounded (SECURITY.md, "Bounds"): the CPU it takes to read the
// longest inputs accepted and to plan 1,000 targets, glob matching that cannot backtrack, and a
// fleet discovery that stops listing past 10,000 matches and counts a scale set listed twice once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestFor } from '../../src/apply.ts';
import { discover } from '../../src/azure/fleet.ts';
import type { ListedScaleSet, ScaleSets } from '../../src/azure/scale-sets.ts';
import { ActionError } from '../../src/errors.ts';
import { readSettings, type InputName } from '../../src/inputs.ts';
import { plan } from '../../src/plan.ts';
import { matchesName, namePattern } from '../../src/selectors.ts';
import type { FleetQuery } from '../../src/settings.ts';

const ENV = { AZURE_CLIENT_ID: '11111111-aaaa-4bbb-8ccc-000000000001', AZURE_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47', AZURE_SUBSCRIPTION_ID: '0b1f6471-1bf0-4dda-aec3-cb9272f09590' };
const SUB = ENV.AZURE_SUBSCRIPTION_ID;
const RG = `/subscriptions/${SUB}/resourceGroups/rg-prod`;
const read = (inputs: Record<string, string>) => (name: InputName) => (inputs[name] ?? '').trim();
const range = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i)).join('\n');
const guid = (i: number) => `0b1f6471-1bf0-4dda-aec3-${String(i).padStart(12, '0')}`;

/** CPU (user + system) the work takes, in ms. */
function cpuMs(work: () => void): number {
  const start = process.cpuUsage();
  work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

describe('bounds: CPU', () => {
  it('reading the settings and planning 1,000 targets takes under 100 ms', () => {
    const ids = [...Array.from({ length: 5 }, (_, i) => `id-${i}`), ...Array.from({ length: 5 }, (_, i) => `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-full-${i}`)];
    const inputs = {
      'resource-group': 'rg-prod', 'vmss-name': range(1000, (i) => `vmss-${i}`), 'identity-type': 'SystemAssigned, UserAssigned', 'user-assigned-ids': ids.join('\n'),
      'role-assignments': range(20, (i) => `Reader at ${RG}/providers/Microsoft.Storage/storageAccounts/st${i}`), 'role-assignee': 'id-0',
    };
    const current = { system: { principalId: 'p' }, userAssigned: [{ id: `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-1`, principalId: 'p1' }] };
    let planned = 0;
    const ms = cpuMs(() => {
      const settings = readSettings(read(inputs), ENV);
      for (const ref of settings.targets) if (plan(current, requestFor(settings, ref), { name: ref.name }).changed) planned++;
    });
    assert.equal(planned, 1000);
    assert.ok(ms < 100, `took ${ms.toFixed(1)} ms of CPU`);
  });

  it('planning stays linear at the limit: 150 identities listed and assigned, on 1,000 targets, under 1 s', () => {
    const ids = Array.from({ length: 150 }, (_, i) => `${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-${i}`);
    const settings = readSettings(read({ 'resource-group': 'rg-prod', 'vmss-name': range(1000, (i) => `vmss-${i}`), operation: 'set', 'identity-type': 'UserAssigned', 'user-assigned-ids': ids.join('\n') }), ENV);
    // A rerun: every listed identity is there already (as Azure spells them, lower-case resourcegroups).
    const current = { userAssigned: ids.map((id) => ({ id: id.replace('/resourceGroups/', '/resourcegroups/'), principalId: 'p' })) };
    let unchanged = 0;
    const ms = cpuMs(() => {
      for (const ref of settings.targets) if (!plan(current, requestFor(settings, ref, [ids[0] ?? '']), { name: ref.name }).changed) unchanged++;
    });
    assert.equal(unchanged, 1000);
    assert.ok(ms < 1000, `took ${ms.toFixed(1)} ms of CPU`);
  });

  it('reading 2,000 entries in every list input takes under 100 ms (duplicates are looked up, not searched for)', () => {
    const named = {
      'resource-group': 'rg-prod', 'vmss-name': range(2000, (i) => `vmss-${i}`), 'identity-type': 'UserAssigned', 'user-assigned-ids': range(150, (i) => `id-${i}`),
      'role-assignments': range(2000, (i) => `Reader at ${RG}/providers/Microsoft.Storage/storageAccounts/st${i}`), 'role-assignee': 'id-0',
    };
    const query = {
      'subscription-id': range(2000, guid), 'resource-group': '*', 'vmss-name': range(2000, (i) => `web-${i}-*`), 'vmss-tags': range(2000, (i) => `tag${i}=v`), 'identity-type': 'SystemAssigned',
    };
    const ms = cpuMs(() => {
      assert.equal(readSettings(read(named), ENV).targets.length, 2000);
      assert.equal(readSettings(read(query), ENV).query?.subscriptions.length, 2000);
    });
    assert.ok(ms < 100, `took ${ms.toFixed(1)} ms of CPU`);
  });

  it('a glob cannot backtrack: *a*a*a*a*a*b against 64-character names takes under 100 ms', () => {
    const glob = [namePattern('*a*a*a*a*a*b')];
    let matched = 0;
    const ms = cpuMs(() => {
      for (let i = 0; i < 10; i++) if (matchesName(glob, 'a'.repeat(64))) matched++;
      if (matchesName(glob, `${'a'.repeat(63)}b`)) matched++;
    });
    assert.equal(matched, 1);
    assert.ok(ms < 100, `took ${ms.toFixed(1)} ms of CPU`);
  });
});

const listedScaleSet = (name: string, resourceGroup = 'rg-prod', id?: string): ListedScaleSet => {
  const ref = { subscriptionId: SUB, resourceGroup, name };
  return { ref, id: id ?? `/subscriptions/${SUB}/resourceGroups/${resourceGroup}/providers/Microsoft.Compute/virtualMachineScaleSets/${name}`, identity: { userAssigned: [] }, legacyExtensions: [], tags: {} };
};

/** A ScaleSets whose list() pages come from `pages(subscription, group)`, counting the pages taken. */
function fakeLister(pages: (resourceGroup: string | undefined) => Iterable<ListedScaleSet[]>) {
  const taken = { pages: 0 };
  const scaleSets = {
    async *list(_subscription: string, resourceGroup: string | undefined) {
      for (const p of pages(resourceGroup)) {
        taken.pages++;
        yield p;
      }
    },
  } as unknown as ScaleSets;
  return { scaleSets, taken };
}

const queryOf = (names: string[], groups = ['*']): FleetQuery => ({ subscriptions: [SUB], resourceGroups: groups.map(namePattern), names: names.map(namePattern), tags: [] });

describe('bounds: fleet discovery', () => {
  it('stops listing once more than 10,000 scale sets match, and fails before returning any', async () => {
    const { scaleSets, taken } = fakeLister(function* () {
      for (let p = 0; ; p++) yield Array.from({ length: 1000 }, (_, i) => listedScaleSet(`web-${p}-${i}`));
    });
    await assert.rejects(discover(queryOf(['web-*']), scaleSets, new AbortController().signal), (error: Error) => {
      assert.ok(error instanceof ActionError);
      assert.match(error.message, /^The query matches more than 10000 scale sets in subscription .*; one step changes at most 10000/);
      return true;
    });
    assert.equal(taken.pages, 11, 'the page that passed the cap was the last one read');
  });

  it('a scale set listed twice, in another case or another listing, is matched once', async () => {
    const web = listedScaleSet('web-1');
    const shouted = listedScaleSet('web-1', 'rg-prod', web.id.toUpperCase());
    const { scaleSets } = fakeLister(() => [[web, shouted], [web]]);
    const found = await discover(queryOf(['web-*'], ['rg-prod', 'rg-other']), scaleSets, new AbortController().signal);
    assert.deepEqual(found.matched.map((v) => v.id), [web.id]);
    assert.equal(found.seen, 1);
  });

  it('2,000 exact names against 10,000 listed scale sets: under 100 ms, every name matched', async () => {
    const pages = Array.from({ length: 10 }, (_, p) => Array.from({ length: 1000 }, (_, i) => listedScaleSet(`vmss-${p * 1000 + i}`, `rg-${i % 50}`)));
    const names = Array.from({ length: 2000 }, (_, i) => `vmss-${i * 5}`);
    const { scaleSets } = fakeLister(() => pages);
    const start = process.cpuUsage();
    const found = await discover(queryOf(names), scaleSets, new AbortController().signal);
    const used = process.cpuUsage(start);
    const ms = (used.user + used.system) / 1000;
    assert.equal(found.matched.length, 2000);
    assert.deepEqual(found.unmatchedNames, []);
    assert.ok(ms < 100, `took ${ms.toFixed(1)} ms of CPU`);
  });
});
