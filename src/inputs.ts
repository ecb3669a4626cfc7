// Inputs → one typed, validated Settings object. Everything a user can get wrong without
// asking Azure is caught here, before the first request.
import { InputError } from './errors.ts';
import { parseIdentityType } from './identity.ts';
import {
  checkIdentityName, checkResourceGroup, checkScaleSetName, identityId, isGuid, parseIdentityId, parseScaleSetId, sameId, scaleSetId,
} from './resource-id.ts';
import { namePattern, type NamePattern, type TagFilter } from './selectors.ts';
import type { CloudRequest, FleetQuery, Operation, RoleRequest, ScaleSetRef, Settings, SignIn } from './settings.ts';
import { MAX_LIST_ENTRIES, MAX_LISTINGS, MAX_USER_ASSIGNED_IDS } from './bounds.ts';
import { endpointUrl, oidcAudienceFor, readCloud } from './cloud.ts';
import { clip, hasControlCharacters, q } from './text.ts';

export const INPUTS = [
  'client-id', 'tenant-id', 'subscription-id', 'audience', 'environment', 'resource-manager-endpoint', 'resource-manager-audience', 'authority-host',
  'resource-group', 'vmss-name', 'vmss-id', 'operation', 'identity-type', 'user-assigned-ids', 'dry-run', 'timeout-seconds', 'max-parallel',
  'role-assignments', 'role-assignee', 'remove-legacy-extension', 'vmss-tags', 'allow-no-match', 'remove-missing-identities',
  'permission-check',
  'pull-request-comment', 'github-token',
] as const;
export type InputName = (typeof INPUTS)[number];

/** Reads one input, trimmed, '' when not given (the runner passes every input as a string). */
export type ReadInput = (name: InputName) => string;

export const DEFAULT_OPERATION: Operation = 'assign';
const OPERATIONS: Operation[] = ['assign', 'set', 'remove', 'show'];
const TYPES = "SystemAssigned, UserAssigned, 'SystemAssigned, UserAssigned' or None";
/** Inputs that hold one line per item; every other input is a single line. */
const MULTI_LINE = new Set<InputName>(['vmss-name', 'vmss-id', 'user-assigned-ids', 'role-assignments', 'resource-group', 'subscription-id', 'vmss-tags']);
/** Generous for lists of a thousand resource ids; anything longer is a mistake. */
const MAX_LIST_CHARS = 512 * 1024;
const MAX_LINE_CHARS: Partial<Record<InputName, number>> = { audience: 600 };
const MAX_SINGLE_LINE = 2048;
/** Inputs whose value is never echoed, not even in the error that refuses it. */
export const SECRET_INPUTS = new Set<InputName>(['github-token']);

/** Refuses control characters, oversized values and overlong lists before anything reads them. */
export function guardedReader(read: ReadInput): ReadInput {
  return (name) => {
    const value = read(name);
    const multi = MULTI_LINE.has(name);
    const lines = multi ? value.replace(/\r\n/g, '\n').split('\n') : [value];
    const shown = SECRET_INPUTS.has(name) ? 'The value (not shown: it is a secret)' : q(value);
    if (lines.some(hasControlCharacters)) {
      throw new InputError(name, `${shown} contains a control character${multi ? ' other than a line break' : ''} (a line break, tab or escape). Remove it${multi ? '' : '; this input takes one line'}.`);
    }
    const max = multi ? MAX_LIST_CHARS : MAX_LINE_CHARS[name] ?? MAX_SINGLE_LINE;
    if (value.length > max) throw new InputError(name, `is ${value.length} characters long; at most ${max} are accepted.${SECRET_INPUTS.has(name) ? '' : ` ${q(value)}`}`);
    if (multi) checkEntryCount(name, lines);
    return multi ? lines.join('\n') : value;
  };
}

/** Inputs with one entry a line; the other list inputs also split on commas (see list()). */
const ONE_A_LINE = new Set<InputName>(['role-assignments', 'vmss-tags']);
const SPLIT_STEPS = 'or split the list over several steps (or a matrix of jobs).';
const TOO_MANY: Partial<Record<InputName, string>> = {
  'vmss-name': `Choose the scale sets with a pattern (such as web-*) or vmss-tags, ${SPLIT_STEPS}`,
  'vmss-id': `Choose the scale sets with resource-group and a vmss-name pattern or vmss-tags, ${SPLIT_STEPS}`,
  'resource-group': `Use a pattern (such as rg-web-*) or '*', ${SPLIT_STEPS}`,
  'subscription-id': 'Split the subscriptions over several steps (or a matrix of jobs).',
  'vmss-tags': 'Every tag must match and a scale set holds at most 50: list only the tags that choose the scale sets.',
  'role-assignments': 'Split the assignments over several steps (or a matrix of jobs).',
  'user-assigned-ids': `ARM refuses a request that assigns more ("exceed limit '${MAX_USER_ASSIGNED_IDS}' in one request"). Split the identities over several steps with operation assign (or a matrix of jobs).`,
};

/** At most MAX_LIST_ENTRIES entries in a list input (MAX_USER_ASSIGNED_IDS identities); the error echoes only the first few. */
function checkEntryCount(name: InputName, lines: string[]): void {
  const max = name === 'user-assigned-ids' ? MAX_USER_ASSIGNED_IDS : MAX_LIST_ENTRIES;
  const entries = (ONE_A_LINE.has(name) ? lines : lines.flatMap((l) => l.split(','))).map((e) => e.trim()).filter(Boolean);
  if (entries.length <= max) return;
  const first = entries.slice(0, 3).map((e) => `'${clip(e, 100)}'`).join(', ');
  throw new InputError(name, `has ${entries.length} entries (${first}, …); one step takes at most ${max}. ${TOO_MANY[name] ?? SPLIT_STEPS}`);
}

/** Splits a list input on new lines and commas. */
export function list(value: string): string[] {
  return value.split(/[\n,]/).map((v) => v.trim()).filter(Boolean);
}

function bool(input: InputName, value: string, fallback: boolean): boolean {
  if (value === '') return fallback;
  if (['true', 'True', 'TRUE'].includes(value)) return true;
  if (['false', 'False', 'FALSE'].includes(value)) return false;
  throw new InputError(input, `${q(value)} is not a boolean. Use true or false.`);
}

function integer(input: InputName, value: string, fallback: number, min: number, max: number): number {
  if (value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new InputError(input, `${q(value)} is not a whole number from ${min} to ${max}.`);
  }
  return Number(value);
}

export function readSettings(rawRead: ReadInput, env: NodeJS.ProcessEnv = {}): Settings {
  const read = guardedReader(rawRead);
  const operation = readOperation(read('operation'));
  const { system, userAssignedIds } = readIdentity(operation, read('identity-type'), read('user-assigned-ids'));
  const roleAssignments = readRoleAssignments(read('role-assignments'));
  const roleAssignee = readRoleAssignee(read('role-assignee'), roleAssignments, operation, system, userAssignedIds);
  const cloud = readCloud(read('environment'), read('resource-manager-endpoint'), read('resource-manager-audience'), read('authority-host'));
  const signIn = readSignIn(read, env, cloud);
  const { targets, query } = readTargets(read, env);
  const settings: Settings = {
    signIn,
    cloud,
    targets,
    ...(query ? { query } : {}),
    allowNoMatch: bool('allow-no-match', read('allow-no-match'), false),
    removeMissingIdentities: bool('remove-missing-identities', read('remove-missing-identities'), false),
    operation,
    ...(system !== undefined ? { system } : {}),
    userAssignedIds,
    dryRun: bool('dry-run', read('dry-run'), false),
    timeoutSeconds: integer('timeout-seconds', read('timeout-seconds'), 900, 10, 21600),
    maxParallel: integer('max-parallel', read('max-parallel'), 50, 1, 100),
    roleAssignments,
    ...(roleAssignee ? { roleAssignee } : {}),
    removeLegacyExtension: bool('remove-legacy-extension', read('remove-legacy-extension'), false),
    permissionCheck: readPermissionCheck(read('permission-check')),
    pullRequestComment: bool('pull-request-comment', read('pull-request-comment'), false),
    githubToken: read('github-token'),
  };
  if (settings.allowNoMatch && !query) throw new InputError('allow-no-match', 'is only for scale sets chosen by pattern or tag (vmss-name with * or ?, several resource groups or subscriptions, or vmss-tags). Remove it.');
  if (settings.removeMissingIdentities && settings.operation === 'show') throw new InputError('remove-missing-identities', "is set but operation 'show' only reads. Use operation assign, remove or set.");
  // Bare identity names resolve in each scale set's resource group: one check per resource group.
  const places = new Map<string, ScaleSetRef>();
  for (const t of targets) {
    const place = `${t.subscriptionId}/${t.resourceGroup}`.toLowerCase();
    if (!places.has(place)) places.set(place, t);
  }
  for (const target of places.values()) checkAgainstTarget(settings, target);
  return settings;
}

/** Bare identity names live in the scale set's resource group. */
export function resolveIdentity(value: string, ref: ScaleSetRef): string {
  return value.startsWith('/') ? value : identityId(ref.subscriptionId, ref.resourceGroup, value);
}

/** The user-assigned-ids entry that resolved to `id` for this scale set, when it was a bare name. */
export function bareNameFor(settings: Pick<Settings, 'userAssignedIds'>, ref: ScaleSetRef, id: string): string | undefined {
  return settings.userAssignedIds.find((v) => !v.startsWith('/') && sameId(resolveIdentity(v, ref), id));
}

/**
 * The cross-input rules that depend on where each scale set is: a bare name and a full id that
 * resolve to the same identity, and a role-assignee that `set` would not keep.
 */
function checkAgainstTarget(s: Settings, ref: ScaleSetRef): void {
  const ids = s.userAssignedIds.map((v) => resolveIdentity(v, ref));
  const seen = new Map<string, number>();
  ids.forEach((id, i) => {
    const twin = seen.get(id.toLowerCase());
    if (twin !== undefined) {
      throw new InputError('user-assigned-ids', `names the same identity twice for scale set ${q(ref.name)}: ${q(s.userAssignedIds[twin] ?? '')} and ${q(s.userAssignedIds[i] ?? '')} both resolve to ${q(id)}. List it once.`);
    }
    seen.set(id.toLowerCase(), i);
  });
  if (!s.roleAssignee) return;
  const listed = seen.has(resolveIdentity(s.roleAssignee, ref).toLowerCase());
  if (s.operation === 'set' && !listed) {
    throw new InputError('role-assignee', `${q(s.roleAssignee)} is not in user-assigned-ids, and operation 'set' leaves scale set ${q(ref.name)} with exactly those. Add it to user-assigned-ids, or name one of them.`);
  }
  if (s.operation === 'remove' && listed) {
    throw new InputError('role-assignee', `names ${q(s.roleAssignee)}, which this step removes. Grant roles to an identity the scale set keeps.`);
  }
}

const ROLE_LINE = /^(.+?)\s+at\s+(\/\S*)$/;
const SCOPE = /^\/(subscriptions\/[0-9a-f-]{36}(\/resourceGroups\/[^/]+(\/providers\/[^/]+(\/[^/]+\/[^/]+)+)?)?|providers\/Microsoft\.Management\/managementGroups\/[^/]+)$/i;
const MAX_ROLE_NAME = 512;
const MAX_SCOPE = 1024;

function readRoleAssignments(value: string): RoleRequest[] {
  const lines = value.split('\n').map((l) => l.trim()).filter(Boolean);
  const requests = lines.map((line) => {
    const m = ROLE_LINE.exec(line);
    if (!m) throw new InputError('role-assignments', `${q(line)} is not 'ROLE at SCOPE' (for example: Storage Blob Data Reader at /subscriptions/…/resourceGroups/…/providers/Microsoft.Storage/storageAccounts/NAME).`);
    const [, rawRole = '', scope = ''] = m;
    const role = rawRole.trim();
    if (role.length > MAX_ROLE_NAME || /['"<>]/.test(role)) {
      throw new InputError('role-assignments', `${q(role)} is not a role name: use at most ${MAX_ROLE_NAME} characters, without quotes or angle brackets (or give the role definition's GUID).`);
    }
    if (scope.length > MAX_SCOPE || /[?#%\\]|\/\.\.?(\/|$)/.test(scope) || !SCOPE.test(scope.replace(/\/+$/, ''))) {
      throw new InputError('role-assignments', `${q(scope)} is not a scope: use a subscription, resource group or resource id (/subscriptions/{id}/…) or a management group.`);
    }
    return { role, scope: scope.replace(/\/+$/, '') };
  });
  const seen = new Set<string>();
  for (const r of requests) {
    const key = `${r.role} at ${r.scope}`.toLowerCase();
    if (seen.has(key)) throw new InputError('role-assignments', `lists ${q(`${r.role} at ${r.scope}`)} twice. List each assignment once.`);
    seen.add(key);
  }
  return requests;
}

function readRoleAssignee(value: string, roles: RoleRequest[], operation: Operation, system: boolean | undefined, ids: string[]): string | undefined {
  if (value && roles.length === 0) throw new InputError('role-assignee', 'is set but role-assignments is empty. Remove it, or list the roles to grant.');
  if (roles.length === 0) return undefined;
  if (operation === 'show') throw new InputError('role-assignments', "is set but operation 'show' only reads. Use operation assign or set to grant roles.");
  if (value) {
    if (value.startsWith('/')) parseIdentityId('role-assignee', value);
    else checkIdentityName('role-assignee', value);
    if (operation === 'set' && ids.length === 0) {
      throw new InputError('role-assignee', `names ${q(value)}, but operation 'set' with identity-type ${system ? 'SystemAssigned' : 'None'} leaves the scale set without user-assigned identities. Add it to user-assigned-ids (and UserAssigned to identity-type), or remove role-assignee to grant the system-assigned identity.`);
    }
    return value;
  }
  const losesSystem = (operation === 'set' && system === false) || (operation === 'remove' && system === true);
  if (losesSystem) {
    throw new InputError('role-assignments', 'needs the system-assigned identity, which this step removes. Name a user-assigned identity in role-assignee, or keep the system-assigned identity.');
  }
  return undefined;
}

function readPermissionCheck(value: string): 'error' | 'warn' {
  const v = (value || 'error').toLowerCase();
  if (v !== 'error' && v !== 'warn') throw new InputError('permission-check', `${q(value)} is not a choice. Use error (the default: a permission the plan needs and ARM's list does not show stops the step before any write) or warn (say so and go on).`);
  return v;
}

function readOperation(value: string): Operation {
  const op = (value || DEFAULT_OPERATION).toLowerCase() as Operation;
  if (!OPERATIONS.includes(op)) throw new InputError('operation', `${q(value)} is not an operation. Use assign, set, remove or show.`);
  return op;
}

function readAudience(value: string): string | undefined {
  if (!value) return undefined;
  if (/\s/.test(value)) throw new InputError('audience', `${q(value)} contains whitespace. Give the audience exactly as the federated credential lists it (default api://AzureADTokenExchange).`);
  return value;
}

/** The authority the sign-in will use, when the inputs alone say it (a custom cloud's may come from its metadata). */
function knownAuthority(cloud: CloudRequest): string | undefined {
  if (cloud.kind === 'custom') return cloud.authorityHost;
  return cloud.authorityHost ?? { AzureCloud: 'https://login.microsoftonline.com', AzureUSGovernment: 'https://login.microsoftonline.us', AzureChinaCloud: 'https://login.chinacloudapi.cn' }[cloud.name];
}

function readSignIn(read: ReadInput, env: NodeJS.ProcessEnv, cloud: CloudRequest): SignIn {
  const clientId = read('client-id') || env['AZURE_CLIENT_ID'] || '';
  const tenantId = read('tenant-id') || env['AZURE_TENANT_ID'] || '';
  const given = readAudience(read('audience'));
  if (!clientId && !tenantId) return { kind: 'azure-cli' };
  if (!clientId || !tenantId) {
    const missing = clientId ? 'tenant-id' : 'client-id';
    throw new InputError(missing, `is empty while ${missing === 'client-id' ? 'tenant-id' : 'client-id'} is set. Give both (or the AZURE_CLIENT_ID and AZURE_TENANT_ID variables) to sign in with OIDC, or neither to use an earlier azure/login session.`);
  }
  if (!isGuid(clientId)) throw new InputError('client-id', `${q(clientId)} is not a GUID. Use the application (client) id of the app registration or managed identity that has the federated credential.`);
  if (!isGuid(tenantId) && !/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(tenantId)) {
    throw new InputError('tenant-id', `${q(tenantId)} is neither a GUID nor a domain name. Use the directory (tenant) id.`);
  }
  const authority = knownAuthority(cloud);
  // Known now: checked (and the GitHub token requested) before anything else; otherwise once the cloud's metadata is read.
  const audience = authority ? oidcAudienceFor(endpointUrl('authority-host', authority), given) : given;
  return { kind: 'oidc', clientId, tenantId, ...(audience ? { audience } : {}), ...(given ? { audienceGiven: true } : {}) };
}

const MAX_TAG_KEY = 512;
const MAX_TAG_VALUE = 256;

/** `key=value` lines, or `key` alone for "the tag is present". */
function readTags(value: string): TagFilter[] {
  const filters = value.split('\n').map((l) => l.trim()).filter(Boolean).map((line) => {
    const at = line.indexOf('=');
    const key = (at < 0 ? line : line.slice(0, at)).trim();
    const tagValue = at < 0 ? undefined : line.slice(at + 1).trim();
    if (!key || key.length > MAX_TAG_KEY || (tagValue !== undefined && tagValue.length > MAX_TAG_VALUE)) {
      throw new InputError('vmss-tags', `${q(line)} is not 'key=value' or 'key': tag names are 1-${MAX_TAG_KEY} characters, values at most ${MAX_TAG_VALUE}.`);
    }
    return { key, ...(tagValue !== undefined ? { value: tagValue } : {}) };
  });
  const seen = new Set<string>();
  for (const f of filters) {
    if (seen.has(f.key.toLowerCase())) throw new InputError('vmss-tags', `names the tag ${q(f.key)} twice (tag names compare case-insensitively). List each tag once.`);
    seen.add(f.key.toLowerCase());
  }
  return filters;
}

function readSubscriptions(read: ReadInput, env: NodeJS.ProcessEnv): string[] {
  const given = list(read('subscription-id'));
  const subscriptions = given.length ? given : [env['AZURE_SUBSCRIPTION_ID'] ?? ''].filter(Boolean);
  if (subscriptions.length === 0) throw new InputError('subscription-id', "is empty. Give 'subscription-id' (or the AZURE_SUBSCRIPTION_ID variable), or use 'vmss-id'.");
  for (const s of subscriptions) if (!isGuid(s)) throw new InputError('subscription-id', `${q(s)} is not a GUID.`);
  if (new Set(subscriptions.map((s) => s.toLowerCase())).size !== subscriptions.length) throw new InputError('subscription-id', 'lists a subscription twice. List each once.');
  return subscriptions;
}

function readPatterns(input: InputName, values: string[], check: (input: string, name: string) => void, kind: string): NamePattern[] {
  return values.map((v) => {
    const p = namePattern(v);
    if (!p.glob) {
      check(input, v);
      return p;
    }
    // A glob is checked as a name with its wildcards standing for valid characters.
    try {
      check(input, v.replace(/[*?]/g, 'x'));
    } catch {
      throw new InputError(input, `${q(v)} is not a valid ${kind} pattern: use the characters of a ${kind} name, with * for any run of them and ? for one.`);
    }
    return p;
  });
}

function readTargets(read: ReadInput, env: NodeJS.ProcessEnv): { targets: ScaleSetRef[]; query?: FleetQuery } {
  const ids = list(read('vmss-id'));
  const names = list(read('vmss-name'));
  const tags = readTags(read('vmss-tags'));
  const groups = list(read('resource-group'));
  if (ids.length > 0 && (names.length > 0 || tags.length > 0)) {
    throw new InputError('vmss-id', `is set together with '${names.length ? 'vmss-name' : 'vmss-tags'}'. Name the scale sets one way: 'vmss-id', or 'resource-group' with 'vmss-name' and/or 'vmss-tags'.`);
  }
  if (ids.length > 0) {
    if (groups.length) throw new InputError('resource-group', "is not used with 'vmss-id' (the id names the resource group). Remove one of them.");
    const subscriptionInput = list(read('subscription-id'));
    const given = new Set(subscriptionInput.map((s) => s.toLowerCase()));
    const targets = ids.map((id) => parseScaleSetId('vmss-id', id));
    for (const t of targets) {
      if (given.size && !given.has(t.subscriptionId.toLowerCase())) {
        throw new InputError('subscription-id', `${q(subscriptionInput.join(', '))} conflicts with subscription ${q(t.subscriptionId)} in vmss-id ${q(scaleSetId(t))}. Remove subscription-id or make them agree.`);
      }
    }
    return { targets: unique(targets, 'vmss-id') };
  }
  if (names.length === 0 && tags.length === 0) {
    throw new InputError('vmss-name', groups.length
      ? `is empty, and so is 'vmss-tags': resource-group ${q(groups.join(', '))} alone does not choose scale sets. Use vmss-name: '*' for every scale set in it, a name or pattern such as web-*, or 'vmss-tags'.`
      : "is empty. Give 'resource-group' and 'vmss-name' (names or patterns such as web-*), 'vmss-tags', or 'vmss-id' (the scale set's full resource id).");
  }
  if (groups.length === 0) throw new InputError('resource-group', `is empty. ${names.length ? "'vmss-name'" : "'vmss-tags'"} needs the resource group(s) to look in ('*' for every resource group of the subscription).`);
  if (new Set(groups.map((g) => g.toLowerCase())).size !== groups.length) throw new InputError('resource-group', 'lists a resource group twice (names compare in any case). List each once.');
  const resourceGroups = groups.map((g) => (g === '*' ? namePattern('*') : readPatterns('resource-group', [g], checkResourceGroup, 'resource group')[0] as NamePattern));
  const named = new Set<string>();
  for (const n of names) {
    if (named.has(n.toLowerCase())) throw new InputError('vmss-name', `names the scale set ${q(n)} twice (names compare in any case). List each scale set once.`);
    named.add(n.toLowerCase());
  }
  const namePatterns = readPatterns('vmss-name', names, checkScaleSetName, 'scale set');
  const subscriptions = readSubscriptions(read, env);
  const listings = subscriptions.length * resourceGroups.length;
  if (listings > MAX_LISTINGS) {
    throw new InputError('resource-group', `and subscription-id make ${listings} listings (${resourceGroups.length} resource groups in each of ${subscriptions.length} subscriptions); one step makes at most ${MAX_LISTINGS}. Use a resource group pattern (such as rg-web-* or '*'), or split the subscriptions over several steps (or a matrix of jobs).`);
  }
  const exact = subscriptions.length === 1 && resourceGroups.length === 1 && !resourceGroups[0]?.glob && tags.length === 0 && namePatterns.every((p) => !p.glob);
  if (exact) {
    const [subscriptionId = '', resourceGroup = ''] = [subscriptions[0], groups[0]];
    return { targets: unique(names.map((name) => ({ subscriptionId, resourceGroup, name })), 'vmss-name') };
  }
  return { targets: [], query: { subscriptions, resourceGroups, ...(namePatterns.length ? { names: namePatterns } : {}), tags } };
}

function unique(targets: ScaleSetRef[], input: InputName): ScaleSetRef[] {
  const seen = new Set<string>();
  for (const t of targets) {
    const key = scaleSetId(t).toLowerCase();
    if (seen.has(key)) throw new InputError(input, `names the scale set ${q(t.name)} twice. List each scale set once.`);
    seen.add(key);
  }
  return targets;
}

/** The scale sets the inputs name, when they can be read at all: for outputs after an input error. */
export function targetsIfValid(rawRead: ReadInput, env: NodeJS.ProcessEnv): ScaleSetRef[] {
  try {
    return readTargets(guardedReader(rawRead), env).targets;
  } catch {
    return [];
  }
}

function readIdentity(operation: Operation, typeValue: string, idsValue: string): { system?: boolean; userAssignedIds: string[] } {
  const ids = list(idsValue);
  if (operation === 'show') {
    if (typeValue || ids.length) {
      throw new InputError(typeValue ? 'identity-type' : 'user-assigned-ids', "is set but operation 'show' only reads. Remove it, or choose operation assign, set or remove.");
    }
    return { userAssignedIds: [] };
  }
  const type = typeValue ? parseIdentityType(typeValue) : undefined;
  if (typeValue && !type) throw new InputError('identity-type', `${q(typeValue)} is not an identity type. Use ${TYPES} (any case).`);
  const userAssignedIds = readIdentityIds(ids);

  if (operation === 'set') {
    if (!type) throw new InputError('identity-type', `is required for operation 'set'. Use ${TYPES}.`);
    if (!type.user && userAssignedIds.length > 0) {
      throw new InputError('user-assigned-ids', `lists identities but identity-type ${q(typeValue)} has no UserAssigned. Add UserAssigned to identity-type, or remove user-assigned-ids.`);
    }
    if (type.user && userAssignedIds.length === 0) {
      throw new InputError('user-assigned-ids', `is empty but identity-type ${q(typeValue)} includes UserAssigned. List the identities the scale set should have.`);
    }
    return { system: type.system, userAssignedIds };
  }
  const verb = operation === 'assign' ? 'add' : 'remove';
  if (type && !type.system && !type.user) {
    throw new InputError('identity-type', `None means nothing to ${verb} with operation '${operation}'. To drop every identity use operation 'set' with identity-type None.`);
  }
  if (type?.user && userAssignedIds.length === 0) {
    throw new InputError('user-assigned-ids', `is empty but identity-type includes UserAssigned. List the identities to ${verb}.`);
  }
  if (type && !type.user && userAssignedIds.length > 0) {
    throw new InputError('user-assigned-ids', `lists identities but identity-type ${q(typeValue)} has no UserAssigned. Use identity-type 'SystemAssigned, UserAssigned' to ${verb} both, or leave identity-type empty.`);
  }
  if (!type && userAssignedIds.length === 0) {
    throw new InputError('user-assigned-ids', `is empty and identity-type is not set, so there is nothing to ${verb}. Give user-assigned-ids, identity-type SystemAssigned, or both.`);
  }
  return { ...(type?.system ? { system: true } : {}), userAssignedIds };
}

function readIdentityIds(values: string[]): string[] {
  const ids = values.map((v) => {
    if (v.startsWith('/')) return parseIdentityId('user-assigned-ids', v);
    if (v.includes('/')) {
      throw new InputError('user-assigned-ids', `${q(v)} is neither a full resource id (starting with /subscriptions/) nor a bare identity name.`);
    }
    checkIdentityName('user-assigned-ids', v);
    return v;
  });
  const seen = new Map<string, string>();
  for (const id of ids) {
    const twin = seen.get(id.toLowerCase());
    if (twin !== undefined) {
      throw new InputError('user-assigned-ids', `lists ${q(id)} twice${twin === id ? '' : ` (also as ${q(twin)}; ids compare case-insensitively)`}. List each identity once.`);
    }
    seen.set(id.toLowerCase(), id);
  }
  return ids;
}
