// Microsoft.Resources: subscriptions, tenants and resource groups, as `az login` and
// `az group …` read them.
import { authorize, hasPermission, readsInside } from './arm-auth.ts';
import { list, readHeaders, type ArmContext } from './arm-common.ts';
import { armError, send, type Exchange } from './http.ts';
import { scopeContains } from './roles.ts';
import { parseFilter } from './odata.ts';
import { path, type Params, type Route } from './router.ts';
import type { Subscription } from './state.ts';

/** A subscription shows up for a caller with any role assignment on it, above it or inside it. */
function visible(ctx: ArmContext, sub: Subscription): boolean {
  if (sub.tenantId.toLowerCase() !== ctx.caller.tenantId.toLowerCase()) return false;
  const scope = `/subscriptions/${sub.id}`;
  return ctx.state.roleAssignments.some((a) => a.principalId.toLowerCase() === ctx.caller.objectId.toLowerCase()
    && (scopeContains(a.scope, scope) || scopeContains(scope, a.scope)));
}

function renderSubscription(sub: Subscription) {
  return {
    id: `/subscriptions/${sub.id}`,
    authorizationSource: 'RoleBased',
    managedByTenants: [],
    subscriptionId: sub.id,
    tenantId: sub.tenantId,
    displayName: sub.displayName,
    state: 'Enabled',
    subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'PayAsYouGo_2014-09-01', spendingLimit: 'Off' },
  };
}

async function subscriptions(x: Exchange, _p: Params, ctx: ArmContext): Promise<void> {
  const subs = [...ctx.state.subscriptions.values()].filter((s) => visible(ctx, s));
  return list(x, subs.map(renderSubscription), readHeaders(), ctx.pageSize, { count: { type: 'Total', value: subs.length } });
}

async function subscription(x: Exchange, p: Params, ctx: ArmContext): Promise<void> {
  const sub = ctx.state.subscriptions.get((p['sub'] ?? '').toLowerCase());
  if (!sub || !visible(ctx, sub)) return armError(x, 404, 'SubscriptionNotFound', `The subscription '${p['sub']}' could not be found.`);
  return send(x, 200, renderSubscription(sub), readHeaders());
}

async function tenants(x: Exchange, _p: Params, ctx: ArmContext): Promise<void> {
  const items = ctx.state.tenantsOf(ctx.caller.tenantId).map((t) => ({
    id: `/tenants/${t.id}`,
    tenantId: t.id,
    countryCode: 'NL',
    displayName: 'Emulated Directory',
    domains: ['emulated.onmicrosoft.com'],
    tenantCategory: 'Home',
    defaultDomain: 'emulated.onmicrosoft.com',
    tenantType: 'AAD',
  }));
  return list(x, items, readHeaders(), ctx.pageSize);
}

const RG_READ = 'Microsoft.Resources/subscriptions/resourceGroups/read';

function renderGroup(subId: string, g: { name: string; location: string }) {
  return { id: `/subscriptions/${subId}/resourceGroups/${g.name}`, name: g.name, type: 'Microsoft.Resources/resourceGroups', location: g.location, properties: { provisioningState: 'Succeeded' } };
}

async function resourceGroup(x: Exchange, p: Params, ctx: ArmContext): Promise<void> {
  if (x.method !== 'GET' && x.method !== 'HEAD') return armError(x, 405, 'MethodNotAllowed', `The requested method '${x.method}' is not allowed.`);
  const scope = `/subscriptions/${p['sub']}/resourceGroups/${p['rg']}`;
  if (!(await authorize(x, ctx.state, ctx.caller, RG_READ, scope))) return;
  const g = ctx.state.resourceGroup(p['sub'] ?? '', p['rg'] ?? '');
  if (!g) return armError(x, 404, 'ResourceGroupNotFound', `Resource group '${p['rg']}' could not be found.`);
  return send(x, 200, renderGroup(p['sub'] ?? '', g), readHeaders());
}

async function resourceGroups(x: Exchange, p: Params, ctx: ArmContext): Promise<void> {
  const sub = ctx.state.subscriptions.get((p['sub'] ?? '').toLowerCase());
  const scope = `/subscriptions/${p['sub']}`;
  // A subscription the caller can read nothing in: 403 naming the action and scope (reference 14.3).
  if (!hasPermission(ctx.state, ctx.caller.objectId, RG_READ, scope) && !readsInside(ctx.state, ctx.caller.objectId, RG_READ, scope)
    && !(await authorize(x, ctx.state, ctx.caller, RG_READ, scope))) return;
  const groups = [...(sub?.resourceGroups.values() ?? [])]
    .filter((g) => hasPermission(ctx.state, ctx.caller.objectId, RG_READ, `/subscriptions/${p['sub']}/resourceGroups/${g.name}`));
  return list(x, groups.map((g) => renderGroup(sub?.id ?? '', g)), readHeaders(), ctx.pageSize);
}

const RESOURCES_READ = 'Microsoft.Resources/subscriptions/resourceGroups/resources/read';

/** Every resource the emulator holds in a resource group, as the generic resources list shows them. */
function resourcesIn(ctx: ArmContext, sub: string, rg: string): { id: string; name: string; type: string; location: string }[] {
  const prefix = `/subscriptions/${sub}/resourcegroups/${rg}/providers/`.toLowerCase();
  const ids = [...ctx.state.scaleSets.values(), ...ctx.state.userAssignedIdentities.values(), ...ctx.state.resources.values()]
    .map((r) => r.id).filter((id) => id.toLowerCase().startsWith(prefix));
  return ids.map((id) => {
    const parts = id.split('/');
    return { id, name: parts[8] ?? '', type: `${parts[6] ?? ''}/${parts[7] ?? ''}`, location: 'westeurope' };
  });
}

/** Resources - List By Resource Group, with the `$filter` on name and resourceType (eq, joined by and). */
async function groupResources(x: Exchange, p: Params, ctx: ArmContext): Promise<void> {
  const scope = `/subscriptions/${p['sub']}/resourceGroups/${p['rg']}`;
  if (!(await authorize(x, ctx.state, ctx.caller, RESOURCES_READ, scope))) return;
  if (!ctx.state.resourceGroup(p['sub'] ?? '', p['rg'] ?? '')) return armError(x, 404, 'ResourceGroupNotFound', `Resource group '${p['rg']}' could not be found.`);
  const text = x.url.searchParams.get('$filter');
  const clauses = text ? parseFilter(text) : [];
  if (!clauses || clauses.some((c) => c.kind !== 'eq' || !['name', 'resourcetype'].includes(c.property.toLowerCase()))) {
    return armError(x, 400, 'InvalidFilterInQueryString', `Invalid $filter '${text ?? ''}' specified in the query string.`);
  }
  const wanted = (r: { name: string; type: string }) => clauses.every((c) => c.kind === 'eq' && (c.property.toLowerCase() === 'name' ? r.name : r.type).toLowerCase() === c.value.toLowerCase());
  return list(x, resourcesIn(ctx, p['sub'] ?? '', p['rg'] ?? '').filter(wanted), readHeaders(), ctx.pageSize);
}

export const resourceRoutes: Route<ArmContext>[] = [
  { name: 'arm.resources.list', pattern: path('/subscriptions/{sub}/resourceGroups/{rg}/resources'), handler: groupResources },
  { name: 'arm.subscriptions.list', pattern: path('/subscriptions'), handler: subscriptions },
  { name: 'arm.subscription.get', pattern: path('/subscriptions/{sub}'), handler: subscription },
  { name: 'arm.tenants.list', pattern: path('/tenants'), handler: tenants },
  { name: 'arm.resourceGroups.list', pattern: path('/subscriptions/{sub}/resourceGroups'), handler: resourceGroups },
  { name: 'arm.resourceGroup.{method}', pattern: path('/subscriptions/{sub}/resourceGroups/{rg}'), handler: resourceGroup },
];
