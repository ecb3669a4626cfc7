// Sign-in: GitHub's OIDC token exchanged with Entra ID through a federated credential
// (ClientAssertionCredential), or the Azure CLI session of an earlier azure/login step.
import { getIDToken } from '@actions/core';
import { AzureCliCredential, ClientAssertionCredential, type TokenCredential } from '@azure/identity';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { abortable } from '../abort.ts';
import { oidcAudienceFor, signInOrigins, type Cloud } from '../cloud.ts';
import { ActionError } from '../errors.ts';
import { NO_ID_TOKEN, oidcFailed } from '../messages.ts';
import type { Prefetch } from '../oidc-prefetch.ts';
import type { SignIn } from '../settings.ts';
import { clip } from '../text.ts';
import { info, secret } from '../writer.ts';

/** What we learnt from the last GitHub token, for messages about federated credentials. */
export interface TokenFacts {
  issuer?: string;
  subject?: string;
  audience?: string;
  jobWorkflowRef?: string;
}

export interface Session {
  credential: TokenCredential;
  describe: string;
  facts: TokenFacts;
  /** The GitHub token audience used (OIDC only). */
  audience?: string;
}

/** Reuse one GitHub token for the assertions of one sign-in, counted from its arrival. */
const ASSERTION_REUSE_MS = 30_000;
const ASSERTION_MIN_LIFE_MS = 60_000;

function payloadOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

function expiryOf(jwt: string): number {
  try {
    return Number(payloadOf(jwt)['exp']) * 1000 || 0;
  } catch {
    return 0;
  }
}

/** The claims messages need, each cut short and with control characters escaped. */
function claimsOf(jwt: string): TokenFacts {
  try {
    const payload = payloadOf(jwt);
    const str = (v: unknown) => (typeof v === 'string' ? clip(v) : Array.isArray(v) ? clip(v.join(', ')) : undefined);
    const facts: TokenFacts = {};
    const put = (k: keyof TokenFacts, v: unknown) => {
      const s = str(v);
      if (s !== undefined) facts[k] = s;
    };
    put('issuer', payload['iss']);
    put('subject', payload['sub']);
    put('audience', payload['aud']);
    put('jobWorkflowRef', payload['job_workflow_ref']);
    return facts;
  } catch {
    return {};
  }
}

export function signIn(settings: SignIn, cloud: Cloud, env: NodeJS.ProcessEnv, signal: AbortSignal, prefetch?: Prefetch): Session {
  if (settings.kind === 'azure-cli') {
    info('No client-id/tenant-id given: using the Azure CLI session of an earlier azure/login step.');
    return { credential: maskingTokens(new AzureCliCredential()), describe: 'Azure CLI session', facts: {} };
  }
  if (!env['ACTIONS_ID_TOKEN_REQUEST_URL'] || !env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']) throw new ActionError(NO_ID_TOKEN);
  // The cloud is resolved now: a custom cloud's login endpoint may have come from its metadata.
  const audience = oidcAudienceFor(cloud.authorityHost, settings.audienceGiven ? settings.audience : undefined);
  if (cloud.customAuthority) {
    info(`The GitHub OIDC token (audience ${clip(audience)}) goes to ${new URL(cloud.authorityHost).host}, the login endpoint of this custom cloud.`);
  }
  let prefetched = prefetch?.audience === audience ? prefetch.token : undefined;
  const facts: TokenFacts = {};
  let logged = false;
  const fetchToken = async (): Promise<string> => {
    let token = prefetched ? await abortable(prefetched, signal) : undefined;
    prefetched = undefined;
    try {
      token ??= await abortable(getIDToken(audience), signal);
      secret(token);
    } catch (error) {
      if (signal.aborted) throw error;
      throw new ActionError(oidcFailed(error, env));
    }
    Object.assign(facts, claimsOf(token));
    if (!logged) {
      logged = true;
      info(`GitHub OIDC token: issuer ${facts.issuer ?? '?'}, subject ${facts.subject ?? '?'}, audience ${facts.audience ?? '?'}${facts.jobWorkflowRef ? `, job_workflow_ref ${facts.jobWorkflowRef}` : ''}`);
    }
    return token;
  };
  // GitHub tokens live ~5 minutes, so every Entra sign-in gets a fresh one; MSAL asks more than
  // once per sign-in and those calls share one token. At most one request is in flight.
  let cached: { token: string; arrivedAt: number; expiresAt: number } | undefined;
  let inflight: Promise<string> | undefined;
  const getAssertion = (): Promise<string> => {
    const now = Date.now();
    if (cached && now - cached.arrivedAt <= ASSERTION_REUSE_MS && cached.expiresAt - now >= ASSERTION_MIN_LIFE_MS) return Promise.resolve(cached.token);
    inflight ??= fetchToken()
      .then((token) => {
        cached = { token, arrivedAt: Date.now(), expiresAt: expiryOf(token) };
        return token;
      })
      .finally(() => (inflight = undefined));
    return inflight;
  };
  const refusals: ActionError[] = [];
  const credential = new ClientAssertionCredential(settings.tenantId, settings.clientId, getAssertion, {
    authorityHost: cloud.authorityHost,
    // After the redirect policy, so a redirected request is checked too.
    additionalPolicies: [{ policy: loginHostsOnly(cloud.authorityHost, refusals), position: 'perRetry' }],
    // Outside Microsoft's clouds MSAL would otherwise ask login.microsoftonline.com to validate the authority.
    disableInstanceDiscovery: cloud.customAuthority,
    // Subscriptions of a fleet may live in other tenants (azure/tenants.ts asks for those by name).
    additionallyAllowedTenants: ['*'],
  });
  return { credential: maskingTokens(refusalFirst(credential, refusals)), describe: `app ${settings.clientId} in tenant ${settings.tenantId} (GitHub OIDC)`, facts, audience };
}

/**
 * The host policy of the sign-in: every request MSAL makes (OpenID discovery, the token request
 * carrying the GitHub token, a redirect) goes to the login endpoint's origin, or for Microsoft's
 * login hosts to that cloud's. A discovery document or a redirect naming any other host is
 * refused before a byte leaves, whatever MSAL or the environment made of the authority.
 */
function loginHostsOnly(authorityHost: string, refusals: ActionError[]): PipelinePolicy {
  const allowed = signInOrigins(authorityHost);
  const login = new URL(authorityHost).host;
  return {
    name: 'vmssLoginHostsOnly',
    sendRequest: (request, next) => {
      const target = new URL(request.url);
      if (allowed.includes(target.origin.toLowerCase())) return next(request);
      const refusal = new ActionError(`The sign-in at ${login} was directed to ${clip(target.host, 100)} (${request.method} ${clip(target.pathname, 200)}), outside ${allowed.map((o) => new URL(o).host).join(', ')}. The action refused the request: nothing was sent to ${clip(target.host, 100)}. The login endpoint's OpenID configuration (or a redirect) points outside it: check authority-host, or the login endpoint the custom cloud's metadata names.`);
      refusals.push(refusal);
      return Promise.reject(refusal);
    },
  };
}

/** MSAL reports a refused request as a network error: the sign-in fails with the refusal itself. */
function refusalFirst(credential: TokenCredential, refusals: ActionError[]): TokenCredential {
  return {
    getToken: async (scopes, options) => {
      const before = refusals.length;
      try {
        return await credential.getToken(scopes, options);
      } catch (error) {
        throw refusals[before] ?? error;
      }
    },
  };
}

/**
 * Every access token the credential hands out (the first, each refresh, other tenants') is a
 * secret from the moment it exists: masked by the runner and redacted by the writer, even
 * though most of them only ever travel inside the SDK's pipeline.
 */
function maskingTokens(credential: TokenCredential): TokenCredential {
  return {
    getToken: async (scopes, options) => {
      const token = await credential.getToken(scopes, options);
      if (token) secret(token.token);
      return token;
    },
  };
}
