// Azure Resource Manager's front door: one route table over the providers, then api-version,
// the bearer token (for the audience of the cloud that was reached) and the subscription,
// before the provider's handler runs.
import { authenticate } from './arm-auth.ts';
import { authorizationRoutes } from './arm-authorization.ts';
import type { ArmContext, PrincipalSettings } from './arm-common.ts';
import { computeRoutes } from './arm-compute.ts';
import { managedIdentityRoutes } from './arm-managed-identity.ts';
import type { OperationEngine } from './arm-operations.ts';
import { permissionRoutes } from './arm-permissions.ts';
import { resourceRoutes } from './arm-resources.ts';
import { metadataDocument, type CloudProfile } from './clouds.ts';
import type { Entra } from './entra.ts';
import { armError, send, type Exchange } from './http.ts';
import { armTime } from './arm-operations.ts';
import { computePolicies, type Limits, type Refusal } from './limits.ts';
import { Router, type Match } from './router.ts';
import type { State } from './state.ts';

export interface Arm {
  state: State;
  entra: Entra;
  compute: OperationEngine;
  principals: PrincipalSettings;
  pageSize: () => number;
  limits: Limits;
}

const router = new Router<ArmContext>([...resourceRoutes, ...computeRoutes, ...managedIdentityRoutes, ...authorizationRoutes, ...permissionRoutes]);

export type ArmMatch = Match<ArmContext> | { name: 'arm.metadata' } | { name: 'arm.unknown' };

export function matchArm(method: string, path: string): ArmMatch | undefined {
  if (/^\/metadata\/endpoints\/?$/i.test(path)) return { name: 'arm.metadata' };
  const m = router.match(method, path);
  if (m) return m;
  if (/^\/(subscriptions|providers|tenants)(\/|$)/i.test(path)) return { name: 'arm.unknown' };
  return undefined;
}

export async function handleArm(x: Exchange, match: ArmMatch, arm: Arm, cloud: CloudProfile): Promise<void> {
  const apiVersion = x.url.searchParams.get('api-version');
  if (match.name === 'arm.metadata') {
    // Public and unauthenticated, as on every ARM endpoint; old clients send no api-version.
    return send(x, 200, metadataDocument(cloud, apiVersion ?? '2015-01-01'));
  }
  if (!apiVersion) {
    return armError(x, 400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
  }
  const subscriptionId = /^\/subscriptions\/([^/]+)/i.exec(x.url.pathname)?.[1];
  const caller = await authenticate(x, arm.entra, arm.state, cloud, subscriptionId);
  if (!caller) return;
  // Throttling is per caller, so it comes after the token; a refused request reaches no provider.
  const kind = x.method === 'GET' || x.method === 'HEAD' ? 'reads' : x.method === 'DELETE' ? 'deletes' : 'writes';
  const params = 'params' in match ? match.params : {};
  const compute = subscriptionId && arm.state.subscriptions.has(subscriptionId.toLowerCase()) ? computePolicies(match.name, params) : [];
  const { headers, refusal } = arm.limits.charge({ kind, scope: subscriptionId ? `sub:${subscriptionId}` : `tenant:${caller.tenantId}`, caller: caller.objectId, compute });
  x.limitHeaders = compute.length > 0 && kind === 'writes' && headers['x-ms-ratelimit-remaining-resource']
    ? { ...headers, 'x-ms-ratelimit-remaining-resource': `${headers['x-ms-ratelimit-remaining-resource']},Microsoft.Compute/VMScaleSetBatchedVMRequestsSubscriptionMaximum;6000,Microsoft.Compute/VmssQueuedVMOperations;0` }
    : headers;
  if (refusal) return throttle(x, arm.limits, refusal, caller.objectId);
  if (subscriptionId && !arm.state.subscriptions.has(subscriptionId.toLowerCase())) {
    return armError(x, 404, 'SubscriptionNotFound', `The subscription '${subscriptionId}' could not be found.`);
  }
  if (!('handler' in match)) {
    return armError(x, 400, 'InvalidResourceType', `The resource type could not be found in the namespace for api version '${apiVersion}'.`);
  }
  const ctx: ArmContext = { state: arm.state, entra: arm.entra, compute: arm.compute, principals: arm.principals, cloud, caller, apiVersion, pageSize: arm.pageSize() };
  return match.handler(x, match.params, ctx);
}

/**
 * A 429 in the words of whoever refused: ARM's front door (`SubscriptionRequestsThrottled`, or
 * `TenantRequestsThrottled` for tenant-level calls; docs "Understand how Azure Resource Manager
 * throttles requests"), or Compute, whose body names the policy in `error.details` (reference 5.1).
 * Both send Retry-After in whole seconds.
 */
function throttle(x: Exchange, limits: Limits, r: Refusal, caller: string): Promise<void> {
  const retry = { 'retry-after': String(r.retryAfter) };
  if (r.by === 'arm') {
    limits.count(r.kind);
    x.throttled = r.kind;
    const singular = r.kind.slice(0, -1);
    const [level, id] = r.scope.split(':') as ['sub' | 'tenant', string];
    const code = level === 'sub' ? 'SubscriptionRequestsThrottled' : 'TenantRequestsThrottled';
    const where = level === 'sub' ? `subscription '${id}'` : `tenant '${id}'`;
    return armError(x, 429, code, `Number of '${singular}' requests for ${where} actor '${caller}' exceeded. Please try again after '${r.retryAfter}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling`, {}, retry);
  }
  limits.count(r.policy);
  x.throttled = r.policy;
  const now = Date.now();
  const windowMs = (r.bucket.capacity / Math.max(r.bucket.perSecond, 1e-9)) * 1000;
  const detail = { operationGroup: r.policy, startTime: armTime(now - windowMs), endTime: armTime(now), allowedRequestCount: r.bucket.capacity, measuredRequestCount: r.bucket.capacity + 1 };
  return armError(x, 429, 'OperationNotAllowed', 'The server rejected the request because too many requests have been received for this subscription.', {
    details: [{ code: 'TooManyRequests', target: r.policy, message: JSON.stringify(detail) }],
  }, retry);
}
