// Azure Resource Manager routes for scale sets, their extensions and long-running operations,
// user-assigned identities, role definitions and role assignments.
import { authenticate, authorize, hasPermission, type Caller } from './arm-auth.ts';
import { applyIdentity, renderIdentity, type ArmFailure } from './arm-identity.ts';
import type { Entra } from './entra.ts';
import { armError, send, type Exchange, type Headers } from './http.ts';
import { scopeContains } from './roles.ts';
import type { RoleAssignment, ScaleSet, ScaleSetIdentity, State } from './state.ts';

export interface OperationPlan {
  outcome?: 'Succeeded' | 'Failed' | 'Never';
  durationMs?: number;
  error?: { code: string; message: string };
}

export interface Operation {
  id: string;
  subscriptionId: string;
  location: string;
  scaleSetKey: string;
  kind: 'update' | 'manualupgrade' | 'extensionDelete';
  startedAt: number;
  /** When the emulator marks the operation finished (Infinity: never). */
  endsAt: number;
  outcome: 'Succeeded' | 'Failed';
  error?: { code: string; message: string };
  settled: boolean;
  polls: number;
  onSuccess: () => void;
  onFailure: () => void;
}

export interface ArmControls {
  /** How long an update takes in Azure; the reference saw 5-33 s, tests use less. */
  updateDurationMs: number;
  /** Plans for the next operations, consumed in order. */
  nextOperations: OperationPlan[];
  /** A Retry-After (seconds) to put on PATCH answers and status polls; Compute sends none. */
  retryAfterSeconds?: number;
  /** How long a new principal stays invisible to RBAC lookups (PrincipalNotFound). */
  directoryLagMs: number;
  /** Report PrincipalNotFound for young principals even when principalType is set. */
  lagIgnoresPrincipalType: boolean;
}

export interface Arm {
  origin: string;
  operations: Map<string, Operation>;
  controls: ArmControls;
}

const SEG = '([^/]+)';
const VMSS = new RegExp(`^/subscriptions/${SEG}/resourceGroups/${SEG}/providers/Microsoft\\.Compute/virtualMachineScaleSets/${SEG}(?:/(extensions)(?:/${SEG})?|/(manualupgrade))?$`, 'i');
const OPERATION = new RegExp(`^/subscriptions/${SEG}/providers/Microsoft\\.Compute/locations/${SEG}/operations/${SEG}$`, 'i');
const UAI = new RegExp(`^/subscriptions/${SEG}/resourceGroups/${SEG}/providers/Microsoft\\.ManagedIdentity/userAssignedIdentities/${SEG}$`, 'i');
const ROLE_DEFS = /^(.*)\/providers\/Microsoft\.Authorization\/roleDefinitions(?:\/([^/]+))?$/i;
const ROLE_ASSIGNMENTS = /^(.*)\/providers\/Microsoft\.Authorization\/roleAssignments(?:\/([^/]+))?$/i;

export function classifyArm(method: string, path: string): string | undefined {
  const m = method.toLowerCase();
  const v = VMSS.exec(path);
  if (v) {
    if (v[6]) return 'arm.vmss.manualupgrade';
    if (v[4]) return v[5] ? `arm.vmss.extension.${m}` : 'arm.vmss.extensions.list';
    return `arm.vmss.${m}`;
  }
  if (OPERATION.test(path)) return 'arm.operation';
  if (UAI.test(path)) return `arm.uai.${m}`;
  const rd = ROLE_DEFS.exec(path);
  if (rd) return rd[2] ? 'arm.roleDefinition.get' : 'arm.roleDefinitions.list';
  const ra = ROLE_ASSIGNMENTS.exec(path);
  if (ra) return ra[2] ? `arm.roleAssignment.${m}` : 'arm.roleAssignments.list';
  if (/^\/(subscriptions|providers)\//i.test(path)) return 'arm.unknown';
  return undefined;
}

/** ARM's timestamp style: 7 fractional digits and +00:00. */
export function armTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$10000+00:00');
}

const readHeaders = (): Headers => ({
  'x-ms-ratelimit-remaining-subscription-reads': '3749',
  'x-ms-ratelimit-remaining-resource': 'Microsoft.Compute/GetVMScaleSetSubscriptionMaximum;2399,Microsoft.Compute/GetVMScaleSetResource;35',
});
const writeHeaders = (): Headers => ({
  'x-ms-ratelimit-remaining-subscription-writes': '199',
  'x-ms-ratelimit-remaining-resource': 'Microsoft.Compute/VMScaleSetActionsSubscriptionMaximum;1499,Microsoft.Compute/VMScaleSetActionsResource;11,Microsoft.Compute/VMScaleSetBatchedVMRequestsSubscriptionMaximum;6000,Microsoft.Compute/VmssQueuedVMOperations;0',
  'x-ms-request-charge': '0',
});

const fail = (x: Exchange, f: ArmFailure) => armError(x, f.status, f.code, f.message, f.target ? { target: f.target } : {});

export async function handleArm(x: Exchange, arm: Arm, entra: Entra, state: State): Promise<void> {
  const apiVersion = x.url.searchParams.get('api-version');
  if (!apiVersion) {
    return armError(x, 400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
  }
  const path = x.url.pathname;
  const subscriptionId = /^\/subscriptions\/([^/]+)/i.exec(path)?.[1];
  const caller = await authenticate(x, entra, state, subscriptionId);
  if (!caller) return;
  if (subscriptionId && !state.subscriptions.has(subscriptionId.toLowerCase())) {
    return armError(x, 404, 'SubscriptionNotFound', `The subscription '${subscriptionId}' could not be found.`);
  }
  const ctx: Ctx = { x, arm, state, caller, apiVersion };
  if (x.route.startsWith('arm.vmss.')) return scaleSetRoute(ctx, VMSS.exec(path) as RegExpExecArray);
  if (x.route === 'arm.operation') return operationRoute(ctx, OPERATION.exec(path) as RegExpExecArray);
  if (x.route.startsWith('arm.uai.')) return userAssignedIdentityRoute(ctx, UAI.exec(path) as RegExpExecArray);
  if (x.route.startsWith('arm.roleDefinition')) return roleDefinitionRoute(ctx, ROLE_DEFS.exec(path) as RegExpExecArray);
  if (x.route.startsWith('arm.roleAssignment')) return roleAssignmentRoute(ctx, ROLE_ASSIGNMENTS.exec(path) as RegExpExecArray);
  return armError(x, 400, 'InvalidResourceType', `The resource type could not be found in the namespace for api version '${apiVersion}'.`);
}

interface Ctx {
  x: Exchange;
  arm: Arm;
  state: State;
  caller: Caller;
  apiVersion: string;
}

// ---- scale sets ---------------------------------------------------------------------------

/** Applies operations whose time has come. Called whenever a scale set or operation is read. */
export function settle(arm: Arm): void {
  const now = Date.now();
  for (const op of arm.operations.values()) {
    if (op.settled || now < op.endsAt) continue;
    op.settled = true;
    if (op.outcome === 'Succeeded') op.onSuccess();
    else op.onFailure();
  }
}

function busy(arm: Arm, set: ScaleSet): boolean {
  settle(arm);
  return [...arm.operations.values()].some((op) => !op.settled && op.scaleSetKey === set.id.toLowerCase());
}

function startOperation(ctx: Ctx, set: ScaleSet, kind: Operation['kind'], onSuccess: () => void, onFailure: () => void): Operation {
  const plan = ctx.arm.controls.nextOperations.shift() ?? {};
  const now = Date.now();
  const duration = plan.durationMs ?? ctx.arm.controls.updateDurationMs;
  const op: Operation = {
    id: ctx.state.ids.guid(),
    subscriptionId: set.subscriptionId,
    location: set.location,
    scaleSetKey: set.id.toLowerCase(),
    kind,
    startedAt: now,
    endsAt: plan.outcome === 'Never' ? Infinity : now + duration,
    outcome: plan.outcome === 'Failed' ? 'Failed' : 'Succeeded',
    ...(plan.outcome === 'Failed'
      ? { error: plan.error ?? { code: 'InternalExecutionError', message: 'An internal execution error occurred. Please retry later.' } }
      : {}),
    settled: false,
    polls: 0,
    onSuccess,
    onFailure,
  };
  ctx.arm.operations.set(op.id.toLowerCase(), op);
  return op;
}

function operationUrl(ctx: Ctx, op: Operation, monitor = false): string {
  const q = new URLSearchParams({ p: ctx.state.ids.guid(), ...(monitor ? { monitor: 'true' } : {}), 'api-version': ctx.apiVersion });
  return `${ctx.arm.origin}/subscriptions/${op.subscriptionId}/providers/Microsoft.Compute/locations/${op.location}/operations/${op.id}?${q}`;
}

export function renderScaleSet(set: ScaleSet): Record<string, unknown> {
  const identity = renderIdentity(set.identity);
  return {
    name: set.name,
    id: set.id,
    type: 'Microsoft.Compute/virtualMachineScaleSets',
    location: set.location,
    tags: {},
    ...(identity ? { identity } : {}),
    sku: { name: 'Standard_D2s_v3', tier: 'Standard', capacity: 2 },
    etag: `"${set.etag}"`,
    properties: {
      singlePlacementGroup: set.orchestrationMode === 'Uniform',
      orchestrationMode: set.orchestrationMode,
      upgradePolicy: { mode: set.upgradePolicy },
      virtualMachineProfile: {
        osProfile: { computerNamePrefix: set.name.slice(0, 9), adminUsername: 'azureuser' },
        storageProfile: { imageReference: { publisher: 'Canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' } },
        extensionProfile: { extensions: set.extensions.map((e) => renderExtension(set, e)) },
      },
      provisioningState: set.provisioningState,
      overprovision: set.orchestrationMode === 'Uniform',
      doNotRunExtensionsOnOverprovisionedVMs: false,
      uniqueId: set.uniqueId,
      platformFaultDomainCount: set.orchestrationMode === 'Uniform' ? 5 : 1,
      timeCreated: set.timeCreated,
    },
  };
}

function renderExtension(set: ScaleSet, e: ScaleSet['extensions'][number]) {
  return {
    name: e.name,
    id: `${set.id}/extensions/${e.name}`,
    type: 'Microsoft.Compute/virtualMachineScaleSets/extensions',
    properties: {
      autoUpgradeMinorVersion: true,
      provisioningState: e.provisioningState,
      publisher: e.publisher,
      type: e.type,
      typeHandlerVersion: e.typeHandlerVersion ?? '1.0',
      ...(e.settings ? { settings: e.settings } : {}),
    },
  };
}

const ACTION = {
  read: 'Microsoft.Compute/virtualMachineScaleSets/read',
  write: 'Microsoft.Compute/virtualMachineScaleSets/write',
  upgrade: 'Microsoft.Compute/virtualMachineScaleSets/manualUpgrade/action',
  extRead: 'Microsoft.Compute/virtualMachineScaleSets/extensions/read',
  extDelete: 'Microsoft.Compute/virtualMachineScaleSets/extensions/delete',
  assign: 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action',
} as const;

async function scaleSetRoute(ctx: Ctx, m: RegExpExecArray): Promise<void> {
  const { x, state, arm } = ctx;
  const [, sub = '', rg = '', name = ''] = m;
  const scope = `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachineScaleSets/${name}`;
  const action = x.method === 'GET'
    ? (x.route.includes('extension') ? ACTION.extRead : ACTION.read)
    : x.route === 'arm.vmss.manualupgrade' ? ACTION.upgrade
    : x.route === 'arm.vmss.extension.delete' ? ACTION.extDelete
    : ACTION.write;
  if (!(await authorize(x, state, ctx.caller, action, scope))) return;
  if (!state.resourceGroup(sub, rg)) return armError(x, 404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
  const set = state.findScaleSet(sub, rg, name);
  if (!set) {
    return armError(x, 404, 'ResourceNotFound', `The Resource 'Microsoft.Compute/virtualMachineScaleSets/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
  }
  settle(arm);
  switch (x.route) {
    case 'arm.vmss.get':
      return send(x, 200, renderScaleSet(set), { etag: `"${set.etag}"`, ...readHeaders() });
    case 'arm.vmss.patch':
    case 'arm.vmss.put':
      return writeScaleSet(ctx, set, x.route === 'arm.vmss.put' ? 'replace' : 'merge');
    case 'arm.vmss.extensions.list':
      return send(x, 200, { value: set.extensions.map((e) => renderExtension(set, e)) }, readHeaders());
    case 'arm.vmss.extension.get':
    case 'arm.vmss.extension.delete':
      return extensionRoute(ctx, set, m[5] ?? '');
    case 'arm.vmss.manualupgrade':
      return manualUpgrade(ctx, set);
    default:
      return armError(x, 405, 'MethodNotAllowed', `The requested method '${x.method}' is not allowed.`);
  }
}

function parseJson(x: Exchange): { ok: true; value: Record<string, unknown> } | { ok: false } {
  try {
    const value = JSON.parse(x.body || '{}') as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return { ok: true, value: value as Record<string, unknown> };
  } catch {
    // fall through
  }
  return { ok: false };
}

function preconditionFails(x: Exchange, set: ScaleSet): Promise<void> | undefined {
  const ifMatch = x.req.headers['if-match'];
  if (ifMatch && ifMatch !== '*' && ifMatch !== `"${set.etag}"` && ifMatch !== String(set.etag)) {
    return armError(x, 412, 'PreconditionFailed', `Etag provided in if-match header ${ifMatch} does not match etag "${set.etag}" of resource.`);
  }
  const ifNoneMatch = x.req.headers['if-none-match'];
  if (ifNoneMatch === '*') {
    // UNCONFIRMED for Compute; the strictest reading: an existing resource fails the precondition.
    return armError(x, 412, 'PreconditionFailed', `The resource '${set.name}' already exists and if-none-match header '*' was provided.`);
  }
  return undefined;
}

const conflict = (x: Exchange) =>
  armError(x, 409, 'Conflict', 'The request failed due to conflict with a concurrent request. To resolve it, please refer to https://aka.ms/activitylog to get more details on the conflicting requests.');

async function writeScaleSet(ctx: Ctx, set: ScaleSet, mode: 'merge' | 'replace'): Promise<void> {
  const { x, state, arm } = ctx;
  const body = parseJson(x);
  if (!body.ok) return armError(x, 400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized.');
  const failed = preconditionFails(x, set);
  if (failed) return failed;
  if (busy(arm, set) || !['Succeeded', 'Failed'].includes(set.provisioningState)) return conflict(x);
  const change = applyIdentity(state, set, body.value['identity'], mode);
  if ('code' in change) return fail(x, change);
  for (const key of change.added) {
    if (!hasPermission(state, ctx.caller.objectId, ACTION.assign, key)) {
      return armError(x, 403, 'LinkedAuthorizationFailed',
        `The client '${ctx.caller.objectId}' with object id '${ctx.caller.objectId}' has permission to perform action '${ACTION.write}' on scope '${set.id}'; however, it does not have permission to perform action '${ACTION.assign}' on the linked scope(s) '${key}' or the linked scope(s) are invalid.`);
    }
  }
  const before: ScaleSetIdentity = structuredClone(set.identity);
  set.identity = change.identity;
  set.etag++;
  set.provisioningState = 'Updating';
  const op = startOperation(ctx, set, 'update', () => {
    for (const e of set.identity.userAssigned) {
      const uai = state.findUserAssignedIdentity(e.key);
      if (uai) Object.assign(e, { principalId: uai.principalId, clientId: uai.clientId });
    }
    set.provisioningState = 'Succeeded';
  }, () => {
    set.identity = before;
    set.provisioningState = 'Failed';
  });
  const headers: Headers = {
    etag: `"${set.etag}"`,
    'azure-asyncoperation': operationUrl(ctx, op),
    'azure-asyncnotification': 'Enabled',
    ...writeHeaders(),
    ...(arm.controls.retryAfterSeconds !== undefined ? { 'retry-after': String(arm.controls.retryAfterSeconds) } : {}),
  };
  return send(x, 200, renderScaleSet(set), headers);
}

/** 202 Accepted with both ways to follow the operation, as Compute answers POST and DELETE. */
function accepted(ctx: Ctx, op: Operation): Promise<void> {
  return send(ctx.x, 202, undefined, {
    'azure-asyncoperation': operationUrl(ctx, op),
    location: operationUrl(ctx, op, true),
    'azure-asyncnotification': 'Enabled',
    ...writeHeaders(),
  });
}

async function extensionRoute(ctx: Ctx, set: ScaleSet, extName: string): Promise<void> {
  const { x } = ctx;
  const ext = set.extensions.find((e) => e.name.toLowerCase() === extName.toLowerCase());
  if (x.method === 'GET') {
    if (!ext) return armError(x, 404, 'NotFound', `The entity was not found in this Azure location.`);
    return send(x, 200, renderExtension(set, ext), readHeaders());
  }
  if (!ext) return send(x, 204, undefined);
  if (busy(ctx.arm, set)) return conflict(x);
  ext.provisioningState = 'Deleting';
  set.etag++;
  set.provisioningState = 'Updating';
  const op = startOperation(ctx, set, 'extensionDelete', () => {
    set.extensions = set.extensions.filter((e) => e !== ext);
    set.provisioningState = 'Succeeded';
  }, () => {
    ext.provisioningState = 'Failed';
    set.provisioningState = 'Failed';
  });
  return accepted(ctx, op);
}

async function manualUpgrade(ctx: Ctx, set: ScaleSet): Promise<void> {
  const { x } = ctx;
  if (x.method !== 'POST') return armError(x, 405, 'MethodNotAllowed', `The requested method '${x.method}' is not allowed.`);
  if (busy(ctx.arm, set)) return conflict(x);
  set.etag++;
  const op = startOperation(ctx, set, 'manualupgrade', () => undefined, () => undefined);
  return accepted(ctx, op);
}

async function operationRoute(ctx: Ctx, m: RegExpExecArray): Promise<void> {
  const { x, arm } = ctx;
  settle(arm);
  const op = arm.operations.get((m[3] ?? '').toLowerCase());
  if (!op || op.subscriptionId.toLowerCase() !== (m[1] ?? '').toLowerCase()) {
    return armError(x, 404, 'NotFound', 'The entity was not found in this Azure location.');
  }
  op.polls++;
  const retry: Headers = arm.controls.retryAfterSeconds !== undefined ? { 'retry-after': String(arm.controls.retryAfterSeconds) } : {};
  const headers: Headers = { 'x-ms-ratelimit-remaining-resource': 'Microsoft.Compute/GetOperationResource;44,Microsoft.Compute/GetOperationSubscriptionMaximum;14998', ...readHeaders() };
  if (x.url.searchParams.get('monitor') === 'true') {
    // The Location (monitor) URL: 202 while running, then 200 with an empty body.
    if (!op.settled) return send(x, 202, undefined, { location: x.url.toString(), ...retry, ...headers });
    return send(x, 200, undefined, headers);
  }
  const status = !op.settled ? 'InProgress' : op.outcome;
  return send(x, 200, {
    startTime: armTime(op.startedAt),
    ...(op.settled ? { endTime: armTime(op.endsAt) } : {}),
    status,
    ...(op.settled && op.error ? { error: op.error } : {}),
    name: op.id,
  }, { ...headers, ...(op.settled ? {} : retry) });
}

// ---- user-assigned identities ------------------------------------------------------------

async function userAssignedIdentityRoute(ctx: Ctx, m: RegExpExecArray): Promise<void> {
  const { x, state } = ctx;
  const [, sub = '', rg = '', name = ''] = m;
  const scope = `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
  if (x.method !== 'GET') return armError(x, 405, 'MethodNotAllowed', `The requested method '${x.method}' is not allowed.`);
  if (!(await authorize(x, state, ctx.caller, 'Microsoft.ManagedIdentity/userAssignedIdentities/read', scope))) return;
  if (!state.resourceGroup(sub, rg)) return armError(x, 404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
  const uai = state.findUserAssignedIdentity(scope);
  if (!uai) {
    return armError(x, 404, 'ResourceNotFound', `The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
  }
  return send(x, 200, {
    location: uai.location,
    tags: {},
    id: uai.id,
    name: uai.name,
    type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
    properties: { isolationScope: 'None', tenantId: uai.tenantId, principalId: uai.principalId, clientId: uai.clientId },
  }, readHeaders());
}

// ---- role definitions and assignments -------------------------------------------------------

function renderRoleDefinition(ctx: Ctx, scope: string, guid: string) {
  const def = ctx.state.findRole(guid);
  if (!def) return undefined;
  const sub = /^\/subscriptions\/[^/]+/i.exec(scope)?.[0] ?? '';
  return {
    properties: {
      roleName: def.roleName,
      type: def.type,
      description: def.roleName,
      assignableScopes: ['/'],
      permissions: [{ actions: def.actions, notActions: def.notActions, dataActions: [], notDataActions: [] }],
    },
    id: `${sub}/providers/Microsoft.Authorization/roleDefinitions/${def.name}`,
    type: 'Microsoft.Authorization/roleDefinitions',
    name: def.name,
  };
}

async function roleDefinitionRoute(ctx: Ctx, m: RegExpExecArray): Promise<void> {
  const { x, state } = ctx;
  const scope = m[1] ?? '';
  if (m[2]) {
    const def = renderRoleDefinition(ctx, scope, m[2]);
    if (!def) return armError(x, 404, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${m[2]}' does not exist.`);
    return send(x, 200, def, readHeaders());
  }
  const filter = x.url.searchParams.get('$filter') ?? '';
  const byName = /roleName\s+eq\s+'([^']*)'/i.exec(filter)?.[1];
  const defs = state.roleDefinitions
    .filter((d) => byName === undefined || d.roleName.toLowerCase() === byName.toLowerCase())
    .map((d) => renderRoleDefinition(ctx, scope, d.name));
  return send(x, 200, { value: defs }, readHeaders());
}

function renderAssignment(a: RoleAssignment) {
  return {
    properties: {
      roleDefinitionId: a.roleDefinitionId,
      principalId: a.principalId,
      principalType: a.principalType,
      scope: a.scope,
      condition: null,
      conditionVersion: null,
      createdOn: a.createdOn,
      updatedOn: a.createdOn,
      createdBy: a.createdBy,
      updatedBy: a.createdBy,
      delegatedManagedIdentityResourceId: null,
      description: null,
    },
    id: a.id,
    type: 'Microsoft.Authorization/roleAssignments',
    name: a.name,
  };
}

async function roleAssignmentRoute(ctx: Ctx, m: RegExpExecArray): Promise<void> {
  const { x, state } = ctx;
  const scope = m[1] ?? '';
  const name = m[2];
  if (!name) {
    const filter = x.url.searchParams.get('$filter') ?? '';
    const principal = /principalId\s+eq\s+'([^']*)'/i.exec(filter)?.[1]?.toLowerCase();
    const atScope = /atScope\(\)/i.test(filter);
    const list = state.roleAssignments.filter((a) =>
      (atScope ? scopeContains(a.scope, scope) : scopeContains(a.scope, scope) || scopeContains(scope, a.scope))
      && (principal === undefined || a.principalId.toLowerCase() === principal));
    return send(x, 200, { value: list.map(renderAssignment) }, readHeaders());
  }
  const existing = state.roleAssignments.find((a) => a.name.toLowerCase() === name.toLowerCase() && a.scope.toLowerCase() === scope.toLowerCase());
  if (x.method === 'GET') {
    if (!existing) return armError(x, 404, 'RoleAssignmentNotFound', `The role assignment '${name}' is not found.`);
    return send(x, 200, renderAssignment(existing), readHeaders());
  }
  if (x.method === 'DELETE') {
    if (!(await authorize(x, state, ctx.caller, 'Microsoft.Authorization/roleAssignments/delete', scope))) return;
    if (!existing) return send(x, 204, undefined);
    state.roleAssignments.splice(state.roleAssignments.indexOf(existing), 1);
    return send(x, 200, renderAssignment(existing), writeHeaders());
  }
  if (x.method !== 'PUT') return armError(x, 405, 'MethodNotAllowed', `The requested method '${x.method}' is not allowed.`);
  return createAssignment(ctx, scope, name, existing);
}

async function createAssignment(ctx: Ctx, scope: string, name: string, existing: RoleAssignment | undefined): Promise<void> {
  const { x, state, arm } = ctx;
  if (!(await authorize(x, state, ctx.caller, 'Microsoft.Authorization/roleAssignments/write', scope))) return;
  const body = parseJson(x);
  const props = (body.ok ? body.value['properties'] : undefined) as Record<string, unknown> | undefined;
  const roleDefinitionId = String(props?.['roleDefinitionId'] ?? '');
  const principalId = String(props?.['principalId'] ?? '');
  const principalType = props?.['principalType'] as string | undefined;
  if (!props || !roleDefinitionId || !principalId) {
    return armError(x, 400, 'InvalidRoleAssignmentRequest', 'The request must contain properties.roleDefinitionId and properties.principalId.');
  }
  const guid = roleDefinitionId.split('/').pop() ?? '';
  if (!state.findRole(guid)) return armError(x, 400, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${guid}' does not exist.`);
  const principal = state.principals.get(principalId.toLowerCase());
  const young = principal !== undefined && Date.now() - principal.createdAt < arm.controls.directoryLagMs;
  const lookup = principalType === undefined || arm.controls.lagIgnoresPrincipalType;
  if ((lookup && (!principal || young)) || (!lookup && !principal && principalType !== 'ServicePrincipal')) {
    const tenant = ctx.caller.tenantId;
    return armError(x, 400, 'PrincipalNotFound',
      `Principal ${principalId.replace(/-/g, '')} does not exist in the directory ${tenant}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype`);
  }
  const same = (a: RoleAssignment) => a.scope.toLowerCase() === scope.toLowerCase()
    && a.principalId.toLowerCase() === principalId.toLowerCase()
    && (a.roleDefinitionId.split('/').pop() ?? '').toLowerCase() === guid.toLowerCase();
  if (existing) {
    if (!same(existing)) return armError(x, 409, 'RoleAssignmentUpdateNotPermitted', 'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.');
    return send(x, 201, renderAssignment(existing), writeHeaders());
  }
  if (state.roleAssignments.some(same)) return armError(x, 409, 'RoleAssignmentExists', 'The role assignment already exists.');
  const assignment: RoleAssignment = {
    id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
    name,
    scope,
    roleDefinitionId,
    principalId,
    principalType: principalType ?? 'ServicePrincipal',
    createdOn: new Date().toISOString(),
    createdBy: ctx.caller.objectId,
  };
  state.roleAssignments.push(assignment);
  return send(x, 201, renderAssignment(assignment), writeHeaders());
}
