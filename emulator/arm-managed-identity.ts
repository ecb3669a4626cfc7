// Microsoft.ManagedIdentity: user-assigned identities (GET, PUT with replace semantics, lists).
import { authorize } from './arm-auth.ts';
import { list, readHeaders, writeHeaders, type ArmContext } from './arm-common.ts';
import { armError, parseJsonObject, send, type Exchange } from './http.ts';
import { path, type Params, type Route } from './router.ts';
import type { UserAssignedIdentity } from './state.ts';

const UAI = '/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}';

function render(uai: UserAssignedIdentity) {
  return {
    location: uai.location,
    tags: uai.tags,
    id: uai.id,
    name: uai.name,
    type: 'Microsoft.ManagedIdentity/userAssignedIdentities',
    properties: { isolationScope: 'None', tenantId: uai.tenantId, principalId: uai.principalId, clientId: uai.clientId },
  };
}

async function identity(x: Exchange, p: Params, ctx: ArmContext): Promise<void> {
  const { state } = ctx;
  const [sub, rg, name] = [p['sub'] ?? '', p['rg'] ?? '', p['name'] ?? ''];
  const scope = `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
  if (x.method !== 'GET' && x.method !== 'PUT' && x.method !== 'DELETE') return armError(x, 405, 'MethodNotAllowed', `The requested method '${x.method}' is not allowed.`);
  const action = x.method === 'GET' ? 'read' : x.method === 'DELETE' ? 'delete' : 'write';
  if (!(await authorize(x, state, ctx.caller, `Microsoft.ManagedIdentity/userAssignedIdentities/${action}`, scope))) return;
  if (!state.resourceGroup(sub, rg)) return armError(x, 404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);
  const existing = state.findUserAssignedIdentity(scope);
  if (x.method === 'PUT') return put(x, ctx, { sub, rg, name }, existing);
  if (x.method === 'DELETE') {
    // ARM's DELETE: 200 when something was deleted, 204 when there was nothing. Scale sets that
    // reference the identity keep the reference (reference 14.6).
    if (!existing) return send(x, 204, undefined, writeHeaders());
    state.deleteUserAssignedIdentity(existing.id);
    return send(x, 200, undefined, writeHeaders());
  }
  if (!existing) {
    return armError(x, 404, 'ResourceNotFound', `The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);
  }
  return send(x, 200, render(existing), readHeaders());
}

/** PUT replaces what a client may set (location on create, tags); the principal stays. */
function put(x: Exchange, ctx: ArmContext, at: { sub: string; rg: string; name: string }, existing: UserAssignedIdentity | undefined): Promise<void> {
  const body = parseJsonObject(x.body);
  if (!body || typeof body['location'] !== 'string') return armError(x, 400, 'InvalidRequestContent', 'The request content was invalid and could not be deserialized.');
  const tags = (body['tags'] && typeof body['tags'] === 'object' ? body['tags'] : {}) as Record<string, string>;
  if (existing) {
    if (existing.location.toLowerCase() !== body['location'].toLowerCase()) {
      return armError(x, 400, 'LocationNotAvailableForResourceType', `The resource '${at.name}' already exists in location '${existing.location}'; a resource cannot change location.`);
    }
    existing.tags = { ...tags };
    return send(x, 200, render(existing), writeHeaders());
  }
  const created = ctx.state.addUserAssignedIdentity({ subscriptionId: at.sub, resourceGroup: at.rg, name: at.name, location: body['location'] });
  created.tags = { ...tags };
  return send(x, 201, render(created), writeHeaders());
}

async function listIdentities(x: Exchange, p: Params, ctx: ArmContext): Promise<void> {
  const scope = p['rg'] ? `/subscriptions/${p['sub']}/resourceGroups/${p['rg']}` : `/subscriptions/${p['sub']}`;
  if (!(await authorize(x, ctx.state, ctx.caller, 'Microsoft.ManagedIdentity/userAssignedIdentities/read', scope))) return;
  if (p['rg'] && !ctx.state.resourceGroup(p['sub'] ?? '', p['rg'])) return armError(x, 404, 'ResourceGroupNotFound', `Resource group '${p['rg']}' could not be found.`);
  const items = [...ctx.state.userAssignedIdentities.values()].filter((u) => u.subscriptionId.toLowerCase() === (p['sub'] ?? '').toLowerCase()
    && (!p['rg'] || u.resourceGroup.toLowerCase() === p['rg'].toLowerCase()));
  return list(x, items.map(render), readHeaders(), ctx.pageSize);
}

export const managedIdentityRoutes: Route<ArmContext>[] = [
  { name: 'arm.uai.{method}', pattern: path(UAI), handler: identity },
  { name: 'arm.uai.list', pattern: path('/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities'), handler: listIdentities },
  { name: 'arm.uai.list', pattern: path('/subscriptions/{sub}/providers/Microsoft.ManagedIdentity/userAssignedIdentities'), handler: listIdentities },
];
