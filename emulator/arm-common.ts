// What every ARM provider route shares: the per-request context, rate-limit headers,
// preconditions, the concurrent-write conflict and paged lists.
import type { Caller } from './arm-auth.ts';
import type { ArmFailure } from './arm-identity.ts';
import type { OperationEngine } from './arm-operations.ts';
import type { CloudProfile } from './clouds.ts';
import type { Entra } from './entra.ts';
import { armError, send, type Exchange, type Headers } from './http.ts';
import type { State } from './state.ts';

export interface PrincipalSettings {
  /** How long a new principal stays invisible to RBAC lookups (PrincipalNotFound). */
  directoryLagMs: number;
  /** Report PrincipalNotFound for young principals even when principalType is set. */
  lagIgnoresPrincipalType: boolean;
}

export interface ArmContext {
  state: State;
  entra: Entra;
  compute: OperationEngine;
  principals: PrincipalSettings;
  /** The cloud this request reached: the emulator's own, or a built-in one through the proxy. */
  cloud: CloudProfile;
  caller: Caller;
  apiVersion: string;
  /** Items per page of a list answer before a nextLink. */
  pageSize: number;
}

// The remaining-quota headers (`x-ms-ratelimit-remaining-…`) come from the budgets (limits.ts)
// and are put on every answer by the front door (arm.ts); these are what else reads and writes carry.
export const readHeaders = (): Headers => ({});

export const writeHeaders = (): Headers => ({ 'x-ms-request-charge': '0' });

export const fail = (x: Exchange, f: ArmFailure) => armError(x, f.status, f.code, f.message, f.target ? { target: f.target } : {});

export const conflict = (x: Exchange) =>
  armError(x, 409, 'Conflict', 'The request failed due to conflict with a concurrent request. To resolve it, please refer to https://aka.ms/activitylog to get more details on the conflicting requests.');

export function preconditionFails(x: Exchange, name: string, etag: number): Promise<void> | undefined {
  const ifMatch = x.req.headers['if-match'];
  if (ifMatch && ifMatch !== '*' && ifMatch !== `"${etag}"` && ifMatch !== String(etag)) {
    return armError(x, 412, 'PreconditionFailed', `Etag provided in if-match header ${ifMatch} does not match etag "${etag}" of resource.`);
  }
  if (x.req.headers['if-none-match'] === '*') {
    // UNCONFIRMED for Compute; the strictest reading: an existing resource fails the precondition.
    return armError(x, 412, 'PreconditionFailed', `The resource '${name}' already exists and if-none-match header '*' was provided.`);
  }
  return undefined;
}

export const PAGE_SIZE = 100;

/**
 * A list answer, paged as ARM pages (reference 14.3): `nextLink` is an absolute URL carrying its
 * own api-version and `$skiptoken`, absent on the last page.
 */
export function list<T>(x: Exchange, items: readonly T[], headers: Headers = {}, pageSize = PAGE_SIZE, extra: Record<string, unknown> = {}, render: (item: T) => unknown = (i) => i): Promise<void> {
  const skip = Number(x.url.searchParams.get('$skiptoken') ?? '0') || 0;
  // Only the page is rendered: a list of 1,000 scale sets costs one page per request.
  const page = items.slice(skip, skip + pageSize).map(render);
  let nextLink: string | undefined;
  if (skip + pageSize < items.length) {
    const q = new URLSearchParams(x.url.searchParams);
    q.set('$skiptoken', String(skip + pageSize));
    nextLink = `${x.base}${x.url.pathname}?${q}`;
  }
  return send(x, 200, { value: page, ...extra, ...(nextLink ? { nextLink } : {}) }, headers);
}
