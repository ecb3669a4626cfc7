// `npm run emulator`: start the emulator and print the environment that points clients at it.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { start } from './server.ts';
import type { Seed } from './state.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    seed: { type: 'string', default: new URL('./seed.json', import.meta.url).pathname },
    'update-seconds': { type: 'string', default: '4' },
    'latency-ms': { type: 'string', default: '0' },
    'random-seed': { type: 'string' },
  },
});

const seed = JSON.parse(readFileSync(values.seed, 'utf8')) as Seed;
const emulator = await start({
  port: Number(values.port),
  seed,
  updateDurationMs: Number(values['update-seconds']) * 1000,
  latencyMs: Number(values['latency-ms']),
  ...(values['random-seed'] !== undefined ? { randomSeed: Number(values['random-seed']) } : {}),
});

const env = { ...emulator.env, HTTPS_PROXY: emulator.urls.proxy, NO_PROXY: '127.0.0.1,localhost' };
const lines = Object.entries(env).map(([k, v]) => `export ${k}='${v}'`);
process.stdout.write(
  [
    `Emulator of GitHub OIDC, Entra ID and ARM listening on ${emulator.origin} (127.0.0.1 only).`,
    `Proxy mode on ${emulator.urls.proxy} (127.0.0.1 only) for: ${emulator.proxiedHosts.join(', ')}.`,
    '',
    'The environment for a workflow step or a shell (HTTPS_PROXY serves the hosts above; the',
    'runner\'s OIDC URL and the emulator\'s origin stay direct through NO_PROXY):',
    ...lines,
    '',
    'Then run the bundled action exactly as a workflow configures it, for example:',
    `  env 'INPUT_VMSS-NAME=vmss-web' 'INPUT_RESOURCE-GROUP=rg-prod' 'INPUT_IDENTITY-TYPE=SystemAssigned' node dist/index.js`,
    `or against the emulator's own cloud with 'INPUT_RESOURCE-MANAGER-ENDPOINT=${emulator.origin}'.`,
    '',
    `Its own cloud: ARM ${emulator.origin}, metadata ${emulator.urls.metadata}, token audience ${emulator.urls.audience}`,
    `  az cloud register -n VmssEmulator --endpoint-resource-manager ${emulator.origin}/`,
    '',
    `GitHub's issue-comments API at GITHUB_API_URL: pull requests ${[...emulator.githubApi.issues].map((n) => `#${n}`).join(', ')} of ${emulator.state.github.repository};`,
    `  'INPUT_GITHUB-TOKEN=${emulator.githubApi.writeToken}' may comment, '${emulator.githubApi.readOnlyToken}' may only read (a fork's token).`,
    '',
    `State: ${emulator.origin}/_emulator/state   Request log: ${emulator.origin}/_emulator/log   Refused CONNECTs: ${emulator.origin}/_emulator/refused`,
    'Ctrl-C stops it.',
    '',
  ].join('\n'),
);

const stop = () => void emulator.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
