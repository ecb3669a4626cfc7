// Azure's answers, parsed into the typed values the action uses. Nothing ARM sends reaches an
// output, a log line, the summary or a URL without passing a rule here: GUIDs are GUIDs, ids
// are ids of the type they claim in the subscription that was asked, names follow ARM's rules.
// A value that breaks a rule fails its target, shown in a form that no shell, markup or
// workflow command reads as anything but text. Pure: no I/O.
import { ActionError } from '../errors.ts';
import { parseIdentityType, type ScaleSetIdentity, type UserAssignedIdentity } from '../identity.ts';
import { isGuid, readIdentityId, readScaleSetId, readScaleSetName, sameId, scaleSetId, type Complaint } from '../resource-id.ts';
import type { ScaleSetRef } from '../settings.ts';

export interface ScaleSetState {
  ref: ScaleSetRef;
  id: string;
  etag?: string;
  identity: ScaleSetIdentity;
  orchestrationMode?: string;
  provisioningState?: string;
  upgradePolicy?: string;
  /** Names of the retired ManagedIdentityExtensionForWindows/ForLinux extensions still installed. */
  legacyExtensions: string[];
}

/** A scale set as a list answer shows it: its state and its tags. */
export interface ListedScaleSet extends ScaleSetState {
  tags: Record<string, string>;
}

/** The scope a list was asked for: every item must lie in it. */
export interface ListScope {
  subscriptionId: string;
  resourceGroup?: string | undefined;
}

const SHOWN_MAX = 300;
// Letters, digits and punctuation that mean nothing to a shell, HTML or a workflow command.
const PLAIN = /^[A-Za-z0-9 ._/,=+@-]$/;

/** A value from Azure as a message may show it: cut short, every other character as \uXXXX. */
export function shown(value: unknown): string {
  if (value === undefined) return '(nothing)';
  if (value === null) return '(null)';
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const cut = [...text].slice(0, SHOWN_MAX);
  const escaped = cut.map((c) => (PLAIN.test(c) ? c : `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`)).join('');
  const kind = typeof value === 'string' ? '' : `${Array.isArray(value) ? 'an array' : `a ${typeof value}`} `;
  return `${kind}'${escaped}'${cut.length < [...text].length ? ` … (${text.length} characters)` : ''}`;
}

/** An answer from Azure that breaks the rules for what it claims to be. */
export class InvalidAnswer extends ActionError {
  constructor(what: string, target: string, value: unknown) {
    super(`Azure answered with an invalid ${what} for ${target}: ${shown(value)}. The action used nothing of that answer. Run the step again; if Azure keeps answering so, report it to Azure support.`);
    this.name = 'InvalidAnswer';
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const absent = (v: unknown): v is undefined | null => v === undefined || v === null;

function invalid(what: string, target: string, value: unknown): never {
  throw new InvalidAnswer(what, target, value);
}

/** The same rules as for inputs, with Azure's answer to blame. */
const blame = (what: string, target: string, value: unknown): Complaint => () => new InvalidAnswer(what, target, value);

function objectOrNothing(value: unknown, what: string, target: string): Json | undefined {
  if (absent(value)) return undefined;
  return isObject(value) ? value : invalid(what, target, value);
}

export function optionalGuid(value: unknown, what: string, target: string): string | undefined {
  if (absent(value)) return undefined;
  return typeof value === 'string' && isGuid(value) ? value : invalid(what, target, value);
}

/** A one-word state or mode (Succeeded, Uniform, Manual): letters only. */
function optionalWord(value: unknown, what: string, target: string): string | undefined {
  if (absent(value) || value === '') return undefined;
  return typeof value === 'string' && /^[A-Za-z]{1,64}$/.test(value) ? value : invalid(what, target, value);
}

export function identityIdAnswer(value: unknown, target: string): string {
  const what = 'user-assigned identity id';
  return typeof value === 'string' ? readIdentityId(value, blame(what, target, value)) : invalid(what, target, value);
}

function userAssignedOf(map: unknown, target: string): UserAssignedIdentity[] {
  const entries = objectOrNothing(map, 'userAssignedIdentities map', target) ?? {};
  return Object.entries(entries).map(([key, raw]) => {
    const id = identityIdAnswer(key, target);
    const value = objectOrNothing(raw, 'user-assigned identity', target) ?? {};
    const principalId = optionalGuid(value['principalId'], 'principal id', target);
    const clientId = optionalGuid(value['clientId'], 'client id', target);
    return { id, ...(principalId ? { principalId } : {}), ...(clientId ? { clientId } : {}) };
  });
}

/** A user-assigned identity as reading it answers: its principal and client ids. */
export function userAssignedIdentityAnswer(raw: unknown, id: string): UserAssignedIdentity {
  const target = `user-assigned identity ${id}`;
  const body = objectOrNothing(raw, 'user-assigned identity', target) ?? {};
  const p = objectOrNothing(body['properties'], 'user-assigned identity properties', target) ?? {};
  const principalId = optionalGuid(p['principalId'], 'principal id', target);
  const clientId = optionalGuid(p['clientId'], 'client id', target);
  return { id, ...(principalId ? { principalId } : {}), ...(clientId ? { clientId } : {}) };
}

/** A scale set's identity block: no block is no identity; a block must say its type. */
export function identityAnswer(raw: unknown, target: string): ScaleSetIdentity {
  const identity = objectOrNothing(raw, 'identity', target);
  if (!identity) return { userAssigned: [] };
  const type = identity['type'];
  const parsed = typeof type === 'string' ? parseIdentityType(type) : undefined;
  if (!parsed) return invalid('identity type', target, type);
  const result: ScaleSetIdentity = { userAssigned: [] };
  if (parsed.system) {
    const principalId = optionalGuid(identity['principalId'], 'principal id', target);
    const tenantId = optionalGuid(identity['tenantId'], 'tenant id', target);
    result.system = { ...(principalId ? { principalId } : {}), ...(tenantId ? { tenantId } : {}) };
  }
  if (parsed.user) result.userAssigned = userAssignedOf(identity['userAssignedIdentities'], target);
  return result;
}

const LEGACY_PUBLISHER = 'microsoft.managedidentity';
const EXTENSION_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The retired managed identity extensions among a scale set's extensions, by name. */
function legacyExtensionsOf(properties: Json, target: string): string[] {
  const profile = objectOrNothing(properties['virtualMachineProfile'], 'virtual machine profile', target);
  const extensionProfile = objectOrNothing(profile?.['extensionProfile'], 'extension profile', target);
  const list = extensionProfile?.['extensions'] ?? [];
  if (!Array.isArray(list)) return invalid('extension list', target, list);
  return list.flatMap((raw: unknown) => {
    const e = objectOrNothing(raw, 'extension', target) ?? {};
    const p = objectOrNothing(e['properties'], 'extension', target) ?? {};
    if (typeof p['publisher'] !== 'string' || p['publisher'].toLowerCase() !== LEGACY_PUBLISHER) return [];
    const name = e['name'] ?? p['type'] ?? 'ManagedIdentityExtension';
    return typeof name === 'string' && EXTENSION_NAME.test(name) ? [name] : invalid('extension name', target, name);
  });
}

/** An entity tag goes back to Azure in If-Match: visible ASCII only. */
function etagOf(value: unknown, target: string): string | undefined {
  if (absent(value) || value === '') return undefined;
  return typeof value === 'string' && /^[\x21-\x7e]{1,256}$/.test(value) ? value : invalid('etag', target, value);
}

/** What the action reads of a scale set, once `ref` is known to be the one the body describes. */
function stateOf(body: Json, ref: ScaleSetRef, id: string, target: string): ScaleSetState {
  const name = body['name'];
  if (!absent(name) && (typeof name !== 'string' || !sameId(readScaleSetName(name, blame('scale set name', target, name)), ref.name))) {
    invalid('scale set name', target, name);
  }
  const properties = objectOrNothing(body['properties'], 'properties', target) ?? {};
  const etag = etagOf(body['etag'], target);
  const orchestrationMode = optionalWord(properties['orchestrationMode'], 'orchestration mode', target);
  const provisioningState = optionalWord(properties['provisioningState'], 'provisioning state', target);
  const upgradePolicy = optionalWord(objectOrNothing(properties['upgradePolicy'], 'upgrade policy', target)?.['mode'], 'upgrade policy', target);
  return {
    ref,
    id,
    ...(etag ? { etag } : {}),
    identity: identityAnswer(body['identity'], target),
    ...(orchestrationMode ? { orchestrationMode } : {}),
    ...(provisioningState ? { provisioningState } : {}),
    ...(upgradePolicy ? { upgradePolicy } : {}),
    legacyExtensions: legacyExtensionsOf(properties, target),
  };
}

const describeRef = (ref: ScaleSetRef) => `scale set ${ref.name} in resource group ${ref.resourceGroup} (subscription ${ref.subscriptionId})`;

/** A GET of the scale set, or the final answer of a write to it: it must describe that scale set. */
export function scaleSetAnswer(raw: unknown, ref: ScaleSetRef): ScaleSetState {
  const target = describeRef(ref);
  const body = isObject(raw) ? raw : invalid('scale set', target, raw);
  const id = body['id'];
  if (typeof id !== 'string' || !sameId(id, scaleSetId(ref))) return invalid('scale set id', target, id);
  return stateOf(body, ref, id, target);
}

const scopeOf = (scope: ListScope) => `/subscriptions/${scope.subscriptionId}${scope.resourceGroup ? `/resourceGroups/${scope.resourceGroup}` : ''}`;

/** One item of a list of scale sets: a scale set of the scope that was listed. */
export function listedScaleSet(raw: unknown, scope: ListScope, position: number): ListedScaleSet {
  const target = `scale set #${position} of the list of ${scopeOf(scope)}`;
  const body = isObject(raw) ? raw : invalid('scale set', target, raw);
  const id = body['id'];
  if (typeof id !== 'string') return invalid('scale set id', target, id);
  const ref = readScaleSetId(id, blame('scale set id', target, id));
  if (!sameId(ref.subscriptionId, scope.subscriptionId)) invalid('scale set id (another subscription)', target, id);
  if (scope.resourceGroup && !sameId(ref.resourceGroup, scope.resourceGroup)) invalid('scale set id (another resource group)', target, id);
  return { ...stateOf(body, ref, id, target), tags: tagsOf(body['tags'], target) };
}

/** Tags are strings to strings; an entry whose value is anything else is dropped, not guessed at. */
function tagsOf(raw: unknown, target: string): Record<string, string> {
  const tags = objectOrNothing(raw, 'tags', target) ?? {};
  return Object.fromEntries(Object.entries(tags).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** A page of a list answer: its items (raw, parsed one by one) and the next page's link. */
export function listPage(raw: unknown, target: string): { items: unknown[]; nextLink?: string } {
  const body = objectOrNothing(raw, 'list page', target) ?? {};
  const items = body['value'] ?? [];
  if (!Array.isArray(items)) return invalid('list page', target, items);
  const next = body['nextLink'];
  if (absent(next) || next === '') return { items };
  return typeof next === 'string' ? { items, nextLink: next } : invalid('next page link', target, next);
}

// ARM's operation statuses (RPC): the three terminal ones and those Azure services send meanwhile.
const OPERATION_STATUSES = ['Succeeded', 'Failed', 'Canceled', 'Cancelled', 'InProgress', 'Running', 'Accepted', 'NotStarted', 'Creating', 'Updating', 'Deleting'];

/** An operation status document's `status`, when the body has one: one of ARM's strings. */
export function checkOperationStatus(raw: unknown, target: string): void {
  if (!isObject(raw) || !('status' in raw)) return;
  const status = raw['status'];
  if (typeof status !== 'string' || !OPERATION_STATUSES.some((s) => s.toLowerCase() === status.toLowerCase())) invalid('operation status', target, status);
}

/** An ARM error code names a case, and the action acts on some of them: an identifier only. */
export const isErrorCode = (value: string): boolean => /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/.test(value);

const ROLE_DEFINITION = /^(?:\/subscriptions\/([^/]+)|\/providers\/Microsoft\.Management\/managementGroups\/[\w().-]{1,90})?\/providers\/Microsoft\.Authorization\/roleDefinitions\/([^/]+)$/i;
// A scope is /, a subscription, a resource group or a resource below it, or a management group.
const ASSIGNMENT = /^((?:\/[\w().-]+)*)\/providers\/Microsoft\.Authorization\/roleAssignments\/([^/]+)$/i;

export function roleDefinitionIdAnswer(value: unknown, target: string): string {
  const m = typeof value === 'string' ? ROLE_DEFINITION.exec(value) : null;
  return m && (m[1] === undefined || isGuid(m[1])) && isGuid(m[2] ?? '') ? (value as string) : invalid('role definition id', target, value);
}

export interface RoleAssignmentAnswer {
  id: string;
  principalId: string;
  roleDefinitionId: string;
  scope: string;
}

/** A role assignment of a list answer: its id, principal, role and scope, each as ARM spells them. */
export function roleAssignmentAnswer(raw: unknown, target: string): RoleAssignmentAnswer {
  const body = isObject(raw) ? raw : invalid('role assignment', target, raw);
  const id = body['id'];
  const m = typeof id === 'string' ? ASSIGNMENT.exec(id) : null;
  if (!m || !isGuid(m[2] ?? '')) return invalid('role assignment id', target, id);
  const p = objectOrNothing(body['properties'], 'role assignment', target) ?? {};
  const principalId = optionalGuid(p['principalId'], 'principal id', target) ?? invalid('principal id', target, p['principalId']);
  const roleDefinitionId = roleDefinitionIdAnswer(p['roleDefinitionId'], target);
  const scope = p['scope'];
  if (typeof scope !== 'string' || !sameId(scope, m[1] || '/')) return invalid('role assignment scope', target, scope);
  return { id: id as string, principalId, roleDefinitionId, scope };
}

/** What an operation URL may hold once parsed: no quote, space, `$`, parenthesis or `;`. */
const OPERATION_URL = /^https:\/\/[A-Za-z0-9.:-]+\/[A-Za-z0-9\-._~/?=&%+,:]*$/;

/**
 * The operation URL a write's answer names (`Azure-AsyncOperation` or `Location`), absolute,
 * and whether it lies on the cloud's ARM host; undefined when it is not a plain URL. It is
 * shown in outputs only when both hold; one on another host is refused where it would be polled.
 */
export function operationUrlAnswer(value: string, resourceManager: string): { href: string; onHost: boolean } | undefined {
  if (value.length > 2048) return undefined;
  let url: URL;
  try {
    url = new URL(value, resourceManager);
  } catch {
    return undefined;
  }
  if (!OPERATION_URL.test(url.href) || url.pathname.split('/').some((p) => p === '..' || p === '.')) return undefined;
  return { href: url.href, onHost: url.origin === new URL(resourceManager).origin };
}

/** An action pattern of a permissions list: ARM's operation names, wildcards included. */
const ACTION_PATTERN = /^[A-Za-z0-9*][A-Za-z0-9.*/_-]{0,299}$/;

function actionList(raw: unknown, what: string, target: string): string[] {
  if (absent(raw)) return [];
  if (!Array.isArray(raw) || raw.length > 1000) return invalid(what, target, raw);
  return raw.map((a) => (typeof a === 'string' && ACTION_PATTERN.test(a) ? a : invalid(what, target, a)));
}

/** One block of a permissions list: what one role grants at the scope. */
export function permissionBlockAnswer(raw: unknown, target: string): { actions: string[]; notActions: string[] } {
  const body = isObject(raw) ? raw : invalid('permission', target, raw);
  return { actions: actionList(body['actions'], 'permitted action', target), notActions: actionList(body['notActions'], 'excluded action', target) };
}

/**
 * A list answer's next page, when it lies on the cloud's ARM host: the bearer token goes with
 * every page, so a next page elsewhere is never followed. Undefined when it points elsewhere.
 */
export function nextPageOnHost(link: string, resourceManager: string): string | undefined {
  let url: URL;
  try {
    url = new URL(link, resourceManager);
  } catch {
    return undefined;
  }
  return url.origin === new URL(resourceManager).origin ? url.href : undefined;
}
