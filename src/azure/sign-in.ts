// Sign-in: GitHub's OIDC token exchanged with Entra ID through a federated credential
// (ClientAssertionCredential), or the Azure CLI session of an earlier azure/login step.
import * as core from '@actions/core';
import { AzureCliCredential, ClientAssertionCredential, type TokenCredential } from '@azure/identity';
import type { Cloud } from '../cloud.ts';
import { ActionError } from '../errors.ts';
import type { SignIn } from '../inputs.ts';

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
}

const NO_ID_TOKEN =
  "GitHub did not give this job an OIDC token request URL (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are not set), so the action cannot sign in to Azure without a secret. " +
  "Add 'permissions: id-token: write' to the job or workflow (a reusable workflow needs its caller to grant it); pull requests from forks and Dependabot never get it.";

const ASSERTION_REUSE_MS = 30_000;
const ASSERTION_MIN_LIFE_MS = 60_000;

const OIDC_FAILED = 'Could not get an OIDC token from GitHub';

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

function claimsOf(jwt: string): TokenFacts {
  try {
    const payload = payloadOf(jwt);
    const str = (v: unknown) => (typeof v === 'string' ? v : Array.isArray(v) ? v.join(', ') : undefined);
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

export function signIn(settings: SignIn, cloud: Cloud, env: NodeJS.ProcessEnv, prefetched?: Promise<string | undefined>): Session {
  if (settings.kind === 'azure-cli') {
    core.info('No client-id/tenant-id given: using the Azure CLI session of an earlier azure/login step.');
    return { credential: new AzureCliCredential(), describe: 'Azure CLI session', facts: {} };
  }
  if (!env['ACTIONS_ID_TOKEN_REQUEST_URL'] || !env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']) throw new ActionError(NO_ID_TOKEN);
  const facts: TokenFacts = {};
  let logged = false;
  let last: { token: Promise<string>; fetchedAt: number; expiresAt: number } | undefined;
  const fetchToken = async (): Promise<string> => {
    let token: string | undefined = await prefetched;
    prefetched = undefined;
    try {
      if (token) core.setSecret(token);
      else token = await core.getIDToken(settings.audience);
    } catch (error) {
      const reason = ((error as Error).message ?? String(error)).replace(/\s+/g, ' ').replace(/^Error message: /, '');
      throw new ActionError(`${OIDC_FAILED} (${reason}). GitHub's token service did not answer; re-run the job, and check the runner can reach ${new URL(env['ACTIONS_ID_TOKEN_REQUEST_URL'] ?? 'https://invalid').host}.`);
    }
    Object.assign(facts, claimsOf(token));
    if (!logged) {
      logged = true;
      core.info(`GitHub OIDC token: issuer ${facts.issuer ?? '?'}, subject ${facts.subject ?? '?'}, audience ${facts.audience ?? '?'}${facts.jobWorkflowRef ? `, job_workflow_ref ${facts.jobWorkflowRef}` : ''}`);
    }
    return token;
  };
  // GitHub tokens live ~5 minutes, so every Entra sign-in gets a fresh one. MSAL asks for the
  // assertion more than once per sign-in; those calls share one token fetched moments before.
  const getAssertion = (): Promise<string> => {
    const now = Date.now();
    if (!last || now - last.fetchedAt > ASSERTION_REUSE_MS || last.expiresAt - now < ASSERTION_MIN_LIFE_MS) {
      const token = fetchToken();
      last = { token, fetchedAt: now, expiresAt: Infinity };
      const entry = last;
      token.then((t) => (entry.expiresAt = expiryOf(t)), () => (last = undefined));
    }
    return last.token;
  };
  const credential = new ClientAssertionCredential(settings.tenantId, settings.clientId, getAssertion, {
    authorityHost: cloud.authorityHost,
    // Outside Microsoft's clouds MSAL would otherwise ask login.microsoftonline.com to validate the authority.
    disableInstanceDiscovery: cloud.customAuthority,
  });
  return { credential, describe: `app ${settings.clientId} in tenant ${settings.tenantId} (GitHub OIDC)`, facts };
}

/** The subjects a federated credential for this workflow run could have. */
export function subjectForms(env: NodeJS.ProcessEnv): string[] {
  const repo = env['GITHUB_REPOSITORY'] ?? 'OWNER/REPO';
  const ref = env['GITHUB_REF'] ?? 'refs/heads/BRANCH';
  return [
    `repo:${repo}:ref:${ref}`,
    `repo:${repo}:environment:ENVIRONMENT-NAME (when the job has an environment)`,
    `repo:${repo}:pull_request (pull_request events)`,
  ];
}

/** Turns an Entra failure into what happened, why, and what to do. */
export function describeSignInError(error: unknown, settings: SignIn, session: Session | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (error instanceof ActionError) return error.message;
  const message = (error as Error)?.message ?? String(error);
  // The credential wraps what getAssertion threw; the action's own message is inside.
  const own = message.indexOf(OIDC_FAILED);
  if (own >= 0) return message.slice(own).split('\n')[0];
  const code = /AADSTS(\d+)/.exec(message)?.[1];
  if (settings.kind === 'azure-cli') {
    if (/az login|Azure CLI|az: not found|ENOENT/i.test(message)) {
      return `No Azure sign-in: client-id/tenant-id are not set and there is no Azure CLI session (${message.split('\n')[0]}). Give client-id and tenant-id to sign in with OIDC, or run azure/login before this step.`;
    }
    return undefined;
  }
  const facts = session?.facts ?? {};
  switch (code) {
    case '70021':
    case '700211':
    case '700212':
    case '700213':
    case '7002137':
    case '7002138':
      return [
        `Entra ID found no federated credential on app ${settings.clientId} matching this job's GitHub token (AADSTS${code}).`,
        `The token has issuer '${facts.issuer ?? '?'}', subject '${facts.subject ?? '?'}' and audience '${facts.audience ?? settings.audience}'; Entra compares them case-sensitively.`,
        `Add a federated credential with exactly that subject, or one of: ${subjectForms(env).join('; ')}.`,
      ].join(' ');
    case '700016':
      return `Entra ID has no application with client id '${settings.clientId}' in tenant '${settings.tenantId}' (AADSTS700016). Check client-id and tenant-id: use the app registration's Application (client) ID and the Directory (tenant) ID it lives in.`;
    case '90002':
      return `Tenant '${settings.tenantId}' was not found (AADSTS90002). Check tenant-id, and that environment matches the cloud the tenant is in.`;
    case '700024':
      return `Entra ID rejected the GitHub token as outside its valid time range (AADSTS700024). Check the runner's clock; the action fetches a fresh token for every sign-in, so a retry of the job usually succeeds.`;
  }
  if (/endpoints_resolution_error|Unable to resolve endpoint/i.test(message)) {
    return `Entra ID could not find the sign-in endpoints for tenant '${settings.tenantId}' (endpoints_resolution_error): the tenant does not exist in this cloud, or the authority is unreachable. Check tenant-id, environment and authority-host.`;
  }
  if (code) return `Sign-in to Entra ID failed (AADSTS${code}): ${message.split('\n')[0]}`;
  return undefined;
}
