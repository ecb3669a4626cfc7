// Microsoft.Authorization: role definitions and role assignments, with ARM's strict `$filter`
// grammar and scopes that must exist.
import { authorize } from './arm-auth.ts';
import { list, readHeaders, writeHeaders, type ArmContext } from './arm-common.ts';
import { armError, parseJsonObject, send, type Exchange } from './http.ts';
import { parseFilter, type Clause } from './odata.ts';
import { scopeContains } from './roles.ts';
import { path, type Params, type Route } from './router.ts';
import type { RoleAssignment } from './state.ts';

function renderRoleDefinition(ctx: ArmContext, scope: string, guid: string) {
  const def = ctx.state.findRole(guid);
  if (!def) return undefined;
  const sub = /^\/subscriptions\/[^/]+/i.exec(scope)?.[0] ?? '';
  return {
    properties: {
      roleName: def.roleName,
      type: def.type,
      description: def.roleName,
      assignableScopes: ['/'],
      permissions: [{ actions: def.actions, notActions: def.notActions, dataActions: def.dataActions ?? [], notDataActions: def.notDataActions ?? [] }],
    },
    id: `${sub}/providers/Microsoft.Authorization/roleDefinitions/${def.name}`,
    type: 'Microsoft.Authorization/roleDefinitions',
    name: def.name,
  };
}

const unsupported = (x: Exchange, filter: string, supported: string) =>
  armError(x, 400, 'UnsupportedQuery', `The filter '${filter}' is not supported. Supported filters are either ${supported}.`);

/** The filter's clauses when each is one the route supports; undefined after answering 400. */
async function filterOf(x: Exchange, allowed: (c: Clause) => boolean, supported: string): Promise<Clause[] | undefined> {
  const text = x.url.searchParams.get('$filter');
  if (text === null || text.trim() === '') return [];
  const clauses = parseFilter(text);
  if (!clauses || !clauses.every(allowed)) {
    await unsupported(x, text, supported);
    return undefined;
  }
  return clauses;
}

async function roleDefinition(x: Exchange, p: Params, ctx: ArmContext): Promise<void> {
  const def = renderRoleDefinition(ctx, p['scope'] ?? '', p['id'] ?? '');
  if (!def) return armError(x, 404, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${p['id']}' does not exist.`);
  return send(x, 200, def, readHeaders());
}

async function roleDefinitions(x: Exchange, p: Params, ctx: ArmContext): Promise<void> {
  const clauses = await filterOf(x, (c) => (c.kind === 'eq' && ['rolename', 'type'].includes(c.property.toLowerCase())) || (c.kind === 'call' && c.name.toLowerCase() === 'atscopeandbelow' && c.arg === undefined),
    "'roleName eq '{value}'' or 'type eq '{value}'' or 'atScopeAndBelow()'");
  if (!clauses) return;
  const eq = (prop: string) => clauses.find((c): c is Extract<Clause, { kind: 'eq' }> => c.kind === 'eq' && c.property.toLowerCase() === prop)?.value;
  const [name, type] = [eq('rolename'), eq('type')];
  const defs = ctx.state.roleDefinitions
    .filter((d) => (name === undefined || d.roleName.toLowerCase() === name.toLowerCase()) && (type === undefined || d.type.toLowerCase() === type.toLowerCase()))
    .map((d) => renderRoleDefinition(ctx, p['scope'] ?? '', d.name));
  return list(x, defs, readHeaders(), ctx.pageSize);
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

async function roleAssignments(x: Exchange, p: Params, ctx: ArmContext): Promise<void> {
  const scope = p['scope'] ?? '';
  const clauses = await filterOf(x, (c) => (c.kind === 'eq' && c.property.toLowerCase() === 'principalid')
    || (c.kind === 'call' && c.name.toLowerCase() === 'atscope' && c.arg === undefined)
    || (c.kind === 'call' && c.name.toLowerCase() === 'assignedto' && c.arg !== undefined),
  "'atScope()' or 'principalId eq '{value}'' or 'assignedTo('{value}')'");
  if (!clauses) return;
  const atScope = clauses.some((c) => c.kind === 'call' && c.name.toLowerCase() === 'atscope');
  const principals = clauses.flatMap((c) => (c.kind === 'eq' ? [c.value] : c.kind === 'call' && c.arg !== undefined ? [c.arg] : [])).map((v) => v.toLowerCase());
  const found = ctx.state.roleAssignments.filter((a) =>
    (atScope ? scopeContains(a.scope, scope) : scopeContains(a.scope, scope) || scopeContains(scope, a.scope))
    && principals.every((pid) => a.principalId.toLowerCase() === pid));
  return list(x, found.map(renderAssignment), readHeaders(), ctx.pageSize);
}

async function roleAssignment(x: Exchange, p: Params, ctx: ArmContext): Promise<void> {
  const { state } = ctx;
  const [scope, name] = [p['scope'] ?? '', p['name'] ?? ''];
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
  return createAssignment(x, ctx, scope, name, existing);
}

function principalNotFound(x: Exchange, principalId: string, tenant: string): Promise<void> {
  return armError(x, 400, 'PrincipalNotFound',
    `Principal ${principalId.replace(/-/g, '')} does not exist in the directory ${tenant}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype`);
}

async function createAssignment(x: Exchange, ctx: ArmContext, scope: string, name: string, existing: RoleAssignment | undefined): Promise<void> {
  const { state, principals: lag } = ctx;
  if (!(await authorize(x, state, ctx.caller, 'Microsoft.Authorization/roleAssignments/write', scope))) return;
  const where = state.scopeExists(scope);
  if (!where.ok) return armError(x, where.code === 'InvalidScope' ? 400 : 404, where.code, where.message);
  const props = parseJsonObject(x.body)?.['properties'] as Record<string, unknown> | undefined;
  const roleDefinitionId = String(props?.['roleDefinitionId'] ?? '');
  const principalId = String(props?.['principalId'] ?? '');
  const principalType = props?.['principalType'] as string | undefined;
  if (!props || !roleDefinitionId || !principalId) {
    return armError(x, 400, 'InvalidRoleAssignmentRequest', 'The request must contain properties.roleDefinitionId and properties.principalId.');
  }
  const guid = roleDefinitionId.split('/').pop() ?? '';
  if (!state.findRole(guid)) return armError(x, 400, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${guid}' does not exist.`);
  const principal = state.principals.get(principalId.toLowerCase());
  const young = principal !== undefined && Date.now() - principal.createdAt < lag.directoryLagMs;
  const lookup = principalType === undefined || lag.lagIgnoresPrincipalType;
  if ((lookup && (!principal || young)) || (!lookup && !principal && principalType !== 'ServicePrincipal')) {
    return principalNotFound(x, principalId, ctx.caller.tenantId);
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

export const authorizationRoutes: Route<ArmContext>[] = [
  { name: 'arm.roleDefinition.get', pattern: path('{scope*}/providers/Microsoft.Authorization/roleDefinitions/{id}'), handler: roleDefinition },
  { name: 'arm.roleDefinitions.list', pattern: path('{scope*}/providers/Microsoft.Authorization/roleDefinitions'), handler: roleDefinitions },
  { name: 'arm.roleAssignment.{method}', pattern: path('{scope*}/providers/Microsoft.Authorization/roleAssignments/{name}'), handler: roleAssignment },
  { name: 'arm.roleAssignments.list', pattern: path('{scope*}/providers/Microsoft.Authorization/roleAssignments'), handler: roleAssignments },
];
