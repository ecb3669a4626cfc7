// The timing suite (tests tagged [timing]: deadlines, cancels, signal-to-exit) run again and
// again beside CPU spinners, to show its bounds hold on a loaded machine, not only an idle one.
// Usage: npm run test:timing-under-load [-- --runs 20 --spinners 4]. Needs a built dist/.
import { spawn, type ChildProcess } from 'node:child_process';

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const RUNS = arg('runs', 20);
const SPINNERS = arg('spinners', 4);
/** A spinner stops by itself after this long, whatever happens to this script. */
const SPINNER_LIFETIME_MS = RUNS * 180_000;

function spinner(): ChildProcess {
  const code = `const end = Date.now() + ${SPINNER_LIFETIME_MS}; let x = 0; while (Date.now() < end) { x = (x * 31 + 7) % 1000003; }`;
  return spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
}

function suite(): Promise<{ ok: boolean; summary: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-concurrency=2', '--test-name-pattern', '\\[timing\\]', '__tests__/e2e/*.test.ts'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => {
      const failed = [...out.matchAll(/^\s*✖ (.+?) \(\d/gm)].map((m) => m[1]).filter((n) => n !== 'failing tests:');
      const ran = /ℹ tests ([1-9]\d*)/.exec(out)?.[1];
      const summary = failed.length ? `failed: ${[...new Set(failed)].join('; ')}` : ran ? `${ran} tests passed` : `no test ran: ${out.slice(0, 300)}`;
      resolve({ ok: code === 0 && ran !== undefined, summary, ms: Date.now() - started });
    });
  });
}

const spinners = Array.from({ length: SPINNERS }, spinner);
let passed = 0;
try {
  for (let i = 1; i <= RUNS; i++) {
    const r = await suite();
    if (r.ok) passed++;
    console.log(`run ${i}/${RUNS}: ${r.ok ? 'pass' : 'FAIL'} in ${(r.ms / 1000).toFixed(0)} s, ${r.summary}`);
  }
} finally {
  for (const s of spinners) s.kill('SIGKILL');
}
console.log(`${passed} of ${RUNS} runs of the timing suite passed beside ${SPINNERS} CPU spinners.`);
if (passed !== RUNS) process.exitCode = 1;
