// ARM's permission rules as the check phase applies them (reference §16.3): wildcards, case,
// `/*/` matching no segment, and notActions that only take from their own block.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actionMatches, allows, ACTIONS } from '../../src/permissions.ts';

describe('permission matching', () => {
  it('a star matches any run of characters, in any case', () => {
    assert.ok(actionMatches('*', ACTIONS.scaleSetWrite));
    assert.ok(actionMatches('microsoft.compute/virtualMachineScaleSets/*', ACTIONS.scaleSetWrite));
    assert.ok(actionMatches('Microsoft.Compute/*/write', ACTIONS.scaleSetWrite));
    assert.ok(!actionMatches('*/read', ACTIONS.scaleSetWrite));
    assert.ok(!actionMatches('Microsoft.Compute/virtualMachines/*', ACTIONS.scaleSetWrite));
  });

  it("a star between slashes also matches no segment: Managed Identity Operator's pattern grants assign/action", () => {
    assert.ok(actionMatches('Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action', ACTIONS.assignIdentity));
    assert.ok(!actionMatches('Microsoft.ManagedIdentity/userAssignedIdentities/*/read', ACTIONS.assignIdentity));
  });

  it('dots and other pattern characters are literal', () => {
    assert.ok(!actionMatches('MicrosoftXCompute/virtualMachineScaleSets/write', ACTIONS.scaleSetWrite));
    assert.ok(!actionMatches('Microsoft.Compute/virtualMachineScaleSets/writ.', ACTIONS.scaleSetWrite));
  });

  it("a block's notActions take only from that block; another block may grant the action", () => {
    const contributor = { actions: ['*'], notActions: ['Microsoft.Authorization/*/Write', 'Microsoft.Authorization/*/Delete'] };
    assert.ok(!allows([contributor], ACTIONS.roleAssignmentWrite));
    assert.ok(allows([contributor], ACTIONS.scaleSetWrite));
    assert.ok(allows([contributor, { actions: ['Microsoft.Authorization/roleAssignments/write'], notActions: [] }], ACTIONS.roleAssignmentWrite));
    assert.ok(!allows([], ACTIONS.scaleSetWrite));
  });
});
