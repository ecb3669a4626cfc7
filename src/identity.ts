// A scale set's managed identity as the action reasons about it.
import { sameId } from './resource-id.ts';

/** ARM's spellings, exactly: the classic SDK rejects any other client-side. */
export type IdentityType = 'SystemAssigned' | 'UserAssigned' | 'SystemAssigned, UserAssigned' | 'None';

export interface UserAssignedIdentity {
  /** The resource id, spelled as Azure returned it (or as the user wrote it, before Azure has it). */
  id: string;
  principalId?: string;
  clientId?: string;
}

export interface ScaleSetIdentity {
  system?: { principalId?: string; tenantId?: string };
  userAssigned: UserAssignedIdentity[];
}

export function typeOf(system: boolean, user: boolean): IdentityType {
  if (system && user) return 'SystemAssigned, UserAssigned';
  if (system) return 'SystemAssigned';
  if (user) return 'UserAssigned';
  return 'None';
}

export function identityType(identity: ScaleSetIdentity): IdentityType {
  return typeOf(identity.system !== undefined, identity.userAssigned.length > 0);
}

/** Parses a type the way ARM does: any case, spaces around the comma tolerated. */
export function parseIdentityType(raw: string): { system: boolean; user: boolean } | undefined {
  const parts = raw.split(',').map((p) => p.trim().toLowerCase());
  if (new Set(parts).size !== parts.length) return undefined;
  if (parts.length === 1 && parts[0] === 'none') return { system: false, user: false };
  if (!parts.every((p) => p === 'systemassigned' || p === 'userassigned')) return undefined;
  return { system: parts.includes('systemassigned'), user: parts.includes('userassigned') };
}

export function findUserAssigned(identity: ScaleSetIdentity, id: string): UserAssignedIdentity | undefined {
  return identity.userAssigned.find((u) => sameId(u.id, id));
}

/** Same type and same user-assigned ids (compared as ARM does). */
export function sameIdentity(a: ScaleSetIdentity, b: ScaleSetIdentity): boolean {
  return identityType(a) === identityType(b)
    && a.userAssigned.length === b.userAssigned.length
    && a.userAssigned.every((u) => findUserAssigned(b, u.id) !== undefined);
}
