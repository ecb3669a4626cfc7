// Guarantee mutations: for each promise of README/SECURITY.md, a small deliberate break of the
// action's source, built into a throwaway copy of the repo and run against only the tests
// that claim to hold that promise. A mutation that no test kills is a missing test, and fails
// this script. Usage: npm run test:guarantees [-- --only <name>] [-- --parallel N]
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MUTATIONS, type Mutation } from './guarantee-mutations.ts';

const ROOT = new URL('../', import.meta.url).pathname;
const COPIED = ['src', 'emulator', '__tests__', 'scripts', 'examples', '.github', 'stubs', 'action.yml', 'package.json', 'tsconfig.json', 'README.md', 'SECURITY.md', 'CHANGELOG.md'];
/** A mutated build and its tests may take this long before the mutation counts as surviving. */
const PER_MUTATION_MS = 180_000;

interface Outcome {
  mutation: Mutation;
  killed: boolean;
  by: string[];
  ms: number;
  note?: string;
}

function run(cmd: string, args: string[], cwd: string, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** The copy of the repo with the mutation applied; throws when the code it breaks has moved. */
function mutatedCopy(m: Mutation): string {
  const dir = mkdtempSync(join(tmpdir(), `guarantee-${m.name}-`));
  for (const entry of COPIED) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  for (const edit of [m, ...(m.also ?? [])]) {
    const file = join(dir, edit.file);
    const text = readFileSync(file, 'utf8');
    const hits = text.split(edit.find).length - 1;
    if (hits !== 1) throw new Error(`${edit.file} holds ${JSON.stringify(edit.find)} ${hits} times (expected once): update the mutation`);
    writeFileSync(file, text.replace(edit.find, edit.replace));
  }
  return dir;
}

async function attempt(m: Mutation): Promise<Outcome> {
  const started = Date.now();
  let dir: string | undefined;
  try {
    dir = mutatedCopy(m);
    const ncc = join(ROOT, 'node_modules/.bin/ncc');
    const build = await run(ncc, ['build', 'src/index.ts', '-o', 'dist', '--target', 'es2022', '--quiet'], dir, PER_MUTATION_MS);
    // A mutation that does not build proves nothing: it must be fixed, not counted.
    if (build.code !== 0) return { mutation: m, killed: false, by: [], ms: Date.now() - started, note: `the mutated source does not build: ${build.out.slice(-300)}` };
    const args = ['--test', '--test-concurrency=2', ...(m.testName ? ['--test-name-pattern', m.testName] : []), ...m.tests];
    const tests = await run(process.execPath, args, dir, PER_MUTATION_MS - (Date.now() - started));
    if (tests.code === null) return { mutation: m, killed: false, by: [], ms: Date.now() - started, note: 'the tests ran past the time limit' };
    const failed = [...tests.out.matchAll(/^\s*✖ (.+?) \(\d/gm)].map((x) => x[1] ?? '').filter((name) => !/^failing tests:?$/.test(name));
    const ran = /ℹ tests [1-9]/.test(tests.out);
    if (!ran) return { mutation: m, killed: false, by: [], ms: Date.now() - started, note: 'no test matched' };
    // Killed means a named test failed: a crash of the runner or a file that does not load is no proof.
    return { mutation: m, killed: tests.code !== 0 && failed.length > 0, by: [...new Set(failed)].slice(0, 3), ms: Date.now() - started };
  } catch (error) {
    return { mutation: m, killed: false, by: [], ms: Date.now() - started, note: (error as Error).message };
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const only = process.argv.indexOf('--only');
  const parallelAt = process.argv.indexOf('--parallel');
  const parallel = parallelAt > 0 ? Number(process.argv[parallelAt + 1]) : 2;
  const chosen = only > 0 ? MUTATIONS.filter((m) => m.name === process.argv[only + 1]) : MUTATIONS;
  const outcomes: Outcome[] = [];
  let next = 0;
  const started = Date.now();
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, async () => {
    while (next < chosen.length) {
      const m = chosen[next++] as Mutation;
      const o = await attempt(m);
      outcomes.push(o);
      console.log(`${o.killed ? 'killed  ' : 'SURVIVED'} ${m.name} (${(o.ms / 1000).toFixed(0)} s)${o.note ? `: ${o.note}` : ''}`);
    }
  }));
  outcomes.sort((a, b) => MUTATIONS.indexOf(a.mutation) - MUTATIONS.indexOf(b.mutation));
  console.log('\n| guarantee | mutation | killed by |\n|---|---|---|');
  for (const o of outcomes) console.log(`| ${o.mutation.guarantee} | ${o.mutation.name}: ${o.mutation.what} | ${o.killed ? o.by.join('; ') || 'a failing test' : `**survived**${o.note ? ` (${o.note})` : ''}`} |`);
  const survived = outcomes.filter((o) => !o.killed);
  console.log(`\n${outcomes.length - survived.length} of ${outcomes.length} mutations killed in ${((Date.now() - started) / 1000).toFixed(0)} s.`);
  if (survived.length) process.exitCode = 1;
}

await main();
