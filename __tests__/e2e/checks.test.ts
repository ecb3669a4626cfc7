// Rules that need a read are checked for every scale set before any write: a role assignee
// that the change would remove, or that the scale set will not have.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RG, SUB, identitySummary, withEmulator } from '../support/emulator.ts';
import { runAction } from '../support/run-action.ts';
import { canGrant, errorLine } from '../support/outcome.ts';

const web = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web' };

describe('rules checked before any write', { concurrency: 4 }, () => {
  it('set with a role-assignee it would remove: refused before sign-in (issue scenario)', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, {
        'resource-group': 'rg-prod', 'vmss-name': 'vmss-api', operation: 'set', 'identity-type': 'UserAssigned', 'user-assigned-ids': 'id-logs',
        'role-assignee': 'id-app', 'role-assignments': `Reader at /subscriptions/${SUB}`,
      });
      assert.equal(run.code, 1);
      assert.match(errorLine(run), /Input 'role-assignee': 'id-app' is not in user-assigned-ids/);
      assert.equal(em.log.entries.length, 0);
      assert.deepEqual(identitySummary(em, 'vmss-api'), { system: true, userAssigned: ['id-app'] });
    }));

  it('assign with a role-assignee the scale set does not have and is not given: refused after the read, before any write', () =>
    withEmulator({ edit: canGrant }, async (em) => {
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web, vmss-api', 'user-assigned-ids': 'id-logs', 'role-assignee': 'id-app', 'role-assignments': `Reader at ${RG}` });
      assert.equal(run.code, 1);
      assert.match(run.stdout, /vmss-web: Input 'role-assignee': 'id-app' is not a user-assigned identity of scale set 'vmss-web', and operation 'assign' does not add it/);
      assert.match(run.stdout, /vmss-api: Not changed: every write is checked before any is made/);
      assert.equal(em.log.writes().length, 0);
      assert.doesNotMatch(run.stdout, /Azure accepted/);
    }));

  it('roles for a system identity the scale set will not have: refused before any write', () =>
    withEmulator({ edit: canGrant }, async (em) => {
      const run = await runAction(em, { ...web, 'user-assigned-ids': 'id-logs', 'role-assignments': `Reader at ${RG}` });
      assert.equal(run.code, 1);
      assert.match(errorLine(run), /scale set 'vmss-web' will have no system-assigned identity to grant roles to/);
      assert.equal(em.log.writes().length, 0);
    }));
});
