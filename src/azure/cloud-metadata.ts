// A custom cloud's metadata document, as `az cloud register` reads it: where its Entra ID is
// and which audience its ARM expects. Asked without credentials: nothing secret goes there.
import { getClient, type PathUncheckedResponse } from '@azure-rest/core-client';
import type { CloudMetadata } from '../cloud.ts';
import { abortable } from '../abort.ts';
import { ActionError } from '../errors.ts';
import { q } from '../text.ts';
import { METADATA_API_VERSION, takePrefetchedMetadata } from '../oidc-prefetch.ts';
import { MAX_METADATA_BYTES } from '../bounds.ts';
import { boundedBodyPolicy, type BodyLimit } from './bounded-body.ts';
import { USER_AGENT } from './client.ts';

/** A metadata document is a few KB (one entry per cloud): a megabyte is already not one. */
const METADATA_ANSWER: BodyLimit = { bytes: MAX_METADATA_BYTES, largest: 'cloud metadata documents (a few KB)' };

interface MetadataCloud {
  name?: string;
  resourceManager?: string;
  authentication?: { loginEndpoint?: string; audiences?: string[] };
}

const sameEndpoint = (a: string | undefined, b: string) => !!a && a.replace(/\/+$/, '').toLowerCase() === b.replace(/\/+$/, '').toLowerCase();

/** Picks the entry for this endpoint from the list form (2019-05-01 and later) or takes the one object (older versions). */
export function parseMetadata(body: unknown, endpoint: string): CloudMetadata | undefined {
  const entries = (Array.isArray(body) ? body : [body]) as MetadataCloud[];
  const entry = entries.find((c) => sameEndpoint(c?.resourceManager, endpoint)) ?? (entries.length === 1 ? entries[0] : undefined);
  const auth = entry?.authentication;
  if (!auth) return undefined;
  const audience = auth.audiences?.find((a) => typeof a === 'string' && a.length > 0);
  return { ...(audience ? { audience } : {}), ...(typeof auth.loginEndpoint === 'string' ? { loginEndpoint: auth.loginEndpoint } : {}) };
}

/** Reads `{endpoint}/metadata/endpoints`; undefined when the endpoint has none (404). */
export async function readCloudMetadata(endpoint: string, signal: AbortSignal): Promise<CloudMetadata | undefined> {
  // The entry point may have asked already (oidc-prefetch.ts); a clear answer is used, anything else is asked again here.
  const prefetched = await abortable(takePrefetchedMetadata(endpoint) ?? Promise.resolve(undefined), signal);
  if (prefetched?.status === 404) return undefined;
  if (prefetched?.status === 200) {
    try {
      return parseMetadata(JSON.parse(prefetched.body), endpoint);
    } catch {
      // not JSON: ask again, and fail as the SDK's read does
    }
  }
  const client = getClient(endpoint, { userAgentOptions: { userAgentPrefix: USER_AGENT }, retryOptions: { maxRetries: 2 }, additionalPolicies: [{ policy: boundedBodyPolicy(METADATA_ANSWER), position: 'perRetry' }] });
  let response: PathUncheckedResponse;
  try {
    response = await client.pathUnchecked('/metadata/endpoints').get({ queryParameters: { 'api-version': METADATA_API_VERSION }, abortSignal: signal });
  } catch (error) {
    if (signal.aborted) throw error;
    throw new ActionError(`Could not read the cloud metadata at ${endpoint}/metadata/endpoints (${q((error as Error).message ?? String(error))}). Check resource-manager-endpoint, or give resource-manager-audience and authority-host.`);
  }
  if (response.status === '404') return undefined;
  if (response.status !== '200') {
    throw new ActionError(`The cloud metadata at ${endpoint}/metadata/endpoints answered HTTP ${response.status}. Check resource-manager-endpoint, or give resource-manager-audience and authority-host.`);
  }
  return parseMetadata(response.body, endpoint);
}
