// Which identity the Instance Metadata Service hands to a token request that names none
// (no client_id, object_id or msi_res_id), and whether a change takes that default away.
// IMDS picks the system-assigned identity, else the only user-assigned one; with no system
// identity and two or more user-assigned ones it refuses: "Multiple user assigned identities
// exist, please specify the clientId". Pure: identities in, words out.
import type { ScaleSetIdentity } from './identity.ts';
import { clip } from './text.ts';

export type ImdsDefault =
  | { kind: 'system'; principalId?: string }
  | { kind: 'userAssigned'; id: string; clientId?: string };

/** The identity IMDS uses when a request names none; undefined when it refuses such requests (or there is no identity). */
export function imdsDefault(identity: ScaleSetIdentity): ImdsDefault | undefined {
  if (identity.system) return { kind: 'system', ...(identity.system.principalId ? { principalId: identity.system.principalId } : {}) };
  const [only, ...others] = identity.userAssigned;
  if (!only || others.length > 0) return undefined;
  return { kind: 'userAssigned', id: only.id, ...(only.clientId ? { clientId: only.clientId } : {}) };
}

/**
 * The default `before` had, when `after` leaves requests that name no identity without one:
 * no system-assigned identity and two or more user-assigned ones. Removing every identity is
 * not counted: that takes tokens away from every program, as asked.
 */
export function lostImdsDefault(before: ScaleSetIdentity, after: ScaleSetIdentity): ImdsDefault | undefined {
  if (after.system || after.userAssigned.length < 2) return undefined;
  return imdsDefault(before);
}

const nameOf = (id: string) => clip(id.split('/').pop() ?? id);

export function describeImdsDefault(d: ImdsDefault): string {
  if (d.kind === 'system') return `the system-assigned identity (principal ${d.principalId ?? '(unknown)'})`;
  return `user-assigned identity ${nameOf(d.id)} (client id ${d.clientId ?? '(unknown)'}, ${clip(d.id, 300)})`;
}

/** The warning for a target whose change takes the default away, without the target's name. */
export function imdsWarningText(lost: ImdsDefault, after: ScaleSetIdentity): string {
  const keep = lost.kind === 'userAssigned' && lost.clientId ? ` (client_id=${lost.clientId} keeps them on ${nameOf(lost.id)})` : '';
  return `programs that ask IMDS for a token without client_id get ${describeImdsDefault(lost)} today, and stop getting a token after this change: ` +
    `with no system-assigned identity and ${after.userAssigned.length} user-assigned ones, IMDS answers them "Multiple user assigned identities exist, please specify the clientId". ` +
    `To keep them working, pass client_id (the client id of the identity each should use) in their IMDS requests${keep}, or keep or enable the system-assigned identity. This warning does not stop the change`;
}
