// The planner, table-driven over every operation × starting state, with the PATCH body it
// produces checked against ARM's merge rules (reference sections 2 and 12).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScaleSetIdentity } from '../../src/identity.ts';
import { plan, type IdentityRequest } from '../../src/plan.ts';

const SUB = '/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590';
const A = `${SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-a`;
const B = `${SUB}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-b`;
// As Microsoft.ManagedIdentity spells ids: lower-case resourcegroups.
const A_STORED = A.replace('resourceGroups', 'resourcegroups');

const states: Record<string, ScaleSetIdentity> = {
  none: { userAssigned: [] },
  sa: { system: { principalId: 'p-sys' }, userAssigned: [] },
  ua1: { userAssigned: [{ id: A_STORED, principalId: 'p-a', clientId: 'c-a' }] },
  ua2: { userAssigned: [{ id: A_STORED, principalId: 'p-a' }, { id: B, principalId: 'p-b' }] },
  both: { system: { principalId: 'p-sys' }, userAssigned: [{ id: A_STORED, principalId: 'p-a' }] },
};

type Row = [state: keyof typeof states, request: IdentityRequest, patch: object | undefined];
const set = (system: boolean, ids: string[] = []): IdentityRequest => ({ operation: 'set', system, userAssignedIds: ids });
const assign = (system: boolean | undefined, ids: string[] = []): IdentityRequest => ({ operation: 'assign', ...(system ? { system } : {}), userAssignedIds: ids });
const remove = (system: boolean | undefined, ids: string[] = []): IdentityRequest => ({ operation: 'remove', ...(system ? { system } : {}), userAssignedIds: ids });
const show: IdentityRequest = { operation: 'show', userAssignedIds: [] };
const type = (t: string, map?: object) => ({ identity: { type: t, ...(map ? { userAssignedIdentities: map } : {}) } });

const rows: Row[] = [
  // set SystemAssigned
  ['none', set(true), type('SystemAssigned')],
  ['sa', set(true), undefined],
  ['ua1', set(true), type('SystemAssigned')],
  ['ua2', set(true), type('SystemAssigned')],
  ['both', set(true), type('SystemAssigned')],
  // set UserAssigned [A]
  ['none', set(false, [A]), type('UserAssigned', { [A]: {} })],
  ['sa', set(false, [A]), type('UserAssigned', { [A]: {} })],
  ['ua1', set(false, [A]), undefined],
  ['ua2', set(false, [A]), type('UserAssigned', { [B]: null })],
  ['both', set(false, [A]), type('UserAssigned')],
  // set SystemAssigned, UserAssigned [A, B]
  ['none', set(true, [A, B]), type('SystemAssigned, UserAssigned', { [A]: {}, [B]: {} })],
  ['sa', set(true, [A, B]), type('SystemAssigned, UserAssigned', { [A]: {}, [B]: {} })],
  ['ua1', set(true, [A, B]), type('SystemAssigned, UserAssigned', { [B]: {} })],
  ['ua2', set(true, [A, B]), type('SystemAssigned, UserAssigned')],
  ['both', set(true, [A, B]), type('SystemAssigned, UserAssigned', { [B]: {} })],
  // set None
  ['none', set(false), undefined],
  ['sa', set(false), type('None')],
  ['ua1', set(false), type('None')],
  ['ua2', set(false), type('None')],
  ['both', set(false), type('None')],
  // assign SystemAssigned
  ['none', assign(true), type('SystemAssigned')],
  ['sa', assign(true), undefined],
  ['ua1', assign(true), type('SystemAssigned, UserAssigned')],
  ['ua2', assign(true), type('SystemAssigned, UserAssigned')],
  ['both', assign(true), undefined],
  // assign [B]
  ['none', assign(undefined, [B]), type('UserAssigned', { [B]: {} })],
  ['sa', assign(undefined, [B]), type('SystemAssigned, UserAssigned', { [B]: {} })],
  ['ua1', assign(undefined, [B]), type('UserAssigned', { [B]: {} })],
  ['ua2', assign(undefined, [B]), undefined],
  ['both', assign(undefined, [B]), type('SystemAssigned, UserAssigned', { [B]: {} })],
  // assign both at once
  ['ua1', assign(true, [A, B]), type('SystemAssigned, UserAssigned', { [B]: {} })],
  // remove SystemAssigned
  ['none', remove(true), undefined],
  ['sa', remove(true), type('None')],
  ['ua1', remove(true), undefined],
  ['ua2', remove(true), undefined],
  ['both', remove(true), type('UserAssigned')],
  // remove [A]: the key is sent as Azure stored it; the last one switches the type
  ['none', remove(undefined, [A]), undefined],
  ['sa', remove(undefined, [A]), undefined],
  ['ua1', remove(undefined, [A]), type('None')],
  ['ua2', remove(undefined, [A]), type('UserAssigned', { [A_STORED]: null })],
  ['both', remove(undefined, [A]), type('SystemAssigned')],
  // remove everything named
  ['both', remove(true, [A]), type('None')],
  ['ua2', remove(undefined, [A, B]), type('None')],
  // show never writes
  ['none', show, undefined],
  ['sa', show, undefined],
  ['ua1', show, undefined],
  ['ua2', show, undefined],
  ['both', show, undefined],
];

describe('plan: operation × starting state', () => {
  for (const [state, request, patch] of rows) {
    const label = `${request.operation} system=${request.system ?? '-'} ids=[${request.userAssignedIds.map((id) => id.split('/').pop()).join(',')}] on ${state}`;
    it(label, () => {
      const p = plan(states[state] as ScaleSetIdentity, request, { name: 'vmss' });
      assert.equal(p.changed, patch !== undefined, 'changed');
      assert.deepEqual(p.patch, patch);
      if (patch) assert.equal(p.after, (patch as { identity: { type: string } }).identity.type);
    });
  }
});

describe('plan: details', () => {
  it('compares ids case-insensitively, as ARM does', () => {
    const p = plan(states['ua1'] as ScaleSetIdentity, assign(undefined, [A.toUpperCase().replace('/SUBSCRIPTIONS', '/subscriptions')]), { name: 'v' });
    assert.equal(p.changed, false);
    assert.deepEqual(p.alreadyPresent.length, 1);
  });

  it('set lists the identities it removes without being told', () => {
    const p = plan(states['ua2'] as ScaleSetIdentity, set(false, [A]), { name: 'v' });
    assert.deepEqual(p.unlisted, [B]);
    assert.deepEqual(p.remove, [B]);
  });

  it('remove reports ids that are not assigned instead of failing (idempotent reruns)', () => {
    const p = plan(states['sa'] as ScaleSetIdentity, remove(undefined, [A]), { name: 'v' });
    assert.deepEqual(p.alreadyAbsent, [A]);
    assert.equal(p.changed, false);
  });

  it('refuses SystemAssigned on a Flexible scale set before anything is written', () => {
    assert.throws(() => plan(states['none'] as ScaleSetIdentity, set(true), { name: 'flex', orchestrationMode: 'Flexible' }), /Flexible orchestration.*UserAssigned/);
    const ok = plan(states['none'] as ScaleSetIdentity, set(false, [A]), { name: 'flex', orchestrationMode: 'Flexible' });
    assert.deepEqual(ok.patch, type('UserAssigned', { [A]: {} }));
  });

  it('always spells the type as ARM does (the SDK rejects other spellings client-side)', () => {
    for (const [state, request, patch] of rows) {
      if (!patch) continue;
      const t = plan(states[state] as ScaleSetIdentity, request, { name: 'v' }).patch?.identity.type;
      assert.ok(['SystemAssigned', 'UserAssigned', 'SystemAssigned, UserAssigned', 'None'].includes(t ?? ''), String(t));
    }
  });
});
