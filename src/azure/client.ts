// One place that says how the action talks to ARM: the cloud's endpoint and token scope, the
// user agent, and the retry policy. Reads retry in the SDK pipeline; writes never do, so the
// action itself decides what a lost answer means (it reads the scale set again).
import type { ClientOptions } from '@azure-rest/core-client';
import { retryAfterFloorPolicy } from '../backoff.ts';
import { boundedBodyPolicy } from './bounded-body.ts';
import type { Pacer } from './pacing.ts';
import type { Tenants } from './tenants.ts';

import { USER_AGENT } from './user-agent.ts';

export { USER_AGENT };

export interface Endpoint {
  resourceManager: string;
  scope: string;
  /** Shared by every client of a run, so all of them respect the same budgets. */
  pacer?: Pacer;
  /** Signs in to the tenants of subscriptions outside the sign-in's. */
  tenants?: Tenants;
}

/**
 * read: the SDK retries; write: sent once (a lost answer is resolved by reading); poll: a
 * status poll, retried by the poll loop itself at the poll pace (the SDK's retries would come
 * sooner than a second).
 */
export type Purpose = 'read' | 'write' | 'poll';

export function clientOptions(cloud: Endpoint, purpose: Purpose): ClientOptions & { endpoint: string } {
  return {
    additionalPolicies: [
      // Below the SDK's retry policy: it never retries sooner than a second, whatever Retry-After says.
      { policy: retryAfterFloorPolicy(), position: 'perRetry' as const },
      ...(cloud.pacer ? [{ policy: cloud.pacer.policy(), position: 'perRetry' as const }] : []),
      // After the bearer policy: it replaces the token for subscriptions of other tenants.
      ...(cloud.tenants ? [{ policy: cloud.tenants.policy(), position: 'perRetry' as const }] : []),
      // Last: nearest the wire (src/azure/bounded-body.ts).
      { policy: boundedBodyPolicy(), position: 'perRetry' as const },
    ],
    endpoint: cloud.resourceManager,
    credentials: { scopes: [cloud.scope] },
    userAgentOptions: { userAgentPrefix: USER_AGENT },
    retryOptions: purpose === 'read' ? { maxRetries: 4, retryDelayInMs: 1000, maxRetryDelayInMs: 16000 } : { maxRetries: 0 },
  };
}
