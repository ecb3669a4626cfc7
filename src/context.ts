// What every phase of a run works with: the Azure clients, the settings, the stop signal, and
// the answers read once per run and shared by every target.
import type { Access } from './azure/access.ts';
import type { RoleAssignments } from './azure/roles.ts';
import type { ScaleSets } from './azure/scale-sets.ts';
import { ActionError } from './errors.ts';
import type { UserAssignedIdentity } from './identity.ts';
import type { GrantedRole } from './result.ts';
import type { Settings } from './settings.ts';

export interface ApplyContext {
  scaleSets: ScaleSets;
  roles: RoleAssignments;
  access: Access;
  settings: Settings;
  signal: AbortSignal;
  /** Who is signed in, as messages name them. */
  signedInAs: string;
  /** The role assignments this run is making or made, by scope, role and principal: each is made once. */
  grantsMade: Map<string, Promise<GrantedRole>>;
  /** One read per user-assigned identity for the whole fleet: null when it does not exist, undefined when unknown. */
  identities?: Map<string, Promise<UserAssignedIdentity | null | undefined>>;
}

/** A rule the inputs break, or a write that would be refused, found before any write: it stops every write. */
export class CheckFailed extends ActionError {
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailed';
  }
}
