// How Compute applies an `identity` block in a PATCH (merge) or PUT (replace), per the
// reference's sections 1-2: canonical types, `{}` adds, `null` removes (keys matched
// case-insensitively), validation errors with ARM's codes and messages.
import type { ScaleSet, ScaleSetIdentity, State, UserAssignedEntry } from './state.ts';

export interface ArmFailure {
  status: number;
  code: string;
  message: string;
  target?: string;
}

export interface IdentityChange {
  identity: ScaleSetIdentity;
}

const UAI_ID = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/[^/]+$/i;

export function canonicalType(identity: ScaleSetIdentity): string {
  const sa = identity.system !== undefined;
  const ua = identity.userAssigned.length > 0;
  if (sa && ua) return 'SystemAssigned, UserAssigned';
  if (sa) return 'SystemAssigned';
  if (ua) return 'UserAssigned';
  return 'None';
}

/** ARM parses the type case-insensitively and tolerates spaces around the comma. */
export function parseType(raw: unknown): { system: boolean; user: boolean } | undefined {
  if (typeof raw !== 'string') return undefined;
  const parts = raw.split(',').map((p) => p.trim().toLowerCase());
  const set = new Set(parts);
  if (set.size !== parts.length) return undefined;
  if (parts.length === 1 && parts[0] === 'none') return { system: false, user: false };
  if (!parts.every((p) => p === 'systemassigned' || p === 'userassigned')) return undefined;
  return { system: set.has('systemassigned'), user: set.has('userassigned') };
}

const invalid = (message: string, target?: string): ArmFailure => ({ status: 400, code: 'InvalidParameter', message, ...(target ? { target } : {}) });

/** Which kinds of identity a write asks for. */
interface Wanted {
  system: boolean;
  user: boolean;
}

/** A write's identity block, read and checked: the kinds it wants and its user-assigned map. */
interface IdentityRequest {
  wanted: Wanted;
  entries: [string, unknown][];
}

export function applyIdentity(state: State, set: ScaleSet, body: unknown, mode: 'merge' | 'replace'): IdentityChange | ArmFailure {
  const current = set.identity;
  if (body === undefined || body === null) {
    // A PATCH without `identity` is no identity write. A PUT without it keeps the identity
    // (see arm-compute.ts) and so rewrites it: with a dangling reference it fails (strict, 14.6).
    const dangling = mode === 'replace' ? state.danglingReferences(set)[0] : undefined;
    return dangling ? identityNotFound(set, dangling.key) : { identity: current };
  }
  const request = readIdentityRequest(set, body);
  if (!('wanted' in request)) return request;
  const { wanted, entries } = request;
  const linked = userAssignedAfter(state, set, entries, mode);
  if (!Array.isArray(linked)) return linked;
  const next = wanted.user ? linked : [];
  if (wanted.user && next.length === 0) {
    return { status: 400, code: 'MissingIdentityIds', message: "The identity ids must not be null or empty for 'UserAssigned' identity type." };
  }
  // UNCONFIRMED (reference 14.6): whether Compute refuses a write that keeps a reference to a
  // deleted identity without naming it. The strictest reading: any identity write that leaves
  // one in place fails, naming the first such identity as a missing one is named (§2.4).
  const dangling = next.find((e) => !state.findUserAssignedIdentity(e.key));
  if (dangling) return identityNotFound(set, dangling.key);
  const system = wanted.system ? (current.system ?? state.newSystemPrincipal(set.subscriptionId)) : undefined;
  return { identity: { ...(system ? { system } : {}), userAssigned: next } };
}

/** The identity block's shape checked as Compute checks it, before any identity is looked up. */
function readIdentityRequest(set: ScaleSet, body: unknown): IdentityRequest | ArmFailure {
  if (typeof body !== 'object' || Array.isArray(body)) return invalid("The value of parameter 'identity' is invalid.", 'identity');
  const req = body as { type?: unknown; userAssignedIdentities?: unknown };
  const current = set.identity;
  const wanted = req.type === undefined
    ? { system: current.system !== undefined, user: current.userAssigned.length > 0 }
    : parseType(req.type);
  if (!wanted) {
    return invalid(`The value '${String(req.type)}' of parameter 'identity.type' is not valid. Allowed values are: SystemAssigned, UserAssigned, SystemAssigned, UserAssigned, None.`, 'identity.type');
  }
  if (set.orchestrationMode === 'Flexible' && wanted.system) {
    return invalid("The value 'SystemAssigned' of parameter 'identity' is not allowed. Allowed values are: UserAssigned, None.", 'identity');
  }
  const map = req.userAssignedIdentities;
  if (map !== undefined && map !== null && (typeof map !== 'object' || Array.isArray(map))) {
    return invalid("The value of parameter 'identity.userAssignedIdentities' is invalid.", 'identity.userAssignedIdentities');
  }
  const entries = Object.entries((map ?? {}) as Record<string, unknown>);
  const badKey = identityKeyFailure(entries);
  if (badKey) return badKey;
  const typeName = wanted.system && wanted.user ? 'SystemAssigned, UserAssigned' : wanted.system ? 'SystemAssigned' : wanted.user ? 'UserAssigned' : 'None';
  if (!wanted.user && entries.some(([, v]) => v !== null)) {
    return invalid(`ResourceIdentity identityIds should not be provided if the type is "${typeName}".`, 'resourceIdentity.identityIds');
  }
  return { wanted, entries };
}

/** The first key that is duplicated (case-insensitively) or not a fully qualified resource id. */
function identityKeyFailure(entries: [string, unknown][]): ArmFailure | undefined {
  const seen = new Set<string>();
  for (const [key] of entries) {
    if (seen.has(key.toLowerCase())) {
      return invalid(`ResourceIdentity identityId '${key}' cannot be duplicated in the provided identityIds list.`, 'resourceIdentity.identityIds');
    }
    seen.add(key.toLowerCase());
    if (!/^\/(subscriptions|providers)\//i.test(key)) {
      return { status: 400, code: 'LinkedInvalidPropertyId', message: `Property id '${key}' at path 'identity.userAssignedIdentities' is invalid. Expect fully qualified resource Id that start with '/subscriptions/{subscriptionId}' or '/providers/{resourceProviderNamespace}/'.` };
    }
  }
  return undefined;
}

/** The user-assigned identities after the write: a merge starts from the current ones, a replace from none. */
function userAssignedAfter(state: State, set: ScaleSet, entries: [string, unknown][], mode: 'merge' | 'replace'): UserAssignedEntry[] | ArmFailure {
  const current = set.identity;
  const find = (key: string) => current.userAssigned.find((e) => e.key.toLowerCase() === key.toLowerCase());
  let next: UserAssignedEntry[] = mode === 'merge' ? [...current.userAssigned] : [];
  for (const [key, value] of entries) {
    const existing = find(key);
    if (value === null) {
      // UNCONFIRMED in the reference: the strictest choice, an error, for removing what is not there.
      if (!existing) {
        return invalid(`The user-assigned identity '${key}' cannot be removed because it is not assigned to the virtual machine scale set '${set.name}'.`, 'identity.userAssignedIdentities');
      }
      next = next.filter((e) => e.key.toLowerCase() !== key.toLowerCase());
      continue;
    }
    if (typeof value !== 'object' || Array.isArray(value) || !echoesExisting(value as Record<string, unknown>, existing)) {
      return {
        status: 400,
        code: 'InvalidIdentityValues',
        message: `Invalid value for the identities '${key}'. The 'UserAssignedIdentities' property keys should only be empty json objects, null or the resource exisiting property.`,
      };
    }
    if (existing) {
      if (mode === 'replace') next.push(existing);
      continue;
    }
    if (!UAI_ID.test(key) || !state.findUserAssignedIdentity(key)) return identityNotFound(set, key);
    next.push({ key });
  }
  return next;
}

/**
 * The user-assigned identities a write links to the scale set: the keys it sends with a value,
 * not already there, as sent. ARM's front door checks `assign/action` on each before Compute
 * sees the request, so a missing identity the caller may not assign is a 403, not a 400.
 */
export function linkedIdentities(set: ScaleSet, body: unknown): string[] {
  if (typeof body !== 'object' || body === null) return [];
  const map = (body as { userAssignedIdentities?: unknown }).userAssignedIdentities;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) return [];
  const held = new Set(set.identity.userAssigned.map((e) => e.key.toLowerCase()));
  return Object.entries(map as Record<string, unknown>)
    .filter(([key, value]) => value !== null && /^\/subscriptions\//i.test(key) && !held.has(key.toLowerCase()))
    .map(([key]) => key);
}

/** 400 `FailedIdentityOperation` for an identity that does not exist, worded as in reference 2.4. */
export function identityNotFound(set: ScaleSet, key: string): ArmFailure {
  const [, , sub, , rg, , , , name] = key.split('/');
  return {
    status: 400,
    code: 'FailedIdentityOperation',
    message: `Identity operation for resource '${set.id}' failed with error 'Failed to perform resource identity operation. Status: 'BadRequest'. Response: '{"error":{"code":"BadRequest","message":"Resource '/subscriptions/${sub ?? ''}//resourcegroups/${rg ?? ''}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name ?? ''}' was not found."}}'.'.`,
  };
}

function echoesExisting(value: Record<string, unknown>, existing: UserAssignedEntry | undefined): boolean {
  const keys = Object.keys(value);
  if (keys.length === 0) return true;
  if (!existing || keys.some((k) => k !== 'principalId' && k !== 'clientId')) return false;
  return (value['principalId'] === undefined || value['principalId'] === existing.principalId)
    && (value['clientId'] === undefined || value['clientId'] === existing.clientId);
}

export function renderIdentity(identity: ScaleSetIdentity): Record<string, unknown> | undefined {
  const type = canonicalType(identity);
  if (type === 'None') return undefined;
  return {
    type,
    ...(identity.system ? { principalId: identity.system.principalId, tenantId: identity.system.tenantId } : {}),
    ...(identity.userAssigned.length > 0
      ? {
          userAssignedIdentities: Object.fromEntries(
            identity.userAssigned.map((e) => [e.key, e.principalId ? { principalId: e.principalId, clientId: e.clientId } : {}]),
          ),
        }
      : {}),
  };
}
