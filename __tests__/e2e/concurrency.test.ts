// Two jobs change the identity type of one scale set at the same moment. A PATCH that carries a
// type replaces the whole identity, so the later writer, planning on a stale read, would undo
// the earlier one's change: If-Match turns that into 412, a fresh read and a new plan. The
// emulator holds each request until the other job has reached the same point, so the order is
// forced, not hoped for.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { identitySummary, scaleSet, uai, withEmulator } from '../support/emulator.ts';
import type { Emulator } from '../../emulator/server.ts';
import { runAction } from '../support/run-action.ts';

const web = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'timeout-seconds': '60' };
const userAssignedOnly = { edit: (seed: { scaleSets?: { name: string; identityType?: string; userAssignedIdentities?: string[] }[] }) => {
  const set = seed.scaleSets?.find((s) => s.name === 'vmss-web');
  if (set) Object.assign(set, { identityType: 'UserAssigned', userAssignedIdentities: [uai('id-app')] });
}, updateDurationMs: 200 };

/** Both jobs read before either writes; the PATCH whose body matches `second` waits until `first` is in place. */
function forceOrder(em: Emulator, second: RegExp, firstLanded: () => boolean): void {
  em.controls.fault({ route: 'arm.vmss.get', times: 2, action: { kind: 'hold', until: () => em.log.arrived('arm.vmss.get').length >= 2 } });
  em.controls.fault({ route: 'arm.vmss.patch', body: second, times: 1, action: { kind: 'hold', until: firstLanded } });
}

/** Runs the enabling and the removing job together: both succeed and both changes stand. */
async function bothJobs(em: Emulator) {
  const [enable, remove] = await Promise.all([
    runAction(em, { ...web, 'identity-type': 'SystemAssigned' }),
    runAction(em, { ...web, operation: 'remove', 'user-assigned-ids': 'id-app' }),
  ]);
  assert.equal(enable.code, 0, enable.stdout);
  assert.equal(remove.code, 0, remove.stdout);
  assert.deepEqual(identitySummary(em, 'vmss-web'), { system: true, userAssigned: [] });
  return enable;
}

describe('concurrent changes of the identity type', { concurrency: 2 }, () => {
  it('enable the system identity while another job removes the last user-assigned one: both changes stand', () =>
    withEmulator(userAssignedOnly, async (em) => {
      // The remover's stale plan is type None: sent blindly after the enable, it would delete the new principal.
      forceOrder(em, /"None"/i, () => scaleSet(em, 'vmss-web').identity.system !== undefined);
      const enable = await bothJobs(em);
      assert.equal(enable.outputs['principal-id'], scaleSet(em, 'vmss-web').identity.system?.principalId);
      assert.deepEqual(em.log.of('arm.vmss.patch').map((e) => e.status).sort(), [200, 200, 412], 'the stale write was refused once, then re-planned');
      assert.equal(em.log.arrived('arm.vmss.get').length >= 3, true, 'the refused job read again');
    }));

  it('remove the last user-assigned identity while another job enables the system one: both changes stand', () =>
    withEmulator(userAssignedOnly, async (em) => {
      // Now the enable waits: its stale plan keeps id-app ('SystemAssigned, UserAssigned' with it).
      forceOrder(em, /SystemAssigned/i, () => scaleSet(em, 'vmss-web').identity.userAssigned.length === 0);
      await bothJobs(em);
      assert.deepEqual(em.log.of('arm.vmss.patch').map((e) => e.status).sort(), [200, 200, 412]);
    }));
});
