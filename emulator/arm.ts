// Azure Resource Manager's front door: one route table over the providers, then api-version,
// the bearer token (for the audience of the cloud that was reached) and the subscription,
// before the provider's handler runs.
import { authenticate } from './arm-auth.ts';
import { authorizationRoutes } from './arm-authorization.ts';
import type { ArmContext, PrincipalSettings } from './arm-common.ts';
import { computeRoutes } from './arm-compute.ts';
import { managedIdentityRoutes } from './arm-managed-identity.ts';
import type { OperationEngine } from './arm-operations.ts';
import { resourceRoutes } from './arm-resources.ts';
import { metadataDocument, type CloudProfile } from './clouds.ts';
import type { Entra } from './entra.ts';
import { armError, send, type Exchange } from './http.ts';
import { Router, type Match } from './router.ts';
import type { State } from './state.ts';

export interface Arm {
  state: State;
  entra: Entra;
  compute: OperationEngine;
  principals: PrincipalSettings;
  pageSize: () => number;
}

const router = new Router<ArmContext>([...resourceRoutes, ...computeRoutes, ...managedIdentityRoutes, ...authorizationRoutes]);

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
  if (subscriptionId && !arm.state.subscriptions.has(subscriptionId.toLowerCase())) {
    return armError(x, 404, 'SubscriptionNotFound', `The subscription '${subscriptionId}' could not be found.`);
  }
  if (!('handler' in match)) {
    return armError(x, 400, 'InvalidResourceType', `The resource type could not be found in the namespace for api version '${apiVersion}'.`);
  }
  const ctx: ArmContext = { state: arm.state, entra: arm.entra, compute: arm.compute, principals: arm.principals, cloud, caller, apiVersion, pageSize: arm.pageSize() };
  return match.handler(x, match.params, ctx);
}
