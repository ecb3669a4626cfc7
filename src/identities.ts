// User-assigned identities as the run reads them: once per identity for the whole fleet.
import { abortable } from './abort.ts';
import { armFailure } from './azure/arm-errors.ts';
import type { ApplyContext } from './context.ts';
import type { ScaleSetIdentity, UserAssignedIdentity } from './identity.ts';
import { clip } from './text.ts';
import { warning } from './writer.ts';

export const shortName = (id: string): string => id.split('/').pop() ?? id;

/**
 * A user-assigned identity with its principal and client ids: null when Azure answers 404.
 * Only a 404 proves it does not exist; a read that fails otherwise (no read permission there,
 * throttling past the retries) is undefined, with a warning: not knowing is no reason to fail
 * a step the real write might pass.
 */
export function readIdentity(ctx: ApplyContext, id: string): Promise<UserAssignedIdentity | null | undefined> {
  ctx.identities ??= new Map();
  const key = id.toLowerCase();
  let read = ctx.identities.get(key);
  if (!read) {
    read = abortable(ctx.scaleSets.readIdentity(id, ctx.signal), ctx.signal).catch((error: unknown) => {
      if (ctx.signal.aborted) {
        ctx.identities?.delete(key);
        throw error;
      }
      warning(`Could not check whether user-assigned identity ${shortName(id)} (${id}) exists: ${clip(armFailure(error).message, 300).replace(/\.?$/, '.')} Going on as if it does.`, 'Identity not checked');
      return undefined;
    });
    ctx.identities.set(key, read);
  }
  return read;
}

export async function identityExists(ctx: ApplyContext, id: string): Promise<boolean | undefined> {
  const found = await readIdentity(ctx, id);
  return found === undefined ? undefined : found !== null;
}

/** The user-assigned identities the scale set references that no longer exist in Azure (reading them answers 404). */
export async function missingIdentities(ctx: ApplyContext, identity: ScaleSetIdentity): Promise<string[]> {
  const exists = await Promise.all(identity.userAssigned.map((u) => identityExists(ctx, u.id)));
  return identity.userAssigned.filter((_, i) => exists[i] === false).map((u) => u.id);
}
