// The entry point stays small: it validates the inputs and starts the GitHub OIDC token
// request before the Azure SDK (most of the bundle) is even loaded, so the network round
// trip overlaps with loading the code that needs it.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { InputError } from './errors.ts';
import { readSettings, type InputName } from './inputs.ts';

/** As @actions/core's getInput: INPUT_<NAME> with hyphens kept, trimmed. */
const readInput = (name: InputName): string => (process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();

interface Prefetch {
  /** Settles once the request is on the wire (or has failed). */
  sent: Promise<void>;
  token: Promise<string | undefined>;
}

/** Best effort: on any failure the sign-in asks again through @actions/core, with its retries and messages. */
function prefetchIdToken(audience: string, env: NodeJS.ProcessEnv): Prefetch | undefined {
  const url = env['ACTIONS_ID_TOKEN_REQUEST_URL'];
  const bearer = env['ACTIONS_ID_TOKEN_REQUEST_TOKEN'];
  if (!url || !bearer) return undefined;
  let markSent: () => void = () => undefined;
  const sent = new Promise<void>((resolve) => (markSent = resolve));
  const token = new Promise<string | undefined>((resolve) => {
    const fail = () => {
      markSent();
      resolve(undefined);
    };
    try {
      const target = `${url}&audience=${encodeURIComponent(audience)}`;
      const request = target.startsWith('http:') ? httpRequest : httpsRequest;
      const req = request(target, { headers: { authorization: `Bearer ${bearer}`, accept: 'application/json' }, timeout: 10_000 }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        res.on('end', () => {
          try {
            const value = res.statusCode === 200 ? (JSON.parse(body) as { value?: unknown }).value : undefined;
            resolve(typeof value === 'string' ? value : undefined);
          } catch {
            resolve(undefined);
          }
        });
        res.on('error', fail);
      });
      req.on('finish', markSent);
      req.on('timeout', () => req.destroy());
      req.on('error', fail);
      req.end();
    } catch {
      fail();
    }
  });
  return { sent, token };
}

let settings;
try {
  settings = readSettings(readInput, process.env);
} catch (error) {
  const core = await import('@actions/core');
  core.setFailed(error instanceof InputError || error instanceof Error ? error.message : String(error));
}
if (settings) {
  const prefetch = settings.signIn.kind === 'oidc' ? prefetchIdToken(settings.signIn.audience, process.env) : undefined;
  // Loading the rest blocks this thread; let the request leave first, then load while GitHub answers.
  await prefetch?.sent;
  const { run } = await import('./main.ts');
  await run(settings, process.env, prefetch?.token);
}
