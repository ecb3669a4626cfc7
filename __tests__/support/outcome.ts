// What a run reported, read the way a workflow reads it: the `results` output, the step's
// error annotation, and the seed edit most role tests need. One copy for every test file.
import { DEPLOYER_OBJECT_ID, RG } from '../../emulator/testing.ts';
import type { Seed } from '../../emulator/state.ts';
import type { ActionRun } from './run-action.ts';

/** One entry of the `results` output (the fields tests read). */
export interface Result {
  scaleSet: string;
  changed: boolean;
  write: string;
  identityType?: string;
  principalId?: string;
  userAssignedIdentities?: Record<string, { principalId: string; clientId: string }>;
  operationUrl?: string;
  roleAssignments?: { role: string; scope: string; id: string; created: boolean; planned?: boolean }[];
  /** The writes of the plan. */
  plan?: { identity?: unknown; roleAssignments?: { role: string; scope: string }[]; removeExtensions?: string[] };
  missingIdentities?: string[];
  removedExtensions?: string[];
  error?: string;
}

/** The `results` output, parsed; [] when the run wrote none. */
export const results = (run: ActionRun): Result[] => JSON.parse(run.outputs['results'] ?? '[]') as Result[];

/** Undoes @actions/core's escaping of a command's data: %25, %0D, %0A. */
export const unescapeCommandData = (data: string): string => data.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');

/** The text of the first `::error::` annotation (the step's failure), unescaped; '' when none. */
export function errorLine(run: ActionRun): string {
  const line = run.stdout.split('\n').find((l) => l.startsWith('::error::'));
  return line === undefined ? '' : unescapeCommandData(line.slice('::error::'.length));
}

/** Seed edit: the deployer app may write role assignments in rg-prod. */
export const canGrant = (seed: Seed): void => void seed.roleAssignments?.push({ principalId: DEPLOYER_OBJECT_ID, role: 'Role Based Access Control Administrator', scope: RG });

/**
 * The action's own timing of a stop, from its `Stop to exit` debug line: ms from the stop
 * (signal handler or deadline) to exit, and ms from process start to exit.
 */
export function stopTiming(run: ActionRun): { stopToExitMs: number; uptimeMs: number } | undefined {
  const m = /^::debug::Stop to exit: (\d+) ms \(.*\); (\d+) ms since the process started\.$/m.exec(run.stdout);
  return m ? { stopToExitMs: Number(m[1]), uptimeMs: Number(m[2]) } : undefined;
}
