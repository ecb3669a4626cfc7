// The plan on the pull request: one comment per step and target selection, found again on every
// rerun by a hidden marker (workflow, job, step and a digest of the selection) and by its author,
// github-token's own identity, and updated in place. @actions/github (Octokit, most of its weight)
// is loaded only here, once a comment is due. Commenting is best effort: any failure is a
// warning, never the step's result.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { MAX_EVENT_PAYLOAD_BYTES } from './bounds.ts';
import { githubRun, type GithubRun } from './environment.ts';
import { ActionError } from './errors.ts';
import type { TagFilter } from './selectors.ts';
import type { Settings } from './settings.ts';
import { clip, q } from './text.ts';
import { USER_AGENT } from './azure/user-agent.ts';
import { debug, info, notice, warning } from './writer.ts';

const EVENTS = ['pull_request', 'pull_request_target'];
const PER_PAGE = 100;
/** GitHub keeps at most 2,500 comments on an issue: 25 pages of 100 hold them all. */
const MAX_PAGES = 25;
/** The whole exchange (find, then create or update), after which the comment is given up; the run's deadline and a cancel cut it shorter. */
const COMMENT_TIMEOUT_MS = 30_000;
/** A run already stopped (deadline, cancel) still posts what it did, within this. */
const STOPPED_GRACE_MS = 5_000;
const PERMISSION = 'pull-requests: write';

interface Where {
  owner: string;
  repo: string;
  number: number;
}

/**
 * 12 hex of SHA-256 over the scale sets the step chooses and what it does to them: matrix legs
 * share workflow, job and step, and differ here. Lists are sorted (their order chooses nothing)
 * and names lower-cased, as Azure compares them; tag values are compared exactly, so kept.
 */
export function selectionDigest(settings: Pick<Settings, 'targets' | 'query' | 'operation'>): string {
  const sorted = (values: string[]) => values.map((v) => v.toLowerCase()).sort();
  const tag = (t: TagFilter) => JSON.stringify([t.key.toLowerCase(), t.value ?? null]);
  const query = settings.query;
  const selection = {
    operation: settings.operation,
    targets: sorted(settings.targets.map((t) => `${t.subscriptionId}/${t.resourceGroup}/${t.name}`)),
    query: query && {
      subscriptions: sorted(query.subscriptions),
      resourceGroups: sorted(query.resourceGroups.map((p) => p.text)),
      names: query.names && sorted(query.names.map((p) => p.text)),
      tags: query.tags.map(tag).sort(),
    },
  };
  return createHash('sha256').update(JSON.stringify(selection)).digest('hex').slice(0, 12);
}

/** The hidden first line of the comment: which step's plan it is, for which targets. Encoded, so no value can end the HTML comment. */
export function commentMarker(run: Pick<GithubRun, 'workflow' | 'job' | 'action'>, settings: Pick<Settings, 'targets' | 'query' | 'operation'>): string {
  const part = (v: string) => encodeURIComponent(v);
  return `<!-- vmss-identity-action plan: workflow=${part(run.workflow)} job=${part(run.job)} step=${part(run.action)} targets=${selectionDigest(settings)} -->`;
}

/**
 * The pull request's number from the event payload, read as untrusted input: bounded, a positive
 * integer or nothing. @actions/github reads the same file whole when it loads: only after this.
 */
async function pullRequestNumber(path: string): Promise<number | undefined> {
  if (!path) return undefined;
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    if (size > MAX_EVENT_PAYLOAD_BYTES) throw new ActionError(`The event payload (GITHUB_EVENT_PATH) is ${size} bytes; at most ${MAX_EVENT_PAYLOAD_BYTES} are read.`);
    const payload = JSON.parse(await file.readFile('utf8')) as { pull_request?: { number?: unknown }; number?: unknown } | null;
    const number = payload?.pull_request?.number ?? payload?.number;
    return typeof number === 'number' && Number.isSafeInteger(number) && number > 0 ? number : undefined;
  } finally {
    await file.close();
  }
}

async function whereToComment(run: GithubRun, token: string): Promise<Where> {
  if (!token) throw new ActionError('github-token is empty. Leave it at its default (the job\'s GITHUB_TOKEN) or give a token that may comment.');
  const [owner = '', repo = ''] = /^[\w.-]+\/[\w.-]+$/.test(run.repository) ? run.repository.split('/') : [];
  if (!owner || !repo) throw new ActionError(`GITHUB_REPOSITORY ${q(run.repository)} is not OWNER/REPO.`);
  if (!/^https:\/\/[\w.-]+(:\d+)?(\/[\w.~/-]*)?$/i.test(run.apiUrl)) throw new ActionError(`GITHUB_API_URL ${q(run.apiUrl)} is not an https URL; the token is sent only to GitHub's API over TLS.`);
  const number = await pullRequestNumber(run.eventPath).catch((error: unknown) => {
    throw new ActionError(`The event payload (GITHUB_EVENT_PATH) could not be read: ${clip((error as Error).message)}`);
  });
  if (number === undefined) throw new ActionError(`The ${run.eventName} event's payload names no pull request number.`);
  return { owner, repo, number };
}

type Octokit = ReturnType<typeof import('@actions/github').getOctokit>;
type Comment = Awaited<ReturnType<Octokit['rest']['issues']['listComments']>>['data'][number];

/**
 * Who github-token comments as. GET /user names a person's token (PAT, OAuth). An installation
 * token, the job's GITHUB_TOKEN (github-actions[bot]) or a GitHub App's ([app][bot]), is refused
 * there (401/403) and cannot tell which app it is: its comments are a bot's, and only the
 * repository's admins can install one.
 */
type Author = { kind: 'user'; login: string } | { kind: 'bot' };

async function tokenAuthor(octokit: Octokit): Promise<Author> {
  try {
    const { data } = await octokit.rest.users.getAuthenticated();
    if (typeof data.login === 'string' && data.login) return { kind: 'user', login: data.login };
  } catch (error) {
    const status = (error as { status?: unknown }).status;
    if (status === 401 || status === 403) return { kind: 'bot' };
    throw error;
  }
  throw new ActionError("GitHub's API answered GET /user without a login, so the step cannot tell its own comment from anyone else's.");
}

function writtenBy(comment: Comment, author: Author): boolean {
  const user = comment.user;
  if (!user) return false;
  return author.kind === 'user' ? user.login.toLowerCase() === author.login.toLowerCase() : user.type === 'Bot';
}

interface Search {
  /** The step's own comment; undefined when there is none. */
  id?: number;
  /** Comments that start with the marker but were written by someone else: never touched. */
  strangers: Comment[];
}

/**
 * The step's comment: it starts with the marker AND github-token's identity wrote it. GET /user is
 * asked once, and only when a comment starts with the marker. Pages by number, never by a Link URL the answer names.
 */
async function findComment(octokit: Octokit, where: Where, marker: string): Promise<Search> {
  const strangers: Comment[] = [];
  let author: Author | undefined;
  for (let page = 1; page <= MAX_PAGES; page++) {
    const { data } = await octokit.rest.issues.listComments({ owner: where.owner, repo: where.repo, issue_number: where.number, per_page: PER_PAGE, page });
    const marked = data.filter((c) => typeof c.body === 'string' && c.body.startsWith(marker));
    const by = marked.length > 0 ? (author ??= await tokenAuthor(octokit)) : undefined;
    const mine = by && marked.find((c) => writtenBy(c, by));
    strangers.push(...marked.filter((c) => c !== mine));
    if (mine) return { id: mine.id, strangers };
    if (data.length < PER_PAGE) return { strangers };
  }
  throw new ActionError(`Pull request #${where.number} has more than ${MAX_PAGES * PER_PAGE} comments; the plan's comment was not found among them, and a second one is never added.`);
}

/** Names (never quotes) the comments that copy the marker: someone may be trying to pass their text off as the plan. */
function noticeStrangers(where: Where, strangers: Comment[]): void {
  if (strangers.length === 0) return;
  const shown = strangers.slice(0, 5).map((c) => `${c.id} by ${q(c.user?.login ?? 'an unknown account')}`).join(', ');
  const more = strangers.length > 5 ? ` and ${strangers.length - 5} more` : '';
  notice(`Pull request #${where.number} has comments that start with this step's hidden marker but were not written by github-token's identity (comment ${shown}${more}). They were left alone: only the comment github-token's identity wrote is updated, so theirs may not show this run's plan.`, 'Plan marker copied on the pull request');
}

async function upsert(where: Where, token: string, apiUrl: string, body: string, marker: string, signal: AbortSignal): Promise<string> {
  const { getOctokit } = await import('@actions/github');
  const log = { debug, info: debug, warn: debug, error: debug };
  // redirect: 'error': the token never follows an answer to another host.
  const octokit = getOctokit(token, { baseUrl: apiUrl.replace(/\/+$/, ''), userAgent: USER_AGENT, log, request: { redirect: 'error', signal } });
  const { id, strangers } = await findComment(octokit, where, marker);
  noticeStrangers(where, strangers);
  if (id !== undefined) {
    await octokit.rest.issues.updateComment({ owner: where.owner, repo: where.repo, comment_id: id, body });
    return `Updated the plan's comment on pull request #${where.number}.`;
  }
  await octokit.rest.issues.createComment({ owner: where.owner, repo: where.repo, issue_number: where.number, body });
  return `Posted the plan as a comment on pull request #${where.number}.`;
}

function failure(error: unknown): string {
  const status = (error as { status?: unknown }).status;
  const said = clip((error as Error)?.message ?? String(error), 300);
  if (said.includes('undici is not bundled')) {
    return 'A proxy (HTTPS_PROXY) applies to GITHUB_API_URL, and this action posts comments only without one (stubs/README.md). Add the API host to NO_PROXY if it is reachable directly, or post the plan output from another step. The step\'s result is unchanged.';
  }
  if (status === 403 || status === 404) {
    return `The token may not comment on this pull request (HTTP ${status}: ${said}). Give the job the permission \`${PERMISSION}\` (a pull request from a fork gets a read-only token whatever the workflow asks: post the \`plan\` output from a workflow_run workflow instead). The step's result is unchanged.`;
  }
  if (/abort|timeout/i.test(`${(error as Error)?.name} ${said}`)) return `GitHub's API did not answer in time (${said}): the comment was given up after ${COMMENT_TIMEOUT_MS / 1000} s, or at the step's deadline or cancel. The step's result is unchanged.`;
  if (/redirect/i.test(said)) return `GITHUB_API_URL answered with a redirect (${said}), which is not followed: github-token goes only to that host. Point GITHUB_API_URL at the API itself. The step's result is unchanged.`;
  return `${said.replace(/[^.]$/, '$&.')} The step's result is unchanged.`;
}

/** Posts (or updates) the plan on the pull request when the inputs ask for it; never throws. `stop`: the run's deadline and cancel. */
export async function postPlan(markdown: string, settings: Settings, env: NodeJS.ProcessEnv, stop: AbortSignal): Promise<void> {
  if (!settings.pullRequestComment) return;
  const run = githubRun(env);
  if (!EVENTS.includes(run.eventName)) {
    notice(`pull-request-comment is true, but this run is a ${q(run.eventName || 'unknown')} event: only pull_request and pull_request_target runs have a pull request to comment on. Ignored; the plan is in the plan output.`, 'No pull request to comment on');
    return;
  }
  try {
    const where = await whereToComment(run, settings.githubToken);
    const marker = commentMarker(run, settings);
    const signal = stop.aborted ? AbortSignal.timeout(STOPPED_GRACE_MS) : AbortSignal.any([stop, AbortSignal.timeout(COMMENT_TIMEOUT_MS)]);
    info(await upsert(where, settings.githubToken, run.apiUrl, `${marker}\n${markdown}`, marker, signal));
  } catch (error) {
    warning(`Could not post the plan on the pull request: ${failure(error)}`, 'Plan not posted on the pull request');
  }
}
