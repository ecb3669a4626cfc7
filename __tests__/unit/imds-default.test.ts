// The IMDS default identity (reference §15.7): the system-assigned identity, else the only
// user-assigned one, else none. A change warns only when it takes a usable default away.
// Each transition goes through the planner, as the action computes it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ScaleSetIdentity } from '../../src/identity.ts';
import { describeImdsDefault, imdsDefault, imdsWarningText, lostImdsDefault } from '../../src/imds-default.ts';
import { plan, plannedIdentity, type IdentityRequest } from '../../src/plan.ts';

const UAI = '/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities';
const [A, B, C] = ['id-a', 'id-b', 'id-c'].map((n) => `${UAI}/${n}`) as [string, string, string];
const ua = (id: string) => ({ id, principalId: `p-${id.slice(-4)}`, clientId: `c-${id.slice(-4)}` });
const SYS = { principalId: 'p-sys' };

const facts = { name: 'vmss-x' };
const after = (before: ScaleSetIdentity, request: IdentityRequest) => plannedIdentity(before, plan(before, request, facts));
const lost = (before: ScaleSetIdentity, request: IdentityRequest) => lostImdsDefault(before, after(before, request));
const assign = (ids: string[], system?: boolean): IdentityRequest => ({ operation: 'assign', userAssignedIds: ids, ...(system !== undefined ? { system } : {}) });
const remove = (ids: string[], system?: boolean): IdentityRequest => ({ operation: 'remove', userAssignedIds: ids, ...(system !== undefined ? { system } : {}) });
const set = (system: boolean, ids: string[]): IdentityRequest => ({ operation: 'set', system, userAssignedIds: ids });

describe('the IMDS default identity', () => {
  it('is the system-assigned identity when there is one, else the only user-assigned one, else none', () => {
    assert.deepEqual(imdsDefault({ system: SYS, userAssigned: [ua(A), ua(B)] }), { kind: 'system', principalId: 'p-sys' });
    assert.deepEqual(imdsDefault({ userAssigned: [ua(A)] }), { kind: 'userAssigned', id: A, clientId: 'c-id-a' });
    assert.equal(imdsDefault({ userAssigned: [ua(A), ua(B)] }), undefined);
    assert.equal(imdsDefault({ userAssigned: [] }), undefined);
  });
});

describe('a change that takes the IMDS default away', () => {
  it('system → no system with 2 user-assigned: lost, naming the system principal', () => {
    const d = lost({ system: SYS, userAssigned: [ua(A), ua(B)] }, remove([], true));
    assert.deepEqual(d, { kind: 'system', principalId: 'p-sys' });
    assert.match(describeImdsDefault(d), /system-assigned identity \(principal p-sys\)/);
  });

  it('set: system → 2 user-assigned, no system: lost', () => {
    assert.equal(lost({ system: SYS, userAssigned: [] }, set(false, [A, B]))?.kind, 'system');
  });

  it('1 user-assigned → 2, no system: lost, naming the single identity and its client id', () => {
    const d = lost({ userAssigned: [ua(A)] }, assign([B]));
    assert.deepEqual(d, { kind: 'userAssigned', id: A, clientId: 'c-id-a' });
    const text = imdsWarningText(d, after({ userAssigned: [ua(A)] }, assign([B])));
    assert.match(text, /user-assigned identity id-a \(client id c-id-a, \/subscriptions\/.*\/id-a\)/);
    assert.match(text, /2 user-assigned ones/);
    assert.match(text, /pass client_id .* \(client_id=c-id-a keeps them on id-a\), or keep or enable the system-assigned identity/);
  });

  it('set replacing the single user-assigned identity with two others: lost', () => {
    assert.equal(lost({ userAssigned: [ua(A)] }, set(false, [B, C]))?.kind, 'userAssigned');
  });

  it('1 user-assigned + system → 2 + system: kept (the system identity stays the default)', () => {
    assert.equal(lost({ system: SYS, userAssigned: [ua(A)] }, assign([B])), undefined);
  });

  it('none → 2 user-assigned: nothing lost (there was no default)', () => {
    assert.equal(lost({ userAssigned: [] }, assign([A, B])), undefined);
  });

  it('2 user-assigned → 3: nothing lost (there was no default before)', () => {
    assert.equal(lost({ userAssigned: [ua(A), ua(B)] }, assign([C])), undefined);
  });

  it('disabling the system identity with 1 user-assigned left: kept (IMDS defaults to the single one)', () => {
    assert.equal(lost({ system: SYS, userAssigned: [ua(A)] }, remove([], true)), undefined);
  });

  it('3 user-assigned → 2 while disabling the system identity: lost; → 1: kept', () => {
    const before = { system: SYS, userAssigned: [ua(A), ua(B), ua(C)] };
    assert.equal(lost(before, remove([C], true))?.kind, 'system');
    assert.equal(lost(before, set(false, [A])), undefined);
  });

  it('removing every identity: not this warning (no program gets a token, as asked)', () => {
    assert.equal(lost({ system: SYS, userAssigned: [ua(A)] }, set(false, [])), undefined);
  });

  it('show: never', () => {
    for (const before of [{ system: SYS, userAssigned: [ua(A), ua(B)] }, { userAssigned: [ua(A)] }, { userAssigned: [ua(A), ua(B)] }]) {
      assert.equal(lost(before, { operation: 'show', userAssignedIds: [] }), undefined);
    }
  });

  it('an identity whose ids Azure has not given: named, with (unknown)', () => {
    assert.match(describeImdsDefault({ kind: 'userAssigned', id: A }), /client id \(unknown\)/);
    assert.match(describeImdsDefault({ kind: 'system' }), /principal \(unknown\)/);
  });
});
