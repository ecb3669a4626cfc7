// `npm run demo`: the bundled action (dist/index.js) against the local emulator, step by step,
// the way a workflow would run it. Prints each step's log, outputs and job summary.
import { start } from '../emulator/server.ts';
import { defaultSeed } from '../emulator/testing.ts';
import { runAction } from '../__tests__/support/run-action.ts';

interface DemoStep { title: string; inputs: Record<string, string>; proxy?: boolean; fails?: boolean }


const steps: DemoStep[] = [
  { title: 'Show the identity of vmss-api', inputs: { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-api', operation: 'show' } },
  { title: 'Enable the system-assigned identity on vmss-web and add id-logs', inputs: { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'identity-type': 'SystemAssigned, UserAssigned', 'user-assigned-ids': 'id-logs' } },
  { title: 'Run the same step again: nothing to change', inputs: { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'identity-type': 'SystemAssigned, UserAssigned', 'user-assigned-ids': 'id-logs' } },
  { title: 'Dry run: what would set UserAssigned [id-app] do to vmss-api? (set removes: each removal that cannot be undone is a warning)', inputs: { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-api', operation: 'set', 'identity-type': 'UserAssigned', 'user-assigned-ids': 'id-app', 'dry-run': 'true' } },
  { title: 'Remove the system-assigned identity from vmss-api, keep the user-assigned one', inputs: { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-api', operation: 'remove', 'identity-type': 'SystemAssigned' } },
  { title: 'A mistake: SystemAssigned on a Flexible scale set (fails before writing)', inputs: { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-flex', 'identity-type': 'SystemAssigned' }, fails: true },
  {
    title: 'As a workflow configures it: no endpoint inputs, only HTTPS_PROXY and NODE_EXTRA_CA_CERTS (management.azure.com through the proxy)',
    inputs: { operation: 'assign', 'resource-group': 'rg-prod', 'vmss-name': 'vmss-flex', 'identity-type': 'UserAssigned', 'user-assigned-ids': 'id-logs' },
    proxy: true,
  },
];

const text = (html: string) => html.replace(/<br>/g, '\n    ').replace(/<\/(h\d|tr|li|p)>/g, '\n').replace(/<th>|<td>/g, ' | ').replace(/<[^>]+>/g, '').replace(/&gt;/g, '>').replace(/&lt;/g, '<').replace(/&amp;/g, '&').replace(/\n{2,}/g, '\n').trim();
const log = (stdout: string) => stdout.split('\n').filter((l) => l && !l.startsWith('::add-mask::') && !l.startsWith('::debug::') && !l.startsWith('::group::') && !l.startsWith('::endgroup::'));

const emulator = await start({ seed: defaultSeed(), updateDurationMs: 2000 });
process.stdout.write(`Emulator of GitHub OIDC, Entra ID and ARM on ${emulator.origin}; Azure updates take 2 s here.\n`);
let n = 0;
const unexpected: string[] = [];
for (const step of steps) {
  emulator.log.clear();
  const run = step.proxy
    ? await runAction(emulator, step.inputs, { withoutEndpoint: true, env: { HTTPS_PROXY: emulator.urls.proxy, NODE_EXTRA_CA_CERTS: emulator.caPath, NO_PROXY: '127.0.0.1' } })
    : await runAction(emulator, step.inputs);
  const requests = emulator.log.entries.map((e) => (e.via === 'proxy' ? `${e.route}@${e.host}` : e.route)).join(', ');
  process.stdout.write([
    '',
    `━━ ${++n}. ${step.title}`,
    `   with: ${Object.entries(step.inputs).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}`,
    `   exit ${run.code} in ${(run.durationMs / 1000).toFixed(1)} s; requests: ${requests || 'none'}`,
    ...log(run.stdout).map((l) => `   log │ ${l}`),
    ...Object.entries(run.outputs).filter(([k]) => k !== 'results').map(([k, v]) => `   out │ ${k} = ${v}`),
    ...(run.summary ? text(run.summary).split('\n').map((l) => `   sum │ ${l}`) : []),
    '',
  ].join('\n'));
  if ((run.code === 0) === Boolean(step.fails)) unexpected.push(`${n}. ${step.title} (exit ${run.code})`);
}
await emulator.stop();
if (unexpected.length) {
  process.stderr.write(`These steps did not end as the demo expects:\n${unexpected.join('\n')}\n`);
  process.exit(1);
}
