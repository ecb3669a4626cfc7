// Runs the bundled action (dist/index.js) the way the runner does: INPUT_* variables with
// their hyphens kept, GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files, the OIDC request variables
// and NODE_EXTRA_CA_CERTS, in a separate Node process.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Emulator } from '../../emulator/server.ts';

export const ACTION = new URL('../../dist/index.js', import.meta.url).pathname;

/** action.yml's defaults, which the runner applies before the action starts. */
export const DEFAULTS: Record<string, string> = {
  environment: 'AzureCloud',
  operation: 'assign',
  'dry-run': 'false',
  'timeout-seconds': '900',
  'max-parallel': '50',
  'remove-legacy-extension': 'false',
  'allow-no-match': 'false',
  'remove-missing-identities': 'false',
  'permission-check': 'error',
  'pull-request-comment': 'false',
  'github-token': '${{ github.token }}',
};

/** The expressions the runner evaluates in inputs, as a test run evaluates them. */
const expressions = (emulator: Emulator): Record<string, string> => ({ '${{ github.token }}': emulator.githubApi.writeToken });

export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  durationMs: number;
  /** With signalWhen: ms from the signal to the process's exit. */
  exitAfterSignalMs?: number;
  /** With signalWhen: when the signal was sent (Date.now(), the emulator's clock too). */
  signalledAt?: number;
}

/** Parses the runner's file-command format: NAME=VALUE or NAME<<DELIM … DELIM. */
export function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name = '', delim] = heredoc;
      const value: string[] = [];
      while (++i < lines.length && lines[i] !== delim) value.push(lines[i] ?? '');
      out[name] = value.join('\n');
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return out;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  /** Send this signal once `when()` holds (checked every 20 ms), e.g. once a write reached the emulator. */
  signalWhen?: { signal: NodeJS.Signals; when: () => boolean };
  withoutDefaults?: boolean;
  /** Leave resource-manager-endpoint unset (a built-in cloud, or a test that sets its own). */
  withoutEndpoint?: boolean;
  /** The event that started the run: GITHUB_EVENT_NAME, and its payload written to GITHUB_EVENT_PATH (a string as is, anything else as JSON). */
  event?: { name: string; payload?: unknown };
}

export async function runAction(emulator: Emulator, inputs: Record<string, string>, options: RunOptions = {}): Promise<ActionRun> {
  const dir = mkdtempSync(join(tmpdir(), 'vmss-action-'));
  const outputFile = join(dir, 'output');
  const summaryFile = join(dir, 'summary');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: dir,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_REPOSITORY: 'octo-org/octo-repo',
    GITHUB_REF: 'refs/heads/main',
    RUNNER_TEMP: dir,
    ...emulator.env,
  };
  // Endpoints come from inputs only (the action ignores AZURE_* endpoint variables): the emulator is a custom cloud.
  const endpoint = options.withoutEndpoint ? {} : { 'resource-manager-endpoint': emulator.origin };
  for (const [k, v] of Object.entries({ ...(options.withoutDefaults ? {} : DEFAULTS), ...endpoint, ...inputs })) env[`INPUT_${k.toUpperCase()}`] = expressions(emulator)[v] ?? v;
  if (options.event) {
    env['GITHUB_EVENT_NAME'] = options.event.name;
    if (options.event.payload !== undefined) {
      env['GITHUB_EVENT_PATH'] = join(dir, 'event.json');
      writeFileSync(env['GITHUB_EVENT_PATH'], typeof options.event.payload === 'string' ? options.event.payload : JSON.stringify(options.event.payload));
    }
  }
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const started = Date.now();
  const child = spawn(process.execPath, [ACTION], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let signalledAt: number | undefined;
  const watcher = options.signalWhen && setInterval(() => {
    if (signalledAt === undefined && options.signalWhen?.when()) {
      signalledAt = Date.now();
      child.kill(options.signalWhen.signal);
    }
  }, 20);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  if (watcher) clearInterval(watcher);
  const result: ActionRun = {
    code,
    stdout,
    stderr,
    outputs: parseOutputs(readFileSync(outputFile, 'utf8')),
    summary: readFileSync(summaryFile, 'utf8'),
    durationMs: Date.now() - started,
    ...(signalledAt !== undefined ? { exitAfterSignalMs: Date.now() - signalledAt, signalledAt } : {}),
  };
  const files = filesUnder(dir);
  rmSync(dir, { recursive: true, force: true });
  const leaks = [...findLeaks(result, emulator.issuedTokens()), ...findLeaksInFiles(files, emulator.issuedTokens())];
  if (leaks.length) throw new Error(`the action leaked ${leaks.length} token(s) into: ${leaks.join(', ')}`);
  return result;
}

/** Every file the run left in its temp directory (HOME, RUNNER_TEMP, outputs, summary), by path. */
function filesUnder(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[relative(dir, path)] = readFileSync(path, 'latin1');
  }
  return out;
}

/** Files that hold any part of an issued token: a cache, a log or a state file the action left. */
export function findLeaksInFiles(files: Record<string, string>, tokens: string[]): string[] {
  const parts = tokens.flatMap((t) => t.split('.').filter((p) => p.length > 20));
  return Object.entries(files).filter(([, text]) => parts.some((p) => text.includes(p))).map(([path]) => `file ${path}`);
}

/**
 * Where any issued token shows up in what the action printed or wrote. `::add-mask::` lines
 * are commands the runner consumes (and never shows); everything else reaches the log.
 */
export function findLeaks(run: Pick<ActionRun, 'stdout' | 'stderr' | 'outputs' | 'summary'>, tokens: string[]): string[] {
  const log = run.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n');
  const places: [string, string][] = [['log', log], ['stderr', run.stderr], ['outputs', JSON.stringify(run.outputs)], ['summary', run.summary]];
  const leaks: string[] = [];
  for (const token of tokens) {
    // A token's signature alone is as good as the token: look for each part.
    const parts = token.split('.').filter((p) => p.length > 20);
    for (const [where, text] of places) if (parts.some((p) => text.includes(p))) leaks.push(where);
  }
  return [...new Set(leaks)];
}
