// GitHub's REST API for issue comments (a pull request is an issue), as a workflow's token sees
// it: list (paged, with Link headers), create, update, and GET /user. Tokens are the job's
// GITHUB_TOKEN: one that may write (pull-requests: write) and one that may only read, as a fork's
// pull request gets, which GitHub answers with 403 "Resource not accessible by integration"; and
// a person's token (a PAT), which may write and which GET /user answers with its login. An
// installation token (GITHUB_TOKEN or an app's) is no user: GET /user answers it with that 403.
import { randomBytes } from 'node:crypto';
import { parseJsonObject, send, type Exchange, type Headers } from './http.ts';
import type { State } from './state.ts';

export interface IssueComment {
  id: number;
  /** owner/repo#number, lower-cased owner/repo. */
  issue: string;
  body: string;
  user: { login: string; type: 'Bot' | 'User' };
  createdAt: string;
  updatedAt: string;
}

export interface ApiToken {
  login: string;
  type: 'Bot' | 'User';
  write: boolean;
}

const JOB_BOT = { login: 'github-actions[bot]', type: 'Bot' } as const;

export class GithubApi {
  /** The job token with pull-requests: write (what `${{ github.token }}` gives in a test run). */
  readonly writeToken = `ghs_${randomBytes(27).toString('base64url')}`;
  /** A fork's read-only job token. */
  readonly readOnlyToken = `ghs_${randomBytes(27).toString('base64url')}`;
  /** A person's token (PAT) that may comment: its comments are theirs. */
  readonly userToken = `ghp_${randomBytes(27).toString('base64url')}`;
  readonly tokens = new Map<string, ApiToken>([
    [this.writeToken, { ...JOB_BOT, write: true }],
    [this.readOnlyToken, { ...JOB_BOT, write: false }],
    [this.userToken, { login: 'octo-maintainer', type: 'User', write: true }],
  ]);
  /** Open issues and pull requests of the seeded repository, by number. */
  readonly issues = new Set<number>([1, 42]);
  readonly comments: IssueComment[] = [];
  private nextId = 1_000_001;

  /** The comments on one issue, oldest first. */
  on(repository: string, number: number): IssueComment[] {
    return this.comments.filter((c) => c.issue === `${repository.toLowerCase()}#${number}`);
  }

  /** Adds a comment as someone else would have (tests seed other comments with it): octocat unless `user` says who. */
  add(repository: string, number: number, body: string, user: IssueComment['user'] = { login: 'octocat', type: 'User' }): IssueComment {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const comment = { id: this.nextId++, issue: `${repository.toLowerCase()}#${number}`, body, user, createdAt: now, updatedAt: now };
    this.comments.push(comment);
    return comment;
  }

  allTokens(): string[] {
    return [...this.tokens.keys()];
  }
}

const LIST = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/;
const ONE = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/;
const USER = '/user';
const MAX_BODY = 65536;
const DOCS = 'https://docs.github.com/rest/issues/comments';

export function classifyGithubApi(method: string, path: string): string | undefined {
  if (LIST.test(path)) return method === 'POST' ? 'github.api.comments.create' : 'github.api.comments.list';
  if (ONE.test(path)) return 'github.api.comment.update';
  if (path === USER && method === 'GET') return 'github.api.user';
  return undefined;
}

function token(x: Exchange): string | undefined {
  const h = x.req.headers.authorization;
  return typeof h === 'string' ? /^(?:token|bearer)\s+(\S+)$/i.exec(h)?.[1] : undefined;
}

const fail = (x: Exchange, status: number, message: string, extra: Record<string, unknown> = {}) => send(x, status, { message, documentation_url: DOCS, status: String(status), ...extra });

function json(x: Exchange, c: IssueComment, repository: string): Record<string, unknown> {
  const number = c.issue.split('#')[1] ?? '';
  return {
    id: c.id,
    node_id: `IC_${Buffer.from(String(c.id)).toString('base64url')}`,
    url: `${x.base}/repos/${repository}/issues/comments/${c.id}`,
    html_url: `https://github.com/${repository}/pull/${number}#issuecomment-${c.id}`,
    issue_url: `${x.base}/repos/${repository}/issues/${number}`,
    body: c.body,
    user: { login: c.user.login, type: c.user.type },
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    author_association: c.user.type === 'Bot' ? 'NONE' : 'MEMBER',
  };
}

/** GitHub's Link header: next and last (and prev and first past page 1), with per_page kept. */
function link(x: Exchange, page: number, last: number, perPage: number): Headers {
  const at = (p: number) => {
    const u = new URL(x.url.pathname, x.base);
    u.searchParams.set('per_page', String(perPage));
    u.searchParams.set('page', String(p));
    return u.href;
  };
  const parts = [
    ...(page < last ? [`<${at(page + 1)}>; rel="next"`, `<${at(last)}>; rel="last"`] : []),
    ...(page > 1 ? [`<${at(page - 1)}>; rel="prev"`, `<${at(1)}>; rel="first"`] : []),
  ];
  return parts.length ? { link: parts.join(', ') } : {};
}

function writtenBody(x: Exchange): string | undefined {
  const body = parseJsonObject(x.body)?.['body'];
  return typeof body === 'string' ? body : undefined;
}

export async function handleGithubApi(x: Exchange, api: GithubApi, state: State): Promise<void> {
  const who = api.tokens.get(token(x) ?? '');
  if (!who) return fail(x, 401, 'Bad credentials');
  x.caller = who.login;
  if (x.route === 'github.api.user') return authenticatedUser(x, who);
  const m = LIST.exec(x.url.pathname) ?? ONE.exec(x.url.pathname);
  const repository = `${m?.[1] ?? ''}/${m?.[2] ?? ''}`;
  if (repository.toLowerCase() !== state.github.repository.toLowerCase()) return fail(x, 404, 'Not Found');
  const n = Number(m?.[3]);
  if (x.route === 'github.api.comment.update') return update(x, api, who, repository, n);
  if (!api.issues.has(n)) return fail(x, 404, 'Not Found');
  if (x.route === 'github.api.comments.create') return create(x, api, who, repository, n);
  if (x.method !== 'GET') return fail(x, 404, 'Not Found');
  const perPage = Math.min(100, Math.max(1, Number(x.url.searchParams.get('per_page') ?? 30) || 30));
  const page = Math.max(1, Number(x.url.searchParams.get('page') ?? 1) || 1);
  const all = api.on(repository, n);
  const last = Math.max(1, Math.ceil(all.length / perPage));
  return send(x, 200, all.slice((page - 1) * perPage, page * perPage).map((c) => json(x, c, repository)), link(x, page, last, perPage));
}

async function create(x: Exchange, api: GithubApi, who: ApiToken, repository: string, n: number): Promise<void> {
  if (!who.write) return fail(x, 403, 'Resource not accessible by integration');
  const body = writtenBody(x);
  if (body === undefined) return fail(x, 422, 'Invalid request.\n\n"body" wasn\'t supplied.');
  if (body.length > MAX_BODY) return fail(x, 422, 'Validation Failed', { errors: [{ resource: 'IssueComment', code: 'custom', field: 'body', message: `body is too long (maximum is ${MAX_BODY} characters)` }] });
  const c = api.add(repository, n, body, { login: who.login, type: who.type });
  return send(x, 201, json(x, c, repository), { location: `${x.base}/repos/${repository}/issues/comments/${c.id}` });
}

async function update(x: Exchange, api: GithubApi, who: ApiToken, repository: string, id: number): Promise<void> {
  if (x.method !== 'PATCH') return fail(x, 404, 'Not Found');
  const c = api.comments.find((k) => k.id === id && k.issue.startsWith(`${repository.toLowerCase()}#`));
  if (!c) return fail(x, 404, 'Not Found');
  if (!who.write) return fail(x, 403, 'Resource not accessible by integration');
  const body = writtenBody(x);
  if (body === undefined) return fail(x, 422, 'Invalid request.\n\n"body" wasn\'t supplied.');
  if (body.length > MAX_BODY) return fail(x, 422, 'Validation Failed', { errors: [{ resource: 'IssueComment', code: 'custom', field: 'body', message: `body is too long (maximum is ${MAX_BODY} characters)` }] });
  c.body = body;
  c.updatedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return send(x, 200, json(x, c, repository));
}

/** GET /user: a person's token gets its account; an installation token (the job's or an app's) is refused, as GitHub does. */
async function authenticatedUser(x: Exchange, who: ApiToken): Promise<void> {
  if (who.type === 'Bot') return send(x, 403, { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest/users/users#get-the-authenticated-user', status: '403' });
  return send(x, 200, { login: who.login, id: 583231, type: who.type, site_admin: false });
}
