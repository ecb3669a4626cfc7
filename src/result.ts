// What happened to one scale set, as the applier records it and the report tells it.
import type { GrantedRole } from './azure/roles.ts';
import type { ScaleSetState } from './azure/scale-sets.ts';
import type { ScaleSetIdentity } from './identity.ts';
import type { Plan } from './plan.ts';
import { scaleSetId } from './resource-id.ts';
import type { ScaleSetRef } from './settings.ts';

/**
 * none: no identity write was sent; sent: on the wire, no answer yet; accepted: Azure accepted
 * it and this run did not see the end; completed: Azure finished it.
 * A write still `sent` when the run stops is reported as `unconfirmed`.
 */
export type WriteState = 'none' | 'sent' | 'accepted' | 'completed';

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
  /** User-assigned identities the scale set references that no longer exist. */
  missingIdentities: string[];
  /** The latest plan. */
  plan?: Plan;
  /** The plan whose write Azure accepted: what this run changed. */
  applied?: Plan;
  /** True when this run changed the identity (a write Azure accepted, finished or not). */
  changed: boolean;
  write: WriteState;
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
  /** Roles granted (or, in a dry run, to be granted) to the scale set's identity. */
  roles: GrantedRole[];
  /** Retired extensions removed by this step. */
  removedExtensions: string[];
  /** A write other than the identity's that was on the wire when the run stopped (a role assignment, an extension removal). */
  inFlight?: string;
  /** Such writes that Azure accepted and this run did not see finish. */
  acceptedUnfinished: string[];
  /** Failed a check that stops every write (input rules that needed a read). */
  invalid?: boolean;
  error?: string;
}

export function newResult(ref: ScaleSetRef): TargetResult {
  return { ref, id: scaleSetId(ref), label: ref.name, changed: false, write: 'none', legacyExtensions: [], missingIdentities: [], warnings: [], roles: [], removedExtensions: [], acceptedUnfinished: [] };
}

/** The write state as outputs report it. */
export function reportedWrite(r: TargetResult): 'none' | 'completed' | 'accepted' | 'unconfirmed' {
  return r.write === 'sent' ? 'unconfirmed' : r.write;
}
