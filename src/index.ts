// The entry point stays small: it validates the inputs, arms the deadline and the signal
// handlers, and starts the GitHub OIDC token request (and a custom cloud's metadata read)
// before the Azure SDK (most of the bundle) is loaded, so the round trip overlaps with loading
// the code that needs it. Its first statement closes the environment (src/environment.ts):
// the modules imported here read no variable when they load, and the SDK is not loaded yet.
import { closeEnvironment, removalWarning } from './environment.ts';
import { abortable, runSignal } from './abort.ts';
import { InputError } from './errors.ts';
import { readSettings, targetsIfValid, type InputName } from './inputs.ts';
import { prefetchIdToken, prefetchMetadata } from './oidc-prefetch.ts';

const removals = closeEnvironment(process.env);
if (removals.length > 0) {
  const { warning } = await import('./writer.ts');
  for (const removal of removals) warning(removalWarning(removal), 'Environment variable removed');
}

/** As @actions/core's getInput: INPUT_<NAME> with hyphens kept, trimmed. */
const readInput = (name: InputName): string => (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();

let settings;
try {
  settings = readSettings(readInput, process.env);
} catch (error) {
  const message = error instanceof InputError || error instanceof Error ? error.message : String(error);
  const [writer, report, result] = await Promise.all([import('./writer.ts'), import('./report.ts'), import('./result.ts')]);
  writer.secret(readInput('github-token'));
  const results = targetsIfValid(readInput, process.env).map((ref) => ({ ...result.newResult(ref), error: message }));
  report.writeOutputs(results, '');
  writer.fail(message);
}
if (settings) {
  const stop = runSignal(settings.timeoutSeconds);
  const audience = settings.signIn.kind === 'oidc' ? settings.signIn.audience : undefined;
  const prefetch = audience ? prefetchIdToken(audience, process.env, stop.signal) : undefined;
  // A custom cloud's metadata is read before sign-in whatever the inputs say: start it too (no credentials go with it).
  // Not when OIDC sign-in cannot even start (no id-token permission): that fails before any request.
  const canSignIn = settings.signIn.kind !== 'oidc' || (!!process.env['ACTIONS_ID_TOKEN_REQUEST_URL'] && !!process.env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']);
  const metadataSent = settings.cloud.kind === 'custom' && canSignIn ? prefetchMetadata(settings.cloud.resourceManager, process.env, stop.signal) : undefined;
  // Loading the rest blocks this thread; let the requests leave first, then load while they are answered.
  // Not past a cancel or the deadline (a TLS handshake may never end): run() then reports it, outputs included.
  await abortable(Promise.all([prefetch?.sent, metadataSent]), stop.signal).catch(() => undefined);
  // Masked before anything else is printed (the writer loads with the rest; nothing printed before it).
  (await import('./writer.ts')).secret(settings.githubToken);
  // The SDK's log is routed through the writer before any other SDK module is evaluated.
  (await import('./sdk-log.ts')).routeSdkLog(process.env);
  const { run } = await import('./main.ts');
  await run(settings, process.env, stop, prefetch);
}
