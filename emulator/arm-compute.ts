// Microsoft.Compute: scale sets (GET, PATCH merge, PUT replace, list with paging), their
// extensions, manualupgrade and the operation status URLs.
import { authorize, hasPermission, readsInside as readsInsideScope } from './arm-auth.ts';
import { applyIdentity, linkedIdentities, renderIdentity } from './arm-identity.ts';
import { conflict, fail, list, preconditionFails, readHeaders, writeHeaders, type ArmContext } from './arm-common.ts';
import { armError, parseJsonObject, send, type Exchange, type Headers } from './http.ts';
import { path, type Params, type Route } from './router.ts';
import type { ScaleSet, ScaleSetIdentity } from './state.ts';

const VMSS = '/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachineScaleSets/{name}';

const ACTION = {
  read: 'Microsoft.Compute/virtualMachineScaleSets/read',
  write: 'Microsoft.Compute/virtualMachineScaleSets/write',
  upgrade: 'Microsoft.Compute/virtualMachineScaleSets/manualUpgrade/action',
  extRead: 'Microsoft.Compute/virtualMachineScaleSets/extensions/read',
  extDelete: 'Microsoft.Compute/virtualMachineScaleSets/extensions/delete',
  assign: 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action',
} as const;

/** Properties the emulator computes; a PUT or PATCH cannot set them. */
const READ_ONLY = ['provisioningState', 'uniqueId', 'timeCreated', 'orchestrationMode'];

export function renderScaleSet(set: ScaleSet): Record<string, unknown> {
  const identity = renderIdentity(set.identity);
  const profile = (set.properties['virtualMachineProfile'] ?? {}) as Record<string, unknown>;
  return {
    name: set.name,
    id: set.id,
    type: 'Microsoft.Compute/virtualMachineScaleSets',
    location: set.location,
    tags: set.tags,
    ...(identity ? { identity } : {}),
    sku: set.sku,
    etag: `"${set.etag}"`,
    properties: {
      ...set.properties,
      orchestrationMode: set.orchestrationMode,
      upgradePolicy: { ...((set.properties['upgradePolicy'] ?? {}) as object), mode: set.upgradePolicy },
      virtualMachineProfile: { ...profile, extensionProfile: { extensions: set.extensions.map((e) => renderExtension(set, e)) } },
      provisioningState: set.provisioningState,
      uniqueId: set.uniqueId,
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

function actionFor(route: string, method: string): string {
  if (method === 'GET') return route.includes('extension') ? ACTION.extRead : ACTION.read;
  if (route === 'arm.vmss.manualupgrade') return ACTION.upgrade;
  if (route === 'arm.vmss.extension.delete') return ACTION.extDelete;
  return ACTION.write;
}

/** Authorizes, then finds the scale set (404s in ARM's words). */
async function scaleSetOf(x: Exchange, p: Params, ctx: ArmContext): Promise<ScaleSet | undefined> {
  const scope = `/subscriptions/${p['sub']}/resourceGroups/${p['rg']}/providers/Microsoft.Compute/virtualMachineScaleSets/${p['name']}`;
  if (!(await authorize(x, ctx.state, ctx.caller, actionFor(x.route, x.method), scope))) return undefined;
  if (!ctx.state.resourceGroup(p['sub'] ?? '', p['rg'] ?? '')) {
    await armError(x, 404, 'ResourceGroupNotFound', `Resource group '${p['rg']}' could not be found.`);
    return undefined;
  }
  const set = ctx.state.findScaleSet(p['sub'] ?? '', p['rg'] ?? '', p['name'] ?? '');
  if (!set) {
    await armError(x, 404, 'ResourceNotFound', `The Resource 'Microsoft.Compute/virtualMachineScaleSets/${p['name']}' under resource group '${p['rg']}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
    return undefined;
  }
  ctx.compute.settle();
  return set;
}

async function scaleSet(x: Exchange, p: Params, ctx: ArmContext): Promise<void> {
  const set = await scaleSetOf(x, p, ctx);
  if (!set) return;
  if (x.method === 'GET') return send(x, 200, renderScaleSet(set), { etag: `"${set.etag}"`, ...readHeaders() });
  if (x.method === 'PATCH' || x.method === 'PUT') return writeScaleSet(x, ctx, set, x.method === 'PUT' ? 'replace' : 'merge');
  return armError(x, 405, 'MethodNotAllowed', `The requested method '${x.method}' is not allowed.`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON merge patch (RFC 7396), which is how ARM applies PATCH to plain properties. */
function mergePatch(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out = structuredClone(target);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (isObject(v) && isObject(out[k])) out[k] = mergePatch(out[k] as Record<string, unknown>, v);
    else out[k] = structuredClone(v);
  }
  return out;
}

function stringMap(v: unknown): Record<string, string> | undefined {
  if (!isObject(v)) return undefined;
  return Object.fromEntries(Object.entries(v).map(([k, val]) => [k, String(val)]));
}

/** The non-identity parts of a write: PUT replaces them with the body, PATCH merges. */
function applyDocument(set: ScaleSet, body: Record<string, unknown>, mode: 'merge' | 'replace'): void {
  const props = isObject(body['properties']) ? structuredClone(body['properties']) : {};
  for (const k of READ_ONLY) delete props[k];
  const profile = isObject(props['virtualMachineProfile']) ? props['virtualMachineProfile'] : undefined;
  const extensions = profile && isObject(profile['extensionProfile']) ? profile['extensionProfile']['extensions'] : undefined;
  if (profile) delete profile['extensionProfile'];
  const mode_ = isObject(props['upgradePolicy']) ? props['upgradePolicy']['mode'] : undefined;
  if (typeof mode_ === 'string') set.upgradePolicy = mode_;
  if (mode === 'replace') {
    set.tags = stringMap(body['tags']) ?? {};
    if (isObject(body['sku'])) set.sku = structuredClone(body['sku']);
    set.properties = props;
    if (Array.isArray(extensions)) set.extensions = extensions.filter(isObject).map(readExtension);
  } else {
    if (body['tags'] !== undefined) set.tags = stringMap(body['tags']) ?? {};
    if (isObject(body['sku'])) set.sku = mergePatch(set.sku, body['sku']);
    set.properties = mergePatch(set.properties, props);
  }
}

function readExtension(e: Record<string, unknown>): ScaleSet['extensions'][number] {
  const p = isObject(e['properties']) ? e['properties'] : {};
  return {
    name: String(e['name'] ?? ''),
    publisher: String(p['publisher'] ?? ''),
    type: String(p['type'] ?? ''),
    typeHandlerVersion: String(p['typeHandlerVersion'] ?? '1.0'),
    ...(isObject(p['settings']) ? { settings: p['settings'] } : {}),
    provisioningState: 'Succeeded',
  };
}

async function writeScaleSet(x: Exchange, ctx: ArmContext, set: ScaleSet, mode: 'merge' | 'replace'): Promise<void> {
  const { state, compute } = ctx;
  const body = parseJsonObject(x.body);
  if (!body) return armError(x, 400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized.');
  const denied = linkedIdentities(set, body['identity']).filter((key) => !hasPermission(state, ctx.caller.objectId, ACTION.assign, key));
  if (denied.length > 0) return linkedAuthorizationFailed(x, ctx, set, denied);
  const failed = preconditionFails(x, set.name, set.etag);
  if (failed) return failed;
  if (compute.busy(set.id) || !['Succeeded', 'Failed'].includes(set.provisioningState)) return conflict(x);
  // UNCONFIRMED: a PUT without an identity block keeps the identity (Compute's documented way to drop it is type None).
  const change = applyIdentity(state, set, body['identity'], mode);
  if ('code' in change) return fail(x, change);
  const before: { identity: ScaleSetIdentity; document: Pick<ScaleSet, 'tags' | 'sku' | 'properties' | 'extensions' | 'upgradePolicy'> } = structuredClone({
    identity: set.identity, document: { tags: set.tags, sku: set.sku, properties: set.properties, extensions: set.extensions, upgradePolicy: set.upgradePolicy },
  });
  applyDocument(set, body, mode);
  set.identity = change.identity;
  set.etag++;
  set.provisioningState = 'Updating';
  const op = compute.start({
    subscriptionId: set.subscriptionId,
    location: set.location,
    resourceId: set.id,
    kind: 'update',
    onSuccess: () => {
      for (const e of set.identity.userAssigned) {
        const uai = state.findUserAssignedIdentity(e.key);
        if (uai) Object.assign(e, { principalId: uai.principalId, clientId: uai.clientId });
      }
      set.provisioningState = 'Succeeded';
    },
    onFailure: () => {
      Object.assign(set, before.document);
      set.identity = before.identity;
      set.provisioningState = 'Failed';
    },
  });
  const headers: Headers = {
    etag: `"${set.etag}"`,
    'azure-asyncoperation': compute.url(x, op, ctx.apiVersion),
    'azure-asyncnotification': 'Enabled',
    ...writeHeaders(),
    ...compute.retryAfter(),
  };
  return send(x, 200, renderScaleSet(set), headers);
}

/** 403 from ARM's front door, naming every linked identity refused, comma-joined as ARM does (reference 15.6). */
function linkedAuthorizationFailed(x: Exchange, ctx: ArmContext, set: ScaleSet, denied: string[]): Promise<void> {
  const who = ctx.caller.objectId;
  return armError(x, 403, 'LinkedAuthorizationFailed',
    `The client '${who}' with object id '${who}' has permission to perform action '${ACTION.write}' on scope '${set.id}'; however, it does not have permission to perform action '${ACTION.assign}' on the linked scope(s) '${denied.join(',')}' or the linked scope(s) are invalid.`);
}

async function extensions(x: Exchange, p: Params, ctx: ArmContext): Promise<void> {
  const set = await scaleSetOf(x, p, ctx);
  if (!set) return;
  return send(x, 200, { value: set.extensions.map((e) => renderExtension(set, e)) }, readHeaders());
}

async function extension(x: Exchange, p: Params, ctx: ArmContext): Promise<void> {
  const set = await scaleSetOf(x, p, ctx);
  if (!set) return;
  const ext = set.extensions.find((e) => e.name.toLowerCase() === (p['ext'] ?? '').toLowerCase());
  if (x.method === 'GET') {
    if (!ext) return armError(x, 404, 'NotFound', 'The entity was not found in this Azure location.');
    return send(x, 200, renderExtension(set, ext), readHeaders());
  }
  if (x.method !== 'DELETE') return armError(x, 405, 'MethodNotAllowed', `The requested method '${x.method}' is not allowed.`);
  if (!ext) return send(x, 204, undefined);
  if (ctx.compute.busy(set.id)) return conflict(x);
  ext.provisioningState = 'Deleting';
  set.etag++;
  set.provisioningState = 'Updating';
  const op = ctx.compute.start({
    subscriptionId: set.subscriptionId, location: set.location, resourceId: set.id, kind: 'extensionDelete',
    onSuccess: () => {
      set.extensions = set.extensions.filter((e) => e !== ext);
      set.provisioningState = 'Succeeded';
    },
    onFailure: () => {
      ext.provisioningState = 'Failed';
      set.provisioningState = 'Failed';
    },
  });
  return ctx.compute.accepted(x, op, ctx.apiVersion, writeHeaders());
}

async function manualUpgrade(x: Exchange, p: Params, ctx: ArmContext): Promise<void> {
  const set = await scaleSetOf(x, p, ctx);
  if (!set) return;
  if (x.method !== 'POST') return armError(x, 405, 'MethodNotAllowed', `The requested method '${x.method}' is not allowed.`);
  if (ctx.compute.busy(set.id)) return conflict(x);
  set.etag++;
  const op = ctx.compute.start({ subscriptionId: set.subscriptionId, location: set.location, resourceId: set.id, kind: 'manualupgrade', onSuccess: () => undefined, onFailure: () => undefined });
  return ctx.compute.accepted(x, op, ctx.apiVersion, writeHeaders());
}

async function operation(x: Exchange, p: Params, ctx: ArmContext): Promise<void> {
  const answered = ctx.compute.status(x, p['sub'] ?? '', p['op'] ?? '', readHeaders());
  return answered ?? armError(x, 404, 'NotFound', 'The entity was not found in this Azure location.');
}

async function listScaleSets(x: Exchange, p: Params, ctx: ArmContext): Promise<void> {
  const scope = p['rg'] ? `/subscriptions/${p['sub']}/resourceGroups/${p['rg']}` : `/subscriptions/${p['sub']}`;
  if (!canRead(ctx, scope) && !readsInside(ctx, scope) && !(await authorize(x, ctx.state, ctx.caller, ACTION.read, scope))) return;
  if (p['rg'] && !ctx.state.resourceGroup(p['sub'] ?? '', p['rg'])) return armError(x, 404, 'ResourceGroupNotFound', `Resource group '${p['rg']}' could not be found.`);
  ctx.compute.settle();
  // An index per subscription and resource group: a page costs its own items, not the fleet.
  const sets = ctx.state.scaleSetsIn(p['sub'] ?? '', p['rg']);
  const all = canRead(ctx, scope) ? sets : sets.filter((s) => hasPermission(ctx.state, ctx.caller.objectId, ACTION.read, s.id));
  return list(x, all, readHeaders(), ctx.pageSize, {}, renderScaleSet);
}

/**
 * Read at the listed scope lists everything; a caller with read only on some resource groups or
 * scale sets inside it gets those (ARM filters collection reads); no read anywhere inside it is
 * 403 `AuthorizationFailed` naming the action and the listed scope (reference 14.3).
 */
function canRead(ctx: ArmContext, scope: string): boolean {
  return hasPermission(ctx.state, ctx.caller.objectId, ACTION.read, scope);
}

export const computeRoutes: Route<ArmContext>[] = [
  { name: 'arm.vmss.manualupgrade', pattern: path(`${VMSS}/manualupgrade`), handler: manualUpgrade },
  { name: 'arm.vmss.extensions.list', pattern: path(`${VMSS}/extensions`), handler: extensions },
  { name: 'arm.vmss.extension.{method}', pattern: path(`${VMSS}/extensions/{ext}`), handler: extension },
  { name: 'arm.vmss.{method}', pattern: path(VMSS), handler: scaleSet },
  { name: 'arm.vmss.list', pattern: path('/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/virtualMachineScaleSets'), handler: listScaleSets },
  { name: 'arm.vmss.list', pattern: path('/subscriptions/{sub}/providers/Microsoft.Compute/virtualMachineScaleSets'), handler: listScaleSets },
  { name: 'arm.operation', pattern: path('/subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/operations/{op}'), handler: operation },
];

function readsInside(ctx: ArmContext, scope: string): boolean {
  return readsInsideScope(ctx.state, ctx.caller.objectId, ACTION.read, scope);
}
