// The pure pieces of a fleet's report: names that tell twins apart, the totals, the done line
// and the plan's markdown (bounded, and inert whatever Azure or the inputs put in it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { doneLine } from '../../src/changes.ts';
import { displayNames, labelTargets } from '../../src/display-names.ts';
import { plan } from '../../src/plan.ts';
import { md, PLAN_LIMIT, planMarkdown } from '../../src/plan-markdown.ts';
import { newResult, type TargetResult } from '../../src/result.ts';
import type { Settings } from '../../src/settings.ts';
import { totals, totalsLine } from '../../src/totals.ts';

const S1 = '0b1f6471-1bf0-4dda-aec3-cb9272f09590';
const S2 = '1a2b3c4d-0001-4e5f-8a9b-000000000001';
const S3 = '1a2b3c4d-0002-4e5f-8a9b-000000000002';
const vmss = (sub: string, rg: string, name: string) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/virtualMachineScaleSets/${name}`;
const uai = (sub: string, rg: string, name: string) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;

const settings = (over: Partial<Settings> = {}): Settings => ({
  signIn: { kind: 'azure-cli' }, cloud: { kind: 'builtin', name: 'AzureCloud' }, targets: [], allowNoMatch: false, removeMissingIdentities: false,
  operation: 'assign', userAssignedIds: [], dryRun: false, timeoutSeconds: 900, maxParallel: 50, roleAssignments: [], removeLegacyExtension: false, permissionCheck: 'error', pullRequestComment: false, githubToken: '', ...over,
});

function result(id: string, over: Partial<TargetResult> = {}): TargetResult {
  const [, , subscriptionId = '', , resourceGroup = '', , , , name = ''] = id.split('/');
  return { ...newResult({ subscriptionId, resourceGroup, name }), id, ...over };
}

describe('display names', () => {
  it('bare when unique, rg/name across resource groups, sub/rg/name across subscriptions (8 characters when enough)', () => {
    const ids = [vmss(S1, 'rg-prod', 'vmss-web'), vmss(S2, 'rg-prod', 'vmss-web'), vmss(S1, 'rg-dev', 'vmss-web'), vmss(S1, 'rg-prod', 'vmss-api')];
    const names = displayNames(ids);
    assert.deepEqual(ids.map((id) => names.get(id.toLowerCase())), ['0b1f6471/rg-prod/vmss-web', '1a2b3c4d/rg-prod/vmss-web', 'rg-dev/vmss-web', 'vmss-api']);
  });

  it('the whole subscription id when its first 8 characters do not tell them apart', () => {
    const names = displayNames([vmss(S2, 'rg', 'web'), vmss(S3, 'rg', 'web')]);
    assert.deepEqual([...names.values()], [`${S2}/rg/web`, `${S3}/rg/web`]);
  });

  it('ids that differ only in case are one resource; identities named the same way', () => {
    const names = displayNames([uai(S1, 'rg-prod', 'id-logs'), uai(S1, 'rg-shared', 'id-logs'), uai(S1, 'RG-PROD', 'ID-LOGS'), uai(S1, 'rg-prod', 'id-app')]);
    assert.equal(names.size, 3);
    assert.deepEqual([...names.values()], ['rg-prod/id-logs', 'rg-shared/id-logs', 'id-app']);
  });

  it('labels every result once, and entries without a scale set by their id', () => {
    const results = [result(vmss(S1, 'a', 'web')), result(vmss(S1, 'b', 'web')), { ...newResult({ subscriptionId: S1, resourceGroup: '', name: '' }), id: `/subscriptions/${S1}/resourceGroups/rg-x` }];
    labelTargets(results);
    assert.deepEqual(results.map((r) => r.label), ['a/web', 'b/web', `/subscriptions/${S1}/resourceGroups/rg-x`]);
  });
});

describe('totals', () => {
  const fleet = (): TargetResult[] => [
    result(vmss(S1, 'rg', 'a'), { changed: true, write: 'completed' }),
    result(vmss(S1, 'rg', 'b'), { changed: true, roles: [{ role: 'Reader', scope: '/s', principalId: 'p', id: '/x', created: true }] }),
    result(vmss(S1, 'rg', 'c')),
    result(vmss(S1, 'rg', 'd'), { error: 'boom', warnings: ['w'] }),
  ];

  it('counts changed, unchanged, failed, roles granted and warnings; they add up to the targets', () => {
    const t = totals(fleet(), { dryRun: false });
    assert.deepEqual({ ...t }, { dryRun: false, show: false, targets: 4, changed: 2, unchanged: 1, failed: 1, failedAfterWrite: 0, roles: 1, warnings: 1 });
    assert.equal(totalsLine(t), '4 targets: 2 changed, 1 unchanged, 1 failed. 1 role assignment granted, 1 warning.');
  });

  it('a target that failed after a write Azure accepted is counted as such', () => {
    const t = totals([result(vmss(S1, 'rg', 'a'), { changed: true, write: 'accepted', error: 'Timed out' }), result(vmss(S1, 'rg', 'b'), { error: 'boom' })], { dryRun: false });
    assert.equal(t.failedAfterWrite, 1);
    assert.equal(totalsLine(t), '2 targets: 0 changed, 0 unchanged, 2 failed (1 after a write Azure accepted, which may have finished since).');
  });

  it('a dry run counts what changed says and speaks of what is to change', () => {
    const t = totals([result(vmss(S1, 'rg', 'a'), { changed: true }), result(vmss(S1, 'rg', 'b'))], { dryRun: true });
    assert.equal(totalsLine(t), '2 targets: 1 to change, 1 unchanged, 0 failed.');
    assert.equal(totalsLine(totals([result(vmss(S1, 'rg', 'a'))], { dryRun: false })), '1 target: 0 changed, 1 unchanged, 0 failed.');
    // A plan whose only write is a role assignment is a change: `changed` says so, and the role is counted.
    const rolesOnly = result(vmss(S1, 'rg', 'a'), { changed: true, roles: [{ role: 'Reader', scope: '/s', principalId: '', id: '', created: false, planned: true }] });
    assert.equal(totalsLine(totals([rolesOnly], { dryRun: true })), '1 target: 1 to change, 0 unchanged, 0 failed. 1 role assignment to grant.');
    const inPlace = result(vmss(S1, 'rg', 'a'), { roles: [{ role: 'Reader', scope: '/s', principalId: 'p', id: '/x', created: false }] });
    assert.equal(totalsLine(totals([inPlace], { dryRun: true })), '1 target: 0 to change, 1 unchanged, 0 failed.');
  });
});

describe('done line', () => {
  const before = { userAssigned: [{ id: uai(S1, 'rg-prod', 'id-logs'), principalId: 'p' }] };
  const applied = plan(before, { operation: 'set', system: true, userAssignedIds: [uai(S1, 'rg-prod', 'id-app')] }, { name: 'web' });

  it('says what changed, in words, once the writes finished', () => {
    const r = result(vmss(S1, 'rg', 'web'), { changed: true, write: 'completed', applied, removedExtensions: ['ManagedIdentityExtensionForLinux'], roles: [{ role: 'Reader', scope: '/s', principalId: 'p', id: '/x', created: true }, { role: 'Owner', scope: '/s', principalId: 'p', id: '/y', created: false }] });
    assert.equal(doneLine(r, (id) => id.split('/').pop() ?? id), "web: done: identity UserAssigned → SystemAssigned, UserAssigned: enabled the system-assigned identity, added id-app, removed id-logs; removed the retired extension ManagedIdentityExtensionForLinux; granted 'Reader' at /s.");
  });

  it('nothing for a write Azure has not finished, a failure, or no write', () => {
    const name = (id: string) => id;
    assert.equal(doneLine(result(vmss(S1, 'rg', 'web'), { changed: true, write: 'accepted', applied }), name), undefined);
    assert.equal(doneLine(result(vmss(S1, 'rg', 'web'), { changed: true, write: 'completed', applied, error: 'x' }), name), undefined);
    assert.equal(doneLine(result(vmss(S1, 'rg', 'web')), name), undefined);
  });
});

describe('plan markdown', () => {
  const hostile = 'x <img src=x onerror=alert(1)> @octocat #1 [link](https://evil.example) www.evil.example `code` **bold** | pipe\n# heading';

  it('escapes outside text: no tag, mention, reference, link or line of its own', () => {
    const text = md(hostile);
    assert.doesNotMatch(text, /<img/);
    assert.doesNotMatch(text, /@octocat/);
    assert.doesNotMatch(text, /(^|[^\\])#1/);
    assert.doesNotMatch(text, /https:\/\//);
    assert.doesNotMatch(text, /www\.evil/);
    assert.doesNotMatch(text, /\]\(/);
    assert.doesNotMatch(text, /\n/);
    const r = result(vmss(S1, 'rg', 'web'), { error: hostile, label: 'web' });
    const out = planMarkdown([r], settings(), 'https://github.com/o/r/actions/runs/1');
    assert.doesNotMatch(out, /<img|@octocat|\]\(https:\/\/evil/);
    assert.match(out, /\[The run\]\(https:\/\/github\.com\/o\/r\/actions\/runs\/1\)/);
    assert.doesNotMatch(planMarkdown([r], settings(), 'javascript:alert(1)'), /javascript/);
  });

  it('opens with the totals, lists what changes or fails, counts the unchanged, warns of removals', () => {
    const p = plan({ system: { principalId: 'p-sys' }, userAssigned: [{ id: uai(S1, 'rg-prod', 'id-logs'), principalId: 'p' }] }, { operation: 'set', system: false, userAssignedIds: [uai(S1, 'rg-shared', 'id-logs')] }, { name: 'web' });
    const results = [
      result(vmss(S1, 'rg', 'web'), { label: 'web', changed: true, plan: p, warnings: ['disabling … deletes its principal p-sys for good'], removals: ['removing id-logs …'] }),
      result(vmss(S1, 'rg', 'api'), { label: 'api' }),
      result(vmss(S1, 'rg', 'db'), { label: 'db', error: 'Azure said no.' }),
    ];
    const out = planMarkdown(results, settings({ dryRun: true, operation: 'set' }));
    assert.match(out, /^### Scale set identities: set \(dry run, nothing written\)\n\n\*\*3 targets: 1 to change, 1 unchanged, 1 failed\. 2 warnings\.\*\*/);
    assert.match(out, /- \*\*web\*\*: identity SystemAssigned, UserAssigned → UserAssigned: disable the system-assigned identity, add rg-shared/);
    assert.match(out, /remove rg-prod\/id-logs/);
    assert.match(out, /- \*\*db\*\*: failed: Azure said no\./);
    assert.doesNotMatch(out, /\*\*api\*\*/);
    assert.match(out, /1 unchanged target\(s\) not listed\./);
    assert.match(out, /⚠️ \*\*web\*\*: cannot be undone: disabling/);
    assert.match(out, /⚠️ \*\*web\*\*: identity taken away \(assign it again to undo\): removing id-logs/);
  });

  it(`stays under ${PLAN_LIMIT} characters for 10,000 failing targets, cut with a count, warnings kept`, () => {
    const results = Array.from({ length: 10_000 }, (_, i) => result(vmss(S1, 'rg', `vmss-${i}`), { label: `vmss-${i}`, error: 'e'.repeat(400), ...(i === 9_999 ? { warnings: ['last one'] } : {}) }));
    const out = planMarkdown(results, settings());
    assert.ok(out.length < PLAN_LIMIT, `${out.length} characters`);
    const shown = out.match(/^- \*\*vmss-\d+\*\*: failed/gm)?.length ?? 0;
    assert.ok(shown > 50, `${shown} shown`);
    assert.match(out, new RegExp(`- … and ${10_000 - shown} more \\(every target is in the <code>results</code> output\\)`));
    assert.match(out, /cannot be undone: last one/);
  });
});
