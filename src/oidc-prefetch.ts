// The GitHub OIDC token request, and a custom cloud's metadata read, leave before the Azure SDK
// (most of the bundle) is loaded, so their round trips overlap with loading the code that needs
// them. Best effort: on any failure the sign-in asks again through @actions/core, and the
// metadata is read again through the SDK, with their retries and messages.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { USER_AGENT } from './azure/user-agent.ts';
import { MAX_METADATA_BYTES } from './bounds.ts';

export interface Prefetch {
  audience: string;
  /** Settles once the request is on the wire (or has failed). */
  sent: Promise<void>;
  token: Promise<string | undefined>;
}

interface Fetched {
  status: number;
  body: string;
}

const PROXY_VARIABLES = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'];
// Node's own https client ignores proxies; @actions/core's and the SDK's honour them, so leave it to those.
const behindProxy = (env: NodeJS.ProcessEnv) => PROXY_VARIABLES.some((v) => env[v]);

/** Gives up on a request that has not been answered by then (a stalled TLS handshake has no idle timeout); asked again later. */
const GIVE_UP_MS = 10_000;

/**
 * One GET; undefined on any failure. `sent` settles once the request is on the wire (or has
 * failed). The run's signal destroys it: nothing waits on it past a cancel or the deadline.
 */
function get(target: string, headers: Record<string, string>, signal: AbortSignal): { sent: Promise<void>; response: Promise<Fetched | undefined> } {
  let markSent: () => void = () => undefined;
  const sent = new Promise<void>((resolve) => (markSent = resolve));
  const response = new Promise<Fetched | undefined>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const fail = () => {
      clearTimeout(timer);
      markSent();
      resolve(undefined);
    };
    try {
      const request = target.startsWith('http:') ? httpRequest : httpsRequest;
      const req = request(target, { headers: { ...headers, accept: 'application/json' }, timeout: GIVE_UP_MS, signal }, (res) => {
        let body = '';
        // Past the bound the answer is dropped: the SDK's read (bounded too) asks again and fails clearly.
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString('utf8');
          if (body.length > MAX_METADATA_BYTES) {
            req.destroy();
            fail();
          }
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', fail);
      });
      timer = setTimeout(() => req.destroy(), GIVE_UP_MS).unref();
      req.on('finish', markSent);
      req.on('timeout', () => req.destroy());
      req.on('error', fail);
      req.end();
    } catch {
      fail();
    }
  });
  return { sent, response };
}

export function prefetchIdToken(audience: string, env: NodeJS.ProcessEnv, signal: AbortSignal): Prefetch | undefined {
  const url = env['ACTIONS_ID_TOKEN_REQUEST_URL'];
  const bearer = env['ACTIONS_ID_TOKEN_REQUEST_TOKEN'];
  if (!url || !bearer || behindProxy(env)) return undefined;
  const { sent, response } = get(`${url}&audience=${encodeURIComponent(audience)}`, { authorization: `Bearer ${bearer}` }, signal);
  const token = response.then((r) => {
    try {
      const value = r?.status === 200 ? (JSON.parse(r.body) as { value?: unknown }).value : undefined;
      return typeof value === 'string' ? value : undefined;
    } catch {
      return undefined;
    }
  });
  return { audience, sent, token };
}

/** The version `az cloud register` reads; the SDK read in azure/cloud-metadata.ts asks the same. */
export const METADATA_API_VERSION = '2022-09-01';

/** The metadata read started by prefetchMetadata, taken once by readCloudMetadata. */
let metadata: { endpoint: string; response: Promise<Fetched | undefined> } | undefined;

/**
 * Starts reading a custom cloud's `{endpoint}/metadata/endpoints` (an https URL checked by the
 * inputs). It carries no credentials, like the SDK's read it stands in for.
 */
export function prefetchMetadata(endpoint: string, env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<void> | undefined {
  if (behindProxy(env)) return undefined;
  const { sent, response } = get(`${endpoint}/metadata/endpoints?api-version=${METADATA_API_VERSION}`, { 'user-agent': USER_AGENT }, signal);
  metadata = { endpoint, response };
  return sent;
}

/** The prefetched answer for this endpoint, if one was started (once). */
export function takePrefetchedMetadata(endpoint: string): Promise<Fetched | undefined> | undefined {
  const taken = metadata?.endpoint === endpoint ? metadata.response : undefined;
  metadata = undefined;
  return taken;
}
