// GitHub's OIDC provider as a runner sees it: the ID-token request URL the runner
// injects (ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN) and the issuer's discovery + JWKS.
import { randomUUID } from 'node:crypto';
import { bearer, send, type Exchange } from './http.ts';
import { signJwt, type SigningKey } from './keys.ts';
import type { State } from './state.ts';

export const GITHUB_TOKEN_PATH = '/_services/token/idtoken';
/** GitHub's tokens are valid for a few minutes; Entra rejects them afterwards (AADSTS700024). */
export const GITHUB_TOKEN_LIFETIME_S = 300;

export interface GithubOidc {
  issuer: string;
  key: SigningKey;
  requestToken: string;
  /** Lifetime of issued tokens, shortened by tests to provoke expiry. */
  lifetimeSeconds: number;
  issued: string[];
}

export function subjectOf(state: State): string {
  const g = state.github;
  if (g.subject) return g.subject;
  const repo = `repo:${g.repository}`;
  const escape = (v: string) => v.replace(/:/g, '%3A');
  if (g.environment) return `${repo}:environment:${escape(g.environment)}`;
  if (g.eventName === 'pull_request') return `${repo}:pull_request`;
  return `${repo}:ref:${escape(g.ref)}`;
}

export function classifyGithub(method: string, path: string): string | undefined {
  if (path === GITHUB_TOKEN_PATH) return 'github.token';
  if (path === '/.well-known/openid-configuration') return 'github.discovery';
  if (path === '/.well-known/jwks') return 'github.jwks';
  void method;
  return undefined;
}

export async function handleGithub(x: Exchange, gh: GithubOidc, state: State): Promise<void> {
  switch (x.route) {
    case 'github.discovery':
      return send(x, 200, {
        issuer: gh.issuer,
        jwks_uri: `${gh.issuer}/.well-known/jwks`,
        subject_types_supported: ['public', 'pairwise'],
        response_types_supported: ['id_token'],
        claims_supported: ['sub', 'aud', 'exp', 'iat', 'iss', 'jti', 'nbf', 'ref', 'repository', 'repository_owner', 'environment', 'job_workflow_ref', 'event_name', 'run_id', 'actor'],
        id_token_signing_alg_values_supported: ['RS256'],
        scopes_supported: ['openid'],
      });
    case 'github.jwks':
      return send(x, 200, { keys: [gh.key.publicJwk] });
    case 'github.token':
      return issueToken(x, gh, state);
  }
}

async function issueToken(x: Exchange, gh: GithubOidc, state: State): Promise<void> {
  if (x.method !== 'GET') return send(x, 405, { message: 'Method not allowed' });
  if (bearer(x.req) !== gh.requestToken) {
    return send(x, 401, { message: 'Unauthorized: the ACTIONS_ID_TOKEN_REQUEST_TOKEN bearer token is missing or wrong.' });
  }
  x.caller = 'runner';
  const g = state.github;
  const owner = g.repository.split('/')[0] ?? '';
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    jti: randomUUID(),
    sub: subjectOf(state),
    aud: x.url.searchParams.get('audience') ?? `https://github.com/${owner}`,
    ref: g.ref,
    ref_type: g.ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    sha: '0000000000000000000000000000000000000000',
    repository: g.repository,
    repository_owner: owner,
    repository_visibility: 'private',
    run_id: '1',
    run_number: '1',
    run_attempt: '1',
    actor: 'octocat',
    workflow: 'deploy',
    event_name: g.eventName,
    job_workflow_ref: `${g.repository}/.github/workflows/deploy.yml@${g.ref}`,
    runner_environment: 'github-hosted',
    ...(g.environment ? { environment: g.environment } : {}),
    iss: gh.issuer,
    nbf: now - 5,
    iat: now - 5,
    exp: now + gh.lifetimeSeconds,
  };
  const value = await signJwt(gh.key, claims);
  gh.issued.push(value);
  return send(x, 200, { count: 1, value });
}
