// What happened to one scale set, as the applier records it and the report tells it.
import type { ScaleSetState } from './azure/scale-sets.ts';
import type { ScaleSetIdentity, UserAssignedIdentity } from './identity.ts';
import type { Plan } from './plan.ts';
import { scaleSetId } from './resource-id.ts';
import type { ScaleSetRef } from './settings.ts';

/**
 * none: no identity write was sent; sent: on the wire, no answer yet; accepted: Azure accepted
 * it and this run did not see the end; completed: Azure finished it.
 * A write still `sent` when the run stops is reported as `unconfirmed`.
 */
export type WriteState = 'none' | 'sent' | 'accepted' | 'completed';

/** A role assignment for a target's identity, as the run made it or found it in place. */
export interface GrantedRole {
  role: string;
  scope: string;
  principalId: string;
  id: string;
  /** false when the same assignment existed already (or, in a dry run, was not written). */
  created: boolean;
  /** Dry run: the real run would create it. */
  planned?: boolean;
}

/** A role the plan gives a target's identity: a write unless it `exists` or another target makes it. */
export interface PlannedGrant {
  role: string;
  scope: string;
  roleDefinitionId: string;
  /** undefined: the system-assigned principal this run's identity write creates. */
  principalId?: string;
  /** The same assignment is in place already. */
  exists: boolean;
  /** Scope, role and principal (or the target's coming system identity): the grant's identity across targets. */
  key: string;
  /** The id of the assignment in place. */
  assignmentId?: string;
  /** Another target of this step grants the same role to the same principal (a shared identity): its id. */
  grantedBy?: string;
}

export interface TargetResult {
  ref: ScaleSetRef;
  id: string;
  /** How the log, annotations and summary name it: enough of its id to tell twins apart (display-names.ts). */
  label: string;
  before?: ScaleSetIdentity;
  after?: ScaleSetIdentity;
  etag?: string;
  /** What a list answer said of the scale set: used instead of a first read. */
  listed?: ScaleSetState;
  /** The identities the plan adds, as reading them showed them (principal and client ids). */
  added?: UserAssignedIdentity[];
  /** User-assigned identities the scale set references that no longer exist. */
  missingIdentities: string[];
  /** The latest plan. */
  plan?: Plan;
  /** The plan whose write Azure accepted: what this run changed. */
  applied?: Plan;
  /**
   * Dry run: the plan holds a write (identity, role assignment or extension removal).
   * Real run: Azure accepted a write of this run for this target, finished or not.
   */
  changed: boolean;
  write: WriteState;
  /** Azure accepted the identity write, then reported its operation Failed or Canceled: it keeps the identity from before. */
  operationFailed?: boolean;
  /** The write's answer was lost and a read confirmed it landed. */
  confirmedByReading?: boolean;
  operationUrl?: string;
  orchestrationMode?: string;
  provisioningState?: string;
  upgradePolicy?: string;
  legacyExtensions: string[];
  /** Removals that cannot be undone, as shown to the user before writing. */
  warnings: string[];
  /** User-assigned identities the change takes away (undone by assigning them again), as warned before writing. */
  removals?: string[];
  /** The plan leaves IMDS no default identity for requests that name none, as warned before writing (imds-default.ts). */
  imdsWarning?: string;
  /** The role assignments the plan holds for the scale set's identity (written or not). */
  grants: PlannedGrant[];
  /** Roles granted, or found in place, by the real run (a dry run: as planned). */
  roles: GrantedRole[];
  /** Retired extensions removed by this step. */
  removedExtensions: string[];
  /** A write other than the identity's that was on the wire when the run stopped (a role assignment, an extension removal). */
  inFlight?: string;
  /** Such writes that Azure accepted and this run did not see finish. */
  acceptedUnfinished: string[];
  /** Failed a check that stops every write (input rules that needed a read, permissions, existence). */
  invalid?: boolean;
  /** Named exactly in the inputs (not found by a query): a 404 on it stops every write. */
  named?: boolean;
  error?: string;
}

export function newResult(ref: ScaleSetRef): TargetResult {
  return { ref, id: scaleSetId(ref), label: ref.name, changed: false, write: 'none', legacyExtensions: [], missingIdentities: [], warnings: [], grants: [], roles: [], removedExtensions: [], acceptedUnfinished: [] };
}

/** The write state as outputs report it. */
export function reportedWrite(r: TargetResult): 'none' | 'completed' | 'accepted' | 'unconfirmed' {
  return r.write === 'sent' ? 'unconfirmed' : r.write;
}

/** The extensions the plan removes: the retired ones, when asked to. */
export const plannedExtensionRemovals = (r: TargetResult, removeLegacy: boolean): string[] => (removeLegacy ? r.legacyExtensions : []);

/** The role assignments this target's plan writes itself. */
export const grantsToWrite = (r: TargetResult): PlannedGrant[] => r.grants.filter((g) => !g.exists && !g.grantedBy);

/** Whether the plan holds a write for this target: what `changed` means in a dry run. */
export function planWrites(r: TargetResult, removeLegacy: boolean): boolean {
  return Boolean(r.plan?.changed && r.plan.patch) || grantsToWrite(r).length > 0 || plannedExtensionRemovals(r, removeLegacy).length > 0;
}

/**
 * The identity a target's outputs describe: none while a change of this run may still be
 * running (accepted and not seen to finish, or sent with no answer): the state before it would
 * be a lie, and the state after is not known yet.
 */
export function reportedIdentity(r: TargetResult): ScaleSetIdentity | undefined {
  if ((r.write === 'accepted' && !r.operationFailed) || r.write === 'sent') return undefined;
  return r.after ?? r.before;
}
