// Every input, listing and loop is bounded (SECURITY.md, "Bounds"): overlong list inputs are
// refused before any request; a query over more than 10,000 scale sets stops listing and fails
// before any write, in bounded memory; list answers no ARM sends (oversized pages, next links
// that loop or never end) are refused; a scale set listed twice is one target.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Emulator } from '../../emulator/server.ts';
import { SUB, withEmulator } from '../support/emulator.ts';
import { runAction, type ActionRun } from '../support/run-action.ts';

interface Result { scaleSet: string; changed: boolean; error?: string }
const results = (run: ActionRun) => JSON.parse(run.outputs['results'] ?? '[]') as Result[];
const errorLines = (run: ActionRun) => run.stdout.split('\n').filter((l) => l.startsWith('::error'));
const decode = (line: string) => line.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');

/**
 * A heap of 128 MB at most (a listing held whole would run out), and the child's peak resident
 * memory printed to stderr as it exits (any exit: process.exit included).
 */
const MAX_RSS = { NODE_OPTIONS: "--max-old-space-size=128 --import=data:text/javascript,process.on('exit',()=>process.stderr.write('maxrss='+process.resourceUsage().maxRSS+'\\n'))" };
const maxRssMb = (run: ActionRun) => Number(/maxrss=(\d+)/.exec(run.stderr)?.[1] ?? NaN) / 1024;

const listUrl = (em: Emulator, token: number | string) =>
  `${em.origin}/subscriptions/${SUB}/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachineScaleSets?api-version=2024-11-01&$skiptoken=${token}`;

/** A scale set as ARM lists it, in rg-prod of the default subscription. */
const listed = (name: string) => ({
  id: `/subscriptions/${SUB}/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachineScaleSets/${name}`,
  name,
  type: 'Microsoft.Compute/virtualMachineScaleSets',
  location: 'westeurope',
  tags: { role: 'web' },
  properties: { provisioningState: 'Succeeded', orchestrationMode: 'Uniform' },
});

const page = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => listed(`${prefix}-${i}`));
const fleetQuery = { 'resource-group': 'rg-prod', 'vmss-name': 'web-*', 'identity-type': 'SystemAssigned' };

describe('input bounds: refused before any request', { concurrency: 3 }, () => {
  it('10,000 names in vmss-name: one short error naming the input, the count, the limit and what to do', () =>
    withEmulator({}, async (em) => {
      const names = Array.from({ length: 10_000 }, (_, i) => `v${i}`);
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': names.join('\n'), 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 1, run.stdout);
      const [line = '', ...more] = errorLines(run);
      assert.equal(more.length, 0, run.stdout);
      assert.ok(line.length < 4096, `error line is ${line.length} characters`);
      assert.equal(decode(line), "::error::Input 'vmss-name': has 10000 entries ('v0', 'v1', 'v2', …); one step takes at most 2000. Choose the scale sets with a pattern (such as web-*) or vmss-tags, or split the list over several steps (or a matrix of jobs).");
      assert.ok(!run.stdout.includes('v3,') && !/\bv9999\b/.test(run.stdout), 'only the first few names are echoed');
      assert.deepEqual(em.log.entries, [], 'no request to GitHub, Entra ID or ARM');
      assert.equal(em.log.of('github').length, 0, 'the GitHub token service got no request');
      assert.ok(run.durationMs < 5000, `took ${run.durationMs} ms`);
    }));

  it('151 user-assigned identities: refused with ARM\'s limit of 150 a request', () =>
    withEmulator({}, async (em) => {
      const ids = Array.from({ length: 151 }, (_, i) => `id-${String(i).padStart(3, '0')}`);
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'identity-type': 'UserAssigned', 'user-assigned-ids': ids.join(',') });
      assert.equal(run.code, 1, run.stdout);
      const [line = ''] = errorLines(run);
      assert.match(decode(line), /^::error::Input 'user-assigned-ids': has 151 entries \('id-000', 'id-001', 'id-002', …\); one step takes at most 150\. ARM refuses a request that assigns more .*Split the identities over several steps with operation assign/);
      assert.deepEqual(em.log.entries, [], 'no request to GitHub, Entra ID or ARM');
    }));

  it('2,000 names and 150 identities are accepted: the step goes on to sign in', () =>
    withEmulator({}, async (em) => {
      const names = Array.from({ length: 2000 }, (_, i) => `v${i}`);
      const ids = Array.from({ length: 150 }, (_, i) => `id-${String(i).padStart(3, '0')}`);
      // Without the id-token permission the step stops at sign-in: past every input check.
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': names.join('\n'), 'identity-type': 'UserAssigned', 'user-assigned-ids': ids.join('\n') }, { env: { ACTIONS_ID_TOKEN_REQUEST_URL: undefined } });
      assert.equal(run.code, 1);
      assert.match(decode(errorLines(run)[0] ?? ''), /GitHub did not give this job an OIDC token request URL/);
      assert.equal(results(run).length, 2000);
    }));
});

describe('query bounds', { concurrency: 2 }, () => {
  it('a query matching more than 10,000 scale sets: stops listing, fails before any write, in bounded memory, in seconds', () =>
    withEmulator({ budgets: 'off' }, async (em) => {
      // An endless listing of full pages (1,000 scale sets each, all matching).
      let pages = 0;
      em.controls.fault({ route: 'arm.vmss.list', times: Infinity, action: { kind: 'rewrite', body: () => ({ value: page(`web-p${pages}`, 1000), nextLink: listUrl(em, ++pages) }) } });
      const run = await runAction(em, { ...fleetQuery, 'timeout-seconds': '60' }, { env: MAX_RSS });
      assert.equal(run.code, 1, run.stdout.slice(-3000));
      const [line = '', ...more] = errorLines(run);
      assert.equal(more.length, 0, run.stdout.slice(-3000));
      assert.match(decode(line), /The query matches more than 10000 scale sets in subscription [0-9a-f-]+; one step changes at most 10000, so the listing stopped there and nothing was written to Azure\. Narrow the query \(vmss-tags, resource-group, or a vmss-name pattern\), or fan out over a matrix of jobs/);
      assert.equal(em.log.of('arm.vmss.list').length, 11, 'listing stopped on the page that passed the cap');
      assert.equal(em.log.writes().length, 0, 'no write');
      assert.equal(em.log.of('arm.vmss.get').length, 0, 'no scale set read one by one');
      assert.ok(run.durationMs < 15_000, `took ${run.durationMs} ms`);
      const rss = maxRssMb(run);
      assert.ok(rss < 250, `peak memory ${rss.toFixed(0)} MB`);
      process.stdout.write(`# over the cap: ${run.durationMs} ms, peak RSS ${rss.toFixed(0)} MB, ${em.log.of('arm.vmss.list').length} pages\n`);
    }));

  it('10,001 scale sets seeded in one resource group, listed 1,000 a page: the same error, no write', () =>
    withEmulator({ budgets: 'off', pageSize: 1000, edit: (seed) => {
      for (let i = 0; i <= 10_000; i++) seed.scaleSets?.push({ subscriptionId: SUB, resourceGroup: 'rg-prod', name: `web-${i}` });
    } }, async (em) => {
      const run = await runAction(em, { ...fleetQuery, 'timeout-seconds': '60' });
      assert.equal(run.code, 1, run.stdout.slice(-3000));
      assert.match(decode(errorLines(run)[0] ?? ''), /The query matches more than 10000 scale sets/);
      assert.equal(em.log.writes().length, 0, 'no write');
      assert.equal(em.log.of('arm.vmss.get').length, 0);
      assert.ok(run.durationMs < 15_000, `took ${run.durationMs} ms`);
    }));
});

describe('list answers no ARM sends', { concurrency: 4 }, () => {
  it('a page of 1,001 scale sets is refused as invalid, none of it used', () =>
    withEmulator({}, async (em) => {
      em.controls.fault({ route: 'arm.vmss.list', action: { kind: 'rewrite', body: () => ({ value: page('web', 1001) }) } });
      const run = await runAction(em, fleetQuery);
      assert.equal(run.code, 1, run.stdout);
      assert.match(decode(errorLines(run)[0] ?? ''), /Could not list the scale sets of \/subscriptions\/[0-9a-f-]+\/resourceGroups\/rg-prod: a list answer held 1001 scale sets on one page, and ARM sends at most 1000: not a valid answer, none of it was used/);
      assert.equal(em.log.of('arm.vmss.get').length, 0, 'none of the listed scale sets was read');
      assert.equal(em.log.writes().length, 0);
    }));

  it('a page of 128 MB is refused as it arrives, in a 256 MB heap: the step fails with its outputs, no write, in seconds', () =>
    withEmulator({}, async (em) => {
      // 1,000 scale sets (ARM's most a page), each with a 128 KB tag: far more than any real page.
      const pad = 'x'.repeat(128 * 1024);
      const huge = JSON.stringify({ value: page('web', 1000).map((s) => ({ ...s, tags: { ...s.tags, pad } })) });
      em.controls.fault({ route: 'arm.vmss.list', action: { kind: 'rewrite', body: () => huge } });
      const run = await runAction(em, fleetQuery, { env: { NODE_OPTIONS: MAX_RSS.NODE_OPTIONS.replace('=128 ', '=256 ') } });
      assert.equal(run.code, 1, `exit code ${run.code}; ${run.stderr.slice(-2000)}`);
      const [line = '', ...more] = errorLines(run);
      assert.equal(more.length, 0, run.stdout.slice(-3000));
      assert.match(decode(line), /Could not list the scale sets of \/subscriptions\/[0-9a-f-]+\/resourceGroups\/rg-prod: Azure answered with more than 64 MB, and ARM's largest answers \(a list page of at most 1000 scale sets\) are far smaller: not a valid answer, the action read no further and used none of it/);
      assert.ok(run.outputs['results'] !== undefined && run.outputs['changed'] === 'false', `outputs: ${JSON.stringify(run.outputs).slice(0, 500)}`);
      assert.equal(em.log.of('arm.vmss.list').length, 1, 'the page was asked for once');
      assert.equal(em.log.of('arm.vmss.get').length, 0, 'none of the listed scale sets was read');
      assert.equal(em.log.writes().length, 0, 'no write');
      assert.ok(run.durationMs < 10_000, `took ${run.durationMs} ms`);
      const rss = maxRssMb(run);
      process.stdout.write(`# 128 MB page: ${run.durationMs} ms, peak RSS ${rss.toFixed(0)} MB\n`);
    }));

  it("a scale set's GET of 128 MB is refused as it arrives, in a 256 MB heap: that scale set fails, outputs written, no write", () =>
    withEmulator({}, async (em) => {
      const huge = JSON.stringify({ id: '/x', tags: { pad: 'x'.repeat(128 * 1024 * 1024) } });
      em.controls.fault({ route: 'arm.vmss.get', times: Infinity, action: { kind: 'rewrite', body: () => huge } });
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'identity-type': 'SystemAssigned' }, { env: { NODE_OPTIONS: MAX_RSS.NODE_OPTIONS.replace('=128 ', '=256 ') } });
      assert.equal(run.code, 1, `exit code ${run.code}; ${run.stderr.slice(-2000)}`);
      assert.match(decode(errorLines(run)[0] ?? ''), /Azure answered with more than 64 MB/);
      assert.equal(run.outputs['changed'], 'false');
      assert.equal(em.log.writes().length, 0, 'no write');
      assert.ok(run.durationMs < 15_000, `took ${run.durationMs} ms`);
    }));

  it('a cloud metadata document of 2 MB is refused as it arrives: no sign-in, outputs written', () =>
    withEmulator({}, async (em) => {
      const huge = JSON.stringify([{ name: 'x'.repeat(2 * 1024 * 1024) }]);
      em.controls.fault({ route: 'arm.metadata', times: Infinity, action: { kind: 'rewrite', body: () => huge } });
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 1);
      assert.match(decode(errorLines(run)[0] ?? ''), /Could not read the cloud metadata at .*Azure answered with more than 1 MB, and cloud metadata documents \(a few KB\) are far smaller/);
      assert.equal(run.outputs['changed'], 'false');
      assert.deepEqual(em.log.arrived('entra'), [], 'no sign-in was attempted');
    }));

  it('a next link back to a page already read ends the listing with an error', () =>
    withEmulator({}, async (em) => {
      em.controls.fault({ route: 'arm.vmss.list', times: Infinity, action: { kind: 'rewrite', body: () => ({ value: [], nextLink: listUrl(em, 'again') }) } });
      const run = await runAction(em, { ...fleetQuery, 'timeout-seconds': '30' });
      assert.equal(run.code, 1, run.stdout);
      assert.match(decode(errorLines(run)[0] ?? ''), /a list answer's next page \(.*skiptoken=again\) is one this listing already read: the listing would never end/);
      assert.equal(em.log.of('arm.vmss.list').length, 2, 'the first page and the looping one');
      assert.equal(em.log.writes().length, 0);
    }));

  it('a listing that never ends stops after 1,000 pages', () =>
    withEmulator({ budgets: 'off' }, async (em) => {
      let pages = 0;
      em.controls.fault({ route: 'arm.vmss.list', times: Infinity, action: { kind: 'rewrite', body: () => ({ value: [], nextLink: listUrl(em, ++pages) }) } });
      const run = await runAction(em, { ...fleetQuery, 'timeout-seconds': '120' });
      assert.equal(run.code, 1, run.stdout);
      assert.match(decode(errorLines(run)[0] ?? ''), /the listing did not end after 1000 pages; the action reads no more of it/);
      assert.equal(em.log.of('arm.vmss.list').length, 1000);
      process.stdout.write(`# 1,000 empty pages: ${run.durationMs} ms\n`);
    }));

  it('a scale set listed twice (its id in another case, and again on the next page) is one target, written once', () =>
    withEmulator({}, async (em) => {
      type Page = { value: { id: string; name: string }[] };
      const only = (body: unknown) => (body as Page).value.filter((v) => v.name === 'vmss-web');
      const shout = (v: { id: string }) => ({ ...v, id: v.id.replace('/resourceGroups/rg-prod/', '/RESOURCEGROUPS/RG-PROD/').replace('vmss-web', 'VMSS-WEB') });
      em.controls.fault({ route: 'arm.vmss.list', action: { kind: 'rewrite', body: (body) => ({ value: [...only(body), ...only(body).map(shout)], nextLink: listUrl(em, 2) }) } });
      em.controls.fault({ route: 'arm.vmss.list', skip: 1, action: { kind: 'rewrite', body: (body) => ({ value: only(body) }) } });
      const run = await runAction(em, { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-w*', 'identity-type': 'SystemAssigned' });
      assert.equal(run.code, 0, run.stdout);
      assert.equal(results(run).length, 1, run.outputs['results']);
      assert.match(run.stdout, /1 of 1 scale sets match/);
      assert.equal(em.log.of('arm.vmss.list').length, 2, 'both pages read');
      assert.equal(em.log.of('arm.vmss.patch').length, 1, 'written once');
    }));
});
