// The plan on the pull request (pull-request-comment, github-token, the plan output): one
// comment per step and target selection, written by github-token's own identity and updated on
// every rerun, posted through the emulator's GitHub REST API.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withEmulator } from '../support/emulator.ts';
import type { Emulator } from '../../emulator/server.ts';
import { errorLine } from '../support/outcome.ts';
import { runAction, type ActionRun, type RunOptions } from '../support/run-action.ts';

const REPO = 'octo-org/octo-repo';
const PR = 42;
const web = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web' };
const planInputs = { ...web, 'identity-type': 'SystemAssigned', 'dry-run': 'true', 'pull-request-comment': 'true' };
const pullRequest = (payload: unknown = { action: 'synchronize', number: PR, pull_request: { number: PR } }) => ({ name: 'pull_request', payload });
const runner = (step = 'plan') => ({ GITHUB_WORKFLOW: 'Identity plan', GITHUB_JOB: 'plan', GITHUB_ACTION: step, GITHUB_SERVER_URL: 'https://github.com', GITHUB_RUN_ID: '4711', GITHUB_RUN_ATTEMPT: '1' });
/** The marker's first line; its digest of the target selection is the action's to compute, so tests only compare them. */
const marker = (step = 'plan') => new RegExp(`^<!-- vmss-identity-action plan: workflow=Identity%20plan job=plan step=${step} targets=[0-9a-f]{12} -->$`);
const firstLine = (body: string) => body.split('\n')[0] ?? '';
const marked = (em: Emulator, step = 'plan') => comments(em).filter((c) => marker(step).test(firstLine(c.body)));

const onPr = (em: Emulator, inputs: Record<string, string>, step = 'plan', options: RunOptions = {}): Promise<ActionRun> =>
  runAction(em, inputs, { event: pullRequest(), ...options, env: { ...runner(step), ...options.env } });
const comments = (em: Emulator) => em.githubApi.on(REPO, PR);
const apiCalls = (em: Emulator) => em.log.entries.filter((e) => e.route.startsWith('github.api.')).map((e) => `${e.route} ${e.status}`);
const annotations = (run: ActionRun, kind: 'warning' | 'notice') => run.stdout.split('\n').filter((l) => l.startsWith(`::${kind} `) || l.startsWith(`::${kind}::`));

describe('the plan on the pull request', { concurrency: 4 }, () => {
  it('a pull_request run posts one comment: the marker, then the plan output exactly', () =>
    withEmulator({}, async (em) => {
      assert.ok(em.issuedTokens().includes(em.githubApi.writeToken), 'the leak check covers the GitHub token');
      const run = await onPr(em, planInputs);
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(apiCalls(em), ['github.api.comments.list 200', 'github.api.comments.create 201']);
      const [comment, ...more] = comments(em);
      assert.equal(more.length, 0);
      assert.ok(comment);
      assert.match(firstLine(comment.body), marker());
      assert.equal(comment.body, `${firstLine(comment.body)}\n${run.outputs['plan']}`);
      assert.deepEqual(comment.user, { login: 'github-actions[bot]', type: 'Bot' });
      assert.match(run.outputs['plan'] ?? '', /^### Scale set identities: assign \(dry run, nothing written\)$/m);
      assert.match(comment.body, /\*\*vmss-web\*\*: identity None → SystemAssigned: enable the system-assigned identity/);
      assert.match(comment.body, /\[The run\]\(https:\/\/github\.com\/octo-org\/octo-repo\/actions\/runs\/4711\)/);
      assert.match(run.stdout, /Posted the plan as a comment on pull request #42\./);
      assert.equal(em.state.findScaleSet(em.env['AZURE_SUBSCRIPTION_ID'] ?? '', 'rg-prod', 'vmss-web')?.identity.system, undefined, 'a dry run writes nothing');
    }));

  it('a rerun updates the same comment, found past the first page; another step gets its own; others are left alone', () =>
    withEmulator({}, async (em) => {
      for (let i = 0; i < 120; i++) em.githubApi.add(REPO, PR, `review comment ${i}`);
      const first = await onPr(em, planInputs);
      assert.equal(first.code, 0, first.stdout);
      const mine = marked(em);
      assert.equal(mine.length, 1);
      em.log.clear();
      const real = await onPr(em, { ...planInputs, 'dry-run': 'false' });
      assert.equal(real.code, 0, real.stdout);
      // GET /user once, as a marked comment was found: the job's token is refused there, so its comments are a bot's.
      assert.deepEqual(apiCalls(em), ['github.api.comments.list 200', 'github.api.comments.list 200', 'github.api.user 403', 'github.api.comment.update 200']);
      const after = marked(em);
      assert.equal(after.length, 1, 'still one comment');
      assert.equal(after[0]?.id, mine[0]?.id);
      assert.equal(after[0]?.body, `${firstLine(mine[0]?.body ?? '')}\n${real.outputs['plan']}`);
      assert.doesNotMatch(after[0]?.body ?? '', /dry run/);
      assert.match(after[0]?.body ?? '', /\*\*vmss-web\*\*: identity None → SystemAssigned: enabled the system-assigned identity/);
      assert.match(real.stdout, /Updated the plan's comment on pull request #42\./);

      const other = await onPr(em, planInputs, 'plan-2');
      assert.equal(other.code, 0, other.stdout);
      assert.equal(marked(em, 'plan-2').length, 1);
      await onPr(em, planInputs, 'plan-2');
      const ours = comments(em).filter((c) => c.body.startsWith('<!-- vmss-identity-action'));
      assert.equal(ours.length, 2);
      assert.match(firstLine(ours[0]?.body ?? ''), marker());
      assert.match(firstLine(ours[1]?.body ?? ''), marker('plan-2'));
      assert.equal(comments(em).length, 122);
      assert.ok(comments(em).slice(0, 120).every((c, i) => c.body === `review comment ${i}`));
    }));

  it('a comment by someone else that starts with the marker is left alone: the step posts its own and updates only that', () =>
    withEmulator({}, async (em) => {
      // The marker as a run on pull request #1 writes it: anyone who can read a thread can copy it.
      const probe = await onPr(em, planInputs, 'plan', { event: pullRequest({ number: 1, pull_request: { number: 1 } }) });
      assert.equal(probe.code, 0, probe.stdout);
      const copied = firstLine(em.githubApi.on(REPO, 1)[0]?.body ?? '');
      assert.match(copied, marker());
      const bait = `${copied}\n### Scale set identities: nothing to change, approve away`;
      const mallory = em.githubApi.add(REPO, PR, bait, { login: 'mallory', type: 'User' });
      em.log.clear();
      const run = await onPr(em, planInputs);
      assert.equal(run.code, 0, run.stdout);
      assert.equal(mallory.body, bait, 'her comment is not edited');
      assert.deepEqual(apiCalls(em), ['github.api.comments.list 200', 'github.api.user 403', 'github.api.comments.create 201']);
      const [hers, mine, ...more] = marked(em);
      assert.equal(more.length, 0);
      assert.equal(hers?.id, mallory.id);
      assert.deepEqual(mine?.user, { login: 'github-actions[bot]', type: 'Bot' });
      assert.equal(mine?.body, `${copied}\n${run.outputs['plan']}`);
      const notices = annotations(run, 'notice');
      assert.equal(notices.length, 1);
      assert.match(notices[0] ?? '', new RegExp(`title=Plan marker copied on the pull request::.*comment ${mallory.id} by 'mallory'.*left alone`));
      assert.doesNotMatch(run.stdout, /approve away/, 'her text is not echoed');

      em.log.clear();
      const rerun = await onPr(em, { ...planInputs, 'dry-run': 'false' });
      assert.equal(rerun.code, 0, rerun.stdout);
      assert.deepEqual(apiCalls(em), ['github.api.comments.list 200', 'github.api.user 403', 'github.api.comment.update 200']);
      assert.equal(mallory.body, bait);
      assert.deepEqual(marked(em).map((c) => c.id), [mallory.id, mine?.id]);
      assert.equal(marked(em)[1]?.body, `${copied}\n${rerun.outputs['plan']}`);
    }));

  it("a person's token (GET /user names them) updates only the comment that person wrote", () =>
    withEmulator({}, async (em) => {
      const byJob = await onPr(em, planInputs);
      assert.equal(byJob.code, 0, byJob.stdout);
      const [bots] = marked(em);
      const botsBody = bots?.body;
      em.log.clear();
      const pat = { ...planInputs, 'github-token': em.githubApi.userToken };
      const first = await onPr(em, { ...pat, 'dry-run': 'false' });
      assert.equal(first.code, 0, first.stdout);
      assert.equal(bots?.body, botsBody, "github-actions[bot]'s comment is not the person's");
      assert.deepEqual(apiCalls(em), ['github.api.comments.list 200', 'github.api.user 200', 'github.api.comments.create 201']);
      em.log.clear();
      const again = await onPr(em, pat);
      assert.equal(again.code, 0, again.stdout);
      assert.deepEqual(apiCalls(em), ['github.api.comments.list 200', 'github.api.user 200', 'github.api.comment.update 200']);
      const [bot, person, ...more] = marked(em);
      assert.equal(more.length, 0);
      assert.equal(bot?.body, botsBody, "github-actions[bot]'s comment is not the person's");
      assert.deepEqual(person?.user, { login: 'octo-maintainer', type: 'User' });
      assert.equal(person?.body, `${firstLine(bot?.body ?? '')}\n${again.outputs['plan']}`);
    }));

  it('matrix legs (same workflow, job and step) that configure different scale sets keep a comment each; a rerun updates its own', () =>
    withEmulator({}, async (em) => {
      const worker = { ...planInputs, 'vmss-name': 'vmss-worker' };
      for (const inputs of [planInputs, worker]) assert.equal((await onPr(em, inputs)).code, 0);
      const [web, workers, ...more] = marked(em);
      assert.deepEqual([Boolean(web && workers), more.length], [true, 0], 'two legs, two comments');
      assert.notEqual(firstLine(web?.body ?? ''), firstLine(workers?.body ?? ''));
      assert.match(web?.body ?? '', /\*\*vmss-web\*\*/);
      assert.match(workers?.body ?? '', /\*\*vmss-worker\*\*/);

      em.log.clear();
      const webAgain = await onPr(em, { ...planInputs, 'dry-run': 'false' });
      const workerAgain = await onPr(em, { ...worker, 'dry-run': 'false' });
      assert.deepEqual([webAgain.code, workerAgain.code], [0, 0]);
      const update = ['github.api.comments.list 200', 'github.api.user 403', 'github.api.comment.update 200'];
      assert.deepEqual(apiCalls(em), [...update, ...update]);
      const after = marked(em);
      assert.deepEqual(after.map((c) => c.id), [web?.id, workers?.id]);
      assert.equal(after[0]?.body, `${firstLine(web?.body ?? '')}\n${webAgain.outputs['plan']}`);
      assert.equal(after[1]?.body, `${firstLine(workers?.body ?? '')}\n${workerAgain.outputs['plan']}`);
      assert.doesNotMatch(after[0]?.body ?? '', /vmss-worker/);
    }));

  it('a failing step still posts its plan, with the failure', () =>
    withEmulator({}, async (em) => {
      const run = await onPr(em, { ...planInputs, 'dry-run': 'false', 'vmss-name': 'vmss-web, vmss-nope' });
      assert.equal(run.code, 1);
      const [comment] = comments(em);
      assert.match(firstLine(comment?.body ?? ''), marker());
      assert.equal(comment?.body, `${firstLine(comment?.body ?? '')}\n${run.outputs['plan']}`);
      assert.match(comment?.body ?? '', /\*\*vmss-nope\*\*: failed: The scale set &#39;vmss-nope&#39; in resource group &#39;rg-prod&#39; \\\(subscription [-0-9a-f]+\\\) was not found/);
    }));

  it("Azure's words in the comment are text: no mention, markup or link of theirs survives", () =>
    withEmulator({}, async (em) => {
      const hostile = 'Denied. @octo-org/admins <img src=x onerror=alert(1)> [click](https://evil.example) **now**';
      em.controls.fault({ route: 'arm.vmss.get', times: Infinity, action: { kind: 'status', status: 400, code: 'InvalidParameter', message: hostile } });
      const run = await onPr(em, { ...planInputs, 'dry-run': 'false' });
      assert.equal(run.code, 1);
      const body = comments(em)[0]?.body ?? '';
      assert.match(body, /failed: .*Denied\. @\u2060octo-org\/admins &lt;img src=x onerror=alert\\\(1\\\)&gt; \\\[click\\\]\\\(https:\u2060\/\/evil\.example\\\) \\\*\\\*now\\\*\\\*/);
      assert.doesNotMatch(body, /@octo-org|<img|\]\(https:\/\/evil|\*\*now/);
    }));

  it('a token that may not comment (a fork): a warning naming pull-requests: write, and the step succeeds', () =>
    withEmulator({}, async (em) => {
      const run = await onPr(em, { ...planInputs, 'github-token': em.githubApi.readOnlyToken });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(apiCalls(em), ['github.api.comments.list 200', 'github.api.comments.create 403']);
      assert.equal(comments(em).length, 0);
      const [warning, ...more] = annotations(run, 'warning');
      assert.equal(more.length, 0);
      assert.match(warning ?? '', /title=Plan not posted on the pull request::Could not post the plan on the pull request: The token may not comment on this pull request \(HTTP 403: Resource not accessible by integration/);
      assert.match(warning ?? '', /`pull-requests: write`/);
      assert.ok(run.outputs['plan'], 'the plan output is still written');
    }));

  it('a redirect from the API is not followed: the token goes nowhere else, and a warning says so', () =>
    withEmulator({}, async (em) => {
      // Followed, it would list (and, finding no comment, create one on) issue 1.
      em.controls.fault({ route: 'github.api.comments.list', action: { kind: 'status', status: 302, headers: { location: `${em.origin}/repos/${REPO}/issues/1/comments` } } });
      const run = await onPr(em, planInputs);
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(apiCalls(em), ['github.api.comments.list 302']);
      assert.equal(em.githubApi.comments.length, 0);
      assert.match(annotations(run, 'warning')[0] ?? '', /Could not post the plan on the pull request: GITHUB_API_URL answered with a redirect \(unexpected redirect\), which is not followed/);
    }));

  it("an API that never answers: the step's deadline ends the comment, with a warning, and the step still succeeds", () =>
    withEmulator({}, async (em) => {
      em.controls.fault({ route: 'github.api.comments.list', action: { kind: 'hold', until: () => false, maxMs: 60_000 } });
      const run = await onPr(em, { ...planInputs, 'timeout-seconds': '10' });
      assert.equal(run.code, 0, run.stdout);
      assert.ok(run.durationMs < 20_000, `ended after ${run.durationMs} ms`);
      assert.match(annotations(run, 'warning')[0] ?? '', /GitHub's API did not answer in time/);
      assert.equal(em.githubApi.comments.length, 0);
    }));

  it('a push run: the input is ignored with a notice, and GitHub is not asked', () =>
    withEmulator({}, async (em) => {
      const run = await runAction(em, planInputs, { event: { name: 'push', payload: { ref: 'refs/heads/main' } }, env: runner() });
      assert.equal(run.code, 0, run.stdout);
      assert.deepEqual(apiCalls(em), []);
      assert.equal(em.log.entries.filter((e) => e.service === 'github' && e.route !== 'github.token').length, 0);
      const [notice] = annotations(run, 'notice');
      assert.match(notice ?? '', /pull-request-comment is true, but this run is a 'push' event/);
      assert.match(run.outputs['plan'] ?? '', /enable the system-assigned identity/);
    }));

  it('an event payload without a usable pull request number: a warning, and GitHub is not asked', () =>
    withEmulator({}, async (em) => {
      const huge = `{"pull_request":{"number":42},"pad":"${' '.repeat(5 * 1024 * 1024)}"}`;
      for (const [payload, why] of [[{ pull_request: { number: '42' } }, /names no pull request number/], [{ pull_request: { number: -1 } }, /names no pull request number/], ['not json', /could not be read/], [huge, /is 5242\d+ bytes; at most 4194304 are read/]] as const) {
        em.log.clear();
        const run = await onPr(em, planInputs, 'plan', { event: pullRequest(payload) });
        assert.equal(run.code, 0, run.stdout);
        assert.deepEqual(apiCalls(em), []);
        assert.match(annotations(run, 'warning')[0] ?? '', /Could not post the plan on the pull request/);
        assert.match(annotations(run, 'warning')[0] ?? '', why);
      }
    }));

  it('a github-token refused as input is never echoed', () =>
    withEmulator({}, async (em) => {
      // runAction fails the test if any part of the token reaches the log, outputs or summary.
      const run = await onPr(em, { ...planInputs, 'github-token': `${em.githubApi.writeToken}\u001b[0m` });
      assert.equal(run.code, 1);
      assert.match(errorLine(run), /Input 'github-token': The value \(not shown: it is a secret\) contains a control character/);
      assert.equal(em.log.entries.length, 0);
    }));

  it('a pull-request-comment that is not true or false is an input error, before any request', () =>
    withEmulator({}, async (em) => {
      const run = await onPr(em, { ...planInputs, 'pull-request-comment': 'yes' });
      assert.equal(run.code, 1);
      assert.match(errorLine(run), /Input 'pull-request-comment': 'yes' is not a boolean\. Use true or false\./);
      assert.equal(em.log.entries.length, 0);
      assert.equal(run.outputs['plan'], '');
    }));
});
