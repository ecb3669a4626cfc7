// `npm run bench [-- --profile short]`: the bundled action against the emulator with a
// realistic network delay and update duration. Prints a table and writes bench-results.json.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { start, type Emulator } from '../emulator/server.ts';
import type { Seed } from '../emulator/state.ts';
import { defaultSeed, FLEET_SUBS, fleetOf, fleetSeed, SUB } from '../emulator/testing.ts';
import { ACTION, runAction } from '../__tests__/support/run-action.ts';

const { values } = parseArgs({ options: { profile: { type: 'string', default: 'full' }, out: { type: 'string', default: 'bench-results.json' }, only: { type: 'string' } } });
/** `--only startup,fleet1000`: run only these sections (bundle, cold, startup, requests, lag, fleet, fleet1000). */
const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : undefined;
const runs = (section: string) => !only || only.has(section);
const short = values.profile === 'short';
const P = {
  latencyMs: 25,
  updateMs: 4000,
  repeats: short ? 3 : 7,
  startupRepeats: short ? 7 : 15,
  lagDurations: short ? [1000, 4000] : [1000, 4000, 20000, 60000],
  lagRepeats: short ? 2 : 3,
  /** Real updates end at any moment; these add a random 0-1 s to a 4 s update. */
  randomPhaseRepeats: short ? 5 : 11,
  fleet: short ? [1, 10, 50] : [1, 10, 50, 100],
  /** 1,000 scale sets over 4 subscriptions, chosen by pattern. */
  bigFleet: 1000,
  /** Its updates: as long as the other rows' in full (~95 s in all), 100 ms in short (~40 s) to keep CI's run short. */
  bigFleetUpdateMs: short ? 100 : 4000,
};

interface Stat { median: number; min: number; max: number; n: number }
const stat = (xs: number[]): Stat => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return { median: s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2, min: s[0] ?? 0, max: s[s.length - 1] ?? 0, n: s.length };
};
const fmt = (s: Stat, unit = 'ms', digits = 0) => `${s.median.toFixed(digits)} ${unit} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)}, n=${s.n})`;

const results: Record<string, unknown> = { profile: values.profile, date: new Date().toISOString(), node: process.version, parameters: P };
const rows: [string, string, string, string][] = [];
const row = (metric: string, value: string, target: string, verdict: string) => rows.push([metric, value, target, verdict]);
const verdict = (ok: boolean, miss: string) => (ok ? 'met' : `MISSED ${miss}`);

async function emulator(seed: Seed = defaultSeed(), updateMs = P.updateMs): Promise<Emulator> {
  return start({ seed, updateDurationMs: updateMs, latencyMs: P.latencyMs });
}
const web = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web' };

// ---- bundle ------------------------------------------------------------------------------
const dist = new URL('../dist/', import.meta.url).pathname;
const jsBytes = readdirSync(dist).filter((f) => f.endsWith('.js')).reduce((n, f) => n + statSync(join(dist, f)).size, 0);
results['bundleBytes'] = jsBytes;
row('bundle (JavaScript in dist/)', `${(jsBytes / 1e6).toFixed(2)} MB`, '≤ 1.2 MB: parse time is paid on every run', verdict(jsBytes <= 1.2e6, `by ${((jsBytes - 1.2e6) / 1e6).toFixed(2)} MB`));

// ---- cold start ------------------------------------------------------------------------------
async function firstRequestMs(em: Emulator, args: string[], env: Record<string, string>): Promise<number> {
  em.log.clear();
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, args, { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: 'ignore' });
  await new Promise((r) => child.on('close', r));
  const first = em.log.entries[0];
  if (!first) throw new Error('no request reached the emulator');
  return first.at - spawnedAt - P.latencyMs * 0; // `at` is when the request arrived, before the modelled latency
}
if (runs('cold')) {
  const em = await emulator();
  const floor: number[] = [];
  const action: number[] = [];
  const bare = `const https=require('node:https');https.get(process.env.URL,{headers:{authorization:'Bearer '+process.env.T}},r=>r.resume());`;
  for (let i = 0; i < P.repeats; i++) {
    floor.push(await firstRequestMs(em, ['-e', bare], { URL: em.urls.github, T: em.env['ACTIONS_ID_TOKEN_REQUEST_TOKEN'] ?? '', NODE_EXTRA_CA_CERTS: em.caPath }));
    const env: Record<string, string> = { ...em.env };
    // Both endpoints given, as a built-in cloud's are known: the GitHub token request starts before the SDK loads.
    for (const [k, v] of Object.entries({ ...web, operation: 'show', 'resource-manager-endpoint': em.origin, 'authority-host': em.origin })) env[`INPUT_${k.toUpperCase()}`] = v;
    action.push(await firstRequestMs(em, [ACTION], env));
  }
  await em.stop();
  const f = stat(floor);
  const a = stat(action);
  const ratio = a.median / f.median;
  results['coldStart'] = { action: a, bareNode: f, ratio };
  row('cold start: spawn → first request', `${fmt(a)} vs bare node ${fmt(f)} = ${ratio.toFixed(2)}×`, '≤ 1.5× bare node: the step starts working at once', verdict(ratio <= 1.5, `by ${(ratio - 1.5).toFixed(2)}×`));
}

// ---- start-up: spawn → exit -------------------------------------------------------------------
// Sign-in plus one read (`operation: show`, custom cloud with both endpoints given, so the GitHub
// token and the cloud metadata are asked before the SDK loads) against a bare `node -e` that makes
// one HTTPS request and exits. Runs alternate, so load on the machine touches both alike.
async function exitMs(args: string[], env: Record<string, string>): Promise<{ ms: number; code: number | null }> {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, args, { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: 'ignore' });
  const code = await new Promise<number | null>((r) => child.on('close', r));
  return { ms: performance.now() - spawnedAt, code };
}
if (runs('startup')) {
  const startup: Record<string, unknown> = {};
  for (const latencyMs of [P.latencyMs, 0]) {
    const em = await start({ seed: defaultSeed(), updateDurationMs: P.updateMs, latencyMs });
    const bare = `require('node:https').get(process.env.URL,{headers:{authorization:'Bearer '+process.env.T}},r=>r.resume());`;
    const bareEnv = { URL: em.urls.github, T: em.env['ACTIONS_ID_TOKEN_REQUEST_TOKEN'] ?? '', NODE_EXTRA_CA_CERTS: em.caPath };
    const env: Record<string, string> = { ...em.env, GITHUB_OUTPUT: '/dev/null', GITHUB_STEP_SUMMARY: '/dev/null' };
    const inputs = { 'timeout-seconds': '900', 'max-parallel': '50', 'dry-run': 'false', 'remove-legacy-extension': 'false', 'allow-no-match': 'false', 'remove-missing-identities': 'false', ...web, operation: 'show', 'resource-manager-endpoint': em.origin, 'authority-host': em.origin };
    for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
    const floor: number[] = [];
    const action: number[] = [];
    for (let i = 0; i < P.startupRepeats; i++) {
      floor.push((await exitMs(['-e', bare], bareEnv)).ms);
      const run = await exitMs([ACTION], env);
      if (run.code !== 0) throw new Error(`operation show exited ${run.code}`);
      action.push(run.ms);
    }
    await em.stop();
    const f = stat(floor);
    const a = stat(action);
    const ratio = a.median / f.median;
    startup[`latency${latencyMs}ms`] = { action: a, bareNode: f, ratio };
    row(`start-up: spawn → exit, show (${latencyMs} ms latency)`, `${fmt(a)} vs bare node ${fmt(f)} = ${ratio.toFixed(2)}×`, '≤ 2.5× bare node: the ceiling accepted with @azure/identity and MSAL kept', verdict(ratio <= 2.5, `by ${(ratio - 2.5).toFixed(2)}×`));
  }
  results['startup'] = startup;
}

// ---- requests per scenario -----------------------------------------------------------------
function count(em: Emulator) {
  const e = em.log.entries;
  return {
    signIn: e.filter((x) => x.service === 'github' || x.service === 'entra').length,
    reads: e.filter((x) => x.route === 'arm.vmss.get').length,
    // The check phase's reads: permissions, identities, role assignments, role scopes.
    checks: e.filter((x) => x.service === 'arm' && !['arm.vmss.get', 'arm.operation', 'arm.metadata'].includes(x.route) && !['PATCH', 'PUT', 'DELETE', 'POST'].includes(x.method)).length,
    writes: em.log.writes().length,
    polls: e.filter((x) => x.route === 'arm.operation').length,
  };
}
if (runs('requests')) {
  // The last figure is the check phase's reads: the permissions at the scale set's resource
  // group (they cover its write), and for an identity to add its own read and its permissions;
  // a write that keeps or removes a user-assigned identity reads it, to find deleted ones.
  const scenarios: [string, Record<string, string>, number, number][] = [
    ['no-op (already as requested)', { ...web, operation: 'show' }, 0, 0],
    ['enable system-assigned', { ...web, 'identity-type': 'SystemAssigned' }, 1, 1],
    ['add user-assigned', { ...web, operation: 'assign', 'user-assigned-ids': 'id-app' }, 1, 3],
    ['remove user-assigned', { ...web, operation: 'remove', 'user-assigned-ids': 'id-app' }, 1, 2],
  ];
  const em = await emulator();
  const table: Record<string, unknown> = {};
  for (const [name, inputs, writes, checks] of scenarios) {
    em.log.clear();
    const run = await runAction(em, inputs);
    if (run.code !== 0) throw new Error(`${name} failed:\n${run.stdout}`);
    const c = count(em);
    // Minimum: GitHub token + Entra discovery (custom authority) + token; one read; one write,
    // ceil(update / 1 s) polls and one final read per write.
    const minPolls = writes * Math.ceil(P.updateMs / 1000);
    const min = { signIn: 3, reads: 1 + writes, checks, writes, polls: minPolls };
    table[name] = { ...c, minimum: min };
    const ok = c.signIn <= min.signIn && c.reads <= min.reads && c.checks <= min.checks && c.writes === min.writes && c.polls <= min.polls + 1;
    row(`requests: ${name}`, `sign-in ${c.signIn}, reads ${c.reads}, checks ${c.checks}, writes ${c.writes}, polls ${c.polls}`, `sign-in ${min.signIn}, reads ${min.reads}, checks ${min.checks}, writes ${min.writes}, polls ≤ ${min.polls + 1}`, verdict(ok, 'see counts'));
  }
  await em.stop();
  results['requests'] = table;
}

// ---- completion lag ------------------------------------------------------------------------
async function lagRuns(durationMs: () => number, repeats: number): Promise<{ lags: number[]; polls: number[]; seconds: number[] }> {
  const em = await emulator();
  const out = { lags: [] as number[], polls: [] as number[], seconds: [] as number[] };
  for (let i = 0; i < repeats; i++) {
    const set = em.state.findScaleSet(SUB, 'rg-prod', 'vmss-web');
    if (set) set.identity = { userAssigned: [] };
    const duration = durationMs();
    em.controls.updateDurationMs = duration;
    const before = new Set(em.controls.operations.keys());
    const run = await runAction(em, { ...web, 'identity-type': 'SystemAssigned' });
    const exitedAt = Date.now();
    const op = [...em.controls.operations.values()].find((o) => !before.has(o.id.toLowerCase()));
    if (run.code !== 0 || !op) throw new Error(`lag run failed:\n${run.stdout}`);
    out.lags.push(exitedAt - op.endsAt);
    out.polls.push(op.polls);
    // The rate over the time the action spent waiting: from Azure accepting the write to exit.
    out.seconds.push((exitedAt - op.startedAt) / 1000);
  }
  await em.stop();
  return out;
}
if (runs('lag')) {
  const lag: Record<string, unknown> = {};
  const report = (label: string, key: string, r: Awaited<ReturnType<typeof lagRuns>>) => {
    const l = stat(r.lags);
    const perSecond = r.polls.reduce((a, b) => a + b, 0) / r.seconds.reduce((a, b) => a + b, 0);
    lag[key] = { lagMs: l, polls: stat(r.polls), pollsPerSecond: perSecond };
    row(label, `${fmt(l)}; ${stat(r.polls).median} polls (${perSecond.toFixed(2)}/s)`, '≤ 600 ms median, ≤ 1 poll/s', verdict(l.median <= 600 && perSecond <= 1.05, `lag ${l.median.toFixed(0)} ms, ${perSecond.toFixed(2)} polls/s`));
  };
  for (const duration of P.lagDurations) report(`completion lag, ${duration / 1000} s update`, `${duration / 1000}s`, await lagRuns(() => duration, P.lagRepeats));
  report('completion lag, 4-5 s update (random end)', 'randomPhase', await lagRuns(() => 4000 + Math.round(Math.random() * 1000), P.randomPhaseRepeats));
  results['completionLag'] = lag;
}

// ---- fleet -----------------------------------------------------------------------------------
function peakRssMb(pid: number, peak: { mb: number }): () => void {
  const timer = setInterval(() => {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (hwm) peak.mb = Math.max(peak.mb, Number(hwm) / 1024);
    } catch {
      // the process has exited
    }
  }, 20);
  return () => clearInterval(timer);
}
if (runs('fleet')) {
  const fleet: Record<string, unknown> = {};
  let base = 0;
  for (const n of P.fleet) {
    const seed = defaultSeed();
    const names = Array.from({ length: n }, (_, i) => `vmss-fleet-${String(i).padStart(3, '0')}`);
    for (const name of names) seed.scaleSets?.push({ subscriptionId: SUB, resourceGroup: 'rg-prod', name });
    const em = await emulator(seed);
    const env: Record<string, string> = { ...em.env, GITHUB_OUTPUT: '/dev/null' };
    for (const [k, v] of Object.entries({ 'resource-group': 'rg-prod', 'vmss-name': names.join('\n'), 'identity-type': 'SystemAssigned', 'resource-manager-endpoint': em.origin })) env[`INPUT_${k.toUpperCase()}`] = v;
    const started = Date.now();
    const child = spawn(process.execPath, [ACTION], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: 'ignore' });
    const peak = { mb: 0 };
    const stop = peakRssMb(child.pid ?? 0, peak);
    const code = await new Promise((r) => child.on('close', r));
    stop();
    const wall = Date.now() - started;
    const enabled = names.filter((name) => em.state.findScaleSet(SUB, 'rg-prod', name)?.identity.system).length;
    await em.stop();
    if (code !== 0 || enabled !== n) throw new Error(`fleet of ${n}: exit ${code}, ${enabled} enabled`);
    if (n === 1) base = wall;
    fleet[n] = { wallMs: wall, ratio: wall / base, peakRssMb: peak.mb };
    row(`fleet of ${n}`, `${(wall / 1000).toFixed(1)} s (${(wall / base).toFixed(2)}× one), peak ${peak.mb.toFixed(0)} MB`, n === 100 ? '≤ 3× one, ≤ 150 MB' : '—', n === 100 ? verdict(wall / base <= 3 && peak.mb <= 150, `${(wall / base).toFixed(2)}×, ${peak.mb.toFixed(0)} MB`) : '');
  }
  results['fleet'] = fleet;
}

// ---- 1,000 targets -------------------------------------------------------------------------------
// A fleet chosen by pattern across 4 subscriptions (fleetSeed/fleetOf, 2 resource groups each) with
// ARM's default budgets, against one scale set chosen the same way (resource-group '*', one
// subscription), with the same update duration. The emulator counts the 429s it sent for budget reasons.
async function patternRun(subscriptions: number, count: number) {
  const seed = fleetSeed({ subscriptions: fleetOf(count, subscriptions, subscriptions > 1 ? 2 : 1) });
  const em = await emulator(seed, P.bigFleetUpdateMs);
  const env: Record<string, string> = { ...em.env, GITHUB_OUTPUT: '/dev/null' };
  const inputs = {
    'resource-group': '*', 'subscription-id': FLEET_SUBS.slice(0, subscriptions).join('\n'), 'vmss-name': 'vmss-*', 'identity-type': 'SystemAssigned',
    'max-parallel': '100', 'timeout-seconds': '900', 'resource-manager-endpoint': em.origin,
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  const started = Date.now();
  const child = spawn(process.execPath, [ACTION], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: 'ignore' });
  const peak = { mb: 0 };
  const stop = peakRssMb(child.pid ?? 0, peak);
  const code = await new Promise((r) => child.on('close', r));
  stop();
  const wallMs = Date.now() - started;
  const enabled = FLEET_SUBS.slice(0, subscriptions).flatMap((sub) => em.state.scaleSetsIn(sub)).filter((s) => s.identity.system).length;
  const throttled = em.controls.throttled;
  await em.stop();
  if (code !== 0 || enabled !== count) throw new Error(`pattern fleet of ${count}: exit ${code}, ${enabled} enabled`);
  return { wallMs, peakRssMb: peak.mb, throttled };
}
if (runs('fleet1000')) {
  const one = await patternRun(1, 1);
  const big = await patternRun(4, P.bigFleet);
  const ratio = big.wallMs / one.wallMs;
  const memRatio = big.peakRssMb / one.peakRssMb;
  results['fleet1000'] = { updateMs: P.bigFleetUpdateMs, one, fleet: big, wallRatio: ratio, memoryRatio: memRatio };
  row(
    `${P.bigFleet.toLocaleString('en')} targets, 4 subscriptions, by pattern (${P.bigFleetUpdateMs / 1000} s updates)`,
    `${(big.wallMs / 1000).toFixed(1)} s (${ratio.toFixed(1)}× one), peak ${big.peakRssMb.toFixed(0)} MB (${memRatio.toFixed(1)}× one), ${big.throttled} × 429 (one: ${one.throttled})`,
    '≤ 200 MB, no 429 from the action\'s own pace (default budgets)',
    verdict(big.peakRssMb <= 200 && big.throttled === 0, `${big.peakRssMb.toFixed(0)} MB, ${big.throttled} × 429`),
  );
}

writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);
const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]?.length ?? 0), 6));
const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' │ ');
process.stdout.write(`\nBenchmark (${values.profile} profile): ${P.latencyMs} ms per request, ${P.updateMs / 1000} s updates, node ${process.version}\n\n`);
process.stdout.write(`${line(['metric', 'measured', 'target and why', 'verdict'])}\n${widths.map((w) => '─'.repeat(w)).join('─┼─')}\n`);
for (const r of rows) process.stdout.write(`${line(r)}\n`);
process.stdout.write(`\nWritten to ${values.out}\n`);
