// Microsoft.Authorization/permissions: what the caller may do at a subscription, resource group
// or resource, read from its role assignments (reference §16). One element per role assignment
// that covers the scope, parents included, never merged: a notAction of one element does not
// take away what another grants.
import { grantsAt } from './arm-auth.ts';
import { roleAllows } from './roles.ts';
import { list, readHeaders, type ArmContext } from './arm-common.ts';
import { armError, type Exchange } from './http.ts';
import { path, type Params, type Route } from './router.ts';

const READ = 'Microsoft.Authorization/permissions/read';

type Place = { kind: 'subscription' } | { kind: 'resourceGroup'; rg: string } | { kind: 'resource'; rg: string };

/** What the part of the scope after `/subscriptions/{sub}` names; undefined when it is no scope. */
function placeOf(rest: string): Place | undefined {
  if (rest === '') return { kind: 'subscription' };
  const group = /^\/resourceGroups\/([^/]+)$/i.exec(rest);
  if (group) return { kind: 'resourceGroup', rg: group[1] ?? '' };
  // A resource, nested or not: providers/{namespace} then type/name pairs.
  const resource = /^\/resourceGroups\/([^/]+)\/providers\/[^/]+(\/[^/]+\/[^/]+)+$/i.exec(rest);
  return resource ? { kind: 'resource', rg: resource[1] ?? '' } : undefined;
}

async function permissions(x: Exchange, p: Params, ctx: ArmContext): Promise<void> {
  if (x.method !== 'GET') return armError(x, 405, 'MethodNotAllowed', `The requested method '${x.method}' is not allowed.`);
  // ARM routes an empty parentResourcePath (`Microsoft.Web//sites/x`), as the .NET SDK sends it.
  const rest = (p['rest'] ?? '').replace(/\/{2,}/g, '/').replace(/\/$/, '');
  const scope = `/subscriptions/${p['sub'] ?? ''}${rest}`;
  const place = placeOf(rest);
  if (!place) return armError(x, 400, 'InvalidScope', `The scope '${scope}' is not valid.`);
  const grants = grantsAt(ctx.state, ctx.caller.objectId, scope);
  if (!grants.some((def) => roleAllows(def, READ))) {
    return armError(x, 403, 'AuthorizationFailed',
      `The client '${ctx.caller.objectId}' with object id '${ctx.caller.objectId}' does not have authorization to perform action '${READ}' over scope '${scope}/providers/Microsoft.Authorization' or the scope is invalid. If access was recently granted, please refresh your credentials.`);
  }
  // A missing resource group answers with what is inherited (§16.2.3); a resource under one is a
  // 404 from the gateway (§16.2.4). A missing resource in an existing group: UNCONFIRMED; the
  // emulator answers as for the group, so a 200 here proves nothing about existence either.
  if (place.kind === 'resource' && !ctx.state.resourceGroup(p['sub'] ?? '', place.rg)) {
    return armError(x, 404, 'ResourceGroupNotFound', `Resource group '${place.rg}' could not be found.`, {}, { 'x-ms-failure-cause': 'gateway' });
  }
  // Data actions arrived with api-version 2018-01-01-preview (§16.1.4); older answers lack them.
  const withData = ctx.apiVersion >= '2018-01-01';
  const elements = grants.map((def) => ({
    actions: def.actions,
    notActions: def.notActions,
    ...(withData ? { dataActions: def.dataActions ?? [], notDataActions: def.notDataActions ?? [] } : {}),
  }));
  return list(x, elements, readHeaders(), ctx.pageSize);
}

export const permissionRoutes: Route<ArmContext>[] = [
  { name: 'arm.permissions.{method}', pattern: path('/subscriptions/{sub}{rest*}/providers/Microsoft.Authorization/permissions'), handler: permissions },
];
