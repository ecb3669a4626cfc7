// Subscriptions in other tenants than the sign-in's. ARM answers a token from the wrong tenant
// with 401 InvalidAuthenticationTokenTenant naming the right one; the action then signs in to
// that tenant (once per tenant: MSAL caches its token) and sends that subscription's requests
// with it from then on.
import { info, secret } from '../writer.ts';
import { isGuid } from '../resource-id.ts';
import type { TokenCredential } from '@azure/identity';
import type { PipelinePolicy, PipelineRequest } from '@azure/core-rest-pipeline';

const RIGHT_TENANT = /associated with this subscription[^']*'https:\/\/[^/']+\/([^/']+)\/?'/i;

export class Tenants {
  private readonly credential: TokenCredential;
  private readonly home: string;
  private readonly scope: string;
  private readonly bySubscription = new Map<string, string>();

  constructor(credential: TokenCredential, home: string, scope: string) {
    this.credential = credential;
    this.home = home;
    this.scope = scope;
  }

  /** The tenants signed in to besides the home one. */
  get others(): string[] {
    return [...new Set(this.bySubscription.values())];
  }

  private async authorize(request: PipelineRequest, tenantId: string): Promise<void> {
    const token = await this.credential.getToken(this.scope, { tenantId, ...(request.abortSignal ? { abortSignal: request.abortSignal as AbortSignal } : {}) });
    if (!token) throw new Error(`no token for tenant ${tenantId}`);
    secret(token.token);
    request.headers.set('authorization', `Bearer ${token.token}`);
  }

  /** Runs after the SDK's bearer policy: replaces its token for subscriptions of other tenants. */
  policy(): PipelinePolicy {
    return {
      name: 'subscriptionTenant',
      sendRequest: async (request, next) => {
        const subscription = /\/subscriptions\/([^/?]+)/i.exec(new URL(request.url).pathname)?.[1]?.toLowerCase();
        const known = subscription ? this.bySubscription.get(subscription) : undefined;
        if (known) await this.authorize(request, known);
        const response = await next(request);
        if (known || !subscription || response.status !== 401) return response;
        const body = response.bodyAsText ?? '';
        const named = body.includes('InvalidAuthenticationTokenTenant') ? RIGHT_TENANT.exec(body)?.[1] : undefined;
        // Only a tenant id or domain: anything else in the answer is not followed.
        const tenant = named && (isGuid(named) || /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(named)) ? named : undefined;
        if (!tenant || tenant.toLowerCase() === this.home.toLowerCase()) return response;
        if (!this.others.some((t) => t.toLowerCase() === tenant.toLowerCase())) info(`Subscription ${subscription} belongs to tenant ${tenant}: signing in there too.`);
        this.bySubscription.set(subscription, tenant);
        await this.authorize(request, tenant);
        return next(request);
      },
    };
  }
}
