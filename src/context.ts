// What every phase of a run works with: the Azure clients, the settings, the stop signal, and
// the answers read once per run and shared by every target.
import type { Access } from './azure/access.ts';
import type { RoleAssignments } from './azure/roles.ts';
import type { ScaleSets } from './azure/scale-sets.ts';
import { ActionError } from './errors.ts';
import type { UserAssignedIdentity } from './identity.ts';
import type { Settings } from './settings.ts';

export interface ApplyContext {
  scaleSets: ScaleSets;
  roles: RoleAssignments;
  access: Access;
  settings: Settings;
  signal: AbortSignal;
  /** Who is signed in, as messages name them. */
  signedInAs: string;
  /** The role assignments the plan shares out, by scope, role and principal: settled when their owner made them or gave up. */
  grantOwners: Map<string, Settle>;
  /** One read per user-assigned identity for the whole fleet: null when it does not exist, undefined when unknown. */
  identities?: Map<string, Promise<UserAssignedIdentity | null | undefined>>;
}

/** A promise settled once, from outside: true when the thing is done, false when given up. */
export interface Settle {
  done: Promise<boolean>;
  settle: (done: boolean) => void;
}

/** A rule the inputs break, or a write that would be refused, found before any write: it stops every write. */
export class CheckFailed extends ActionError {
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailed';
  }
}
