// `npm run emulator`: start the emulator and print the environment that points the action at it.
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
  },
});

const seed = JSON.parse(readFileSync(values.seed, 'utf8')) as Seed;
const emulator = await start({
  port: Number(values.port),
  seed,
  updateDurationMs: Number(values['update-seconds']) * 1000,
  latencyMs: Number(values['latency-ms']),
});

const lines = Object.entries(emulator.env).map(([k, v]) => `export ${k}='${v}'`);
process.stdout.write(
  [
    `Emulator of GitHub OIDC, Entra ID and ARM listening on ${emulator.origin} (127.0.0.1 only).`,
    '',
    'Point the action (or any Azure SDK client) at it with:',
    ...lines,
    '',
    'Then run the bundled action, for example:',
    `  env 'INPUT_VMSS-NAME=vmss-web' 'INPUT_RESOURCE-GROUP=rg-prod' 'INPUT_IDENTITY-TYPE=SystemAssigned' node dist/index.js`,
    '',
    `State: ${emulator.origin}/_emulator/state   Request log: ${emulator.origin}/_emulator/log`,
    'Ctrl-C stops it.',
    '',
  ].join('\n'),
);

const stop = () => void emulator.stop().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
