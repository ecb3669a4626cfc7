// Reading and updating a scale set through ARM with the Azure SDK: the Compute client's
// context (pipeline with bearer token, retries for reads, user agent) and core-lro's poller
// for the long-running operation. Only the Compute calls the action needs are made here:
// ComputeManagementClient would bundle all of Compute's ~900 KB.
import { createHash } from 'node:crypto';
import { createComputeManagement, type ComputeManagementContext } from '@azure/arm-compute/api';
import type { PathUncheckedResponse } from '@azure-rest/core-client';
import { createHttpPoller, type OperationResponse } from '@azure/core-lro';
import type { TokenCredential } from '@azure/identity';
import { sleep } from '../abort.ts';
import { MAX_LIST_PAGES, MAX_PAGE_ITEMS } from '../bounds.ts';
import { askedWaitMs, backoffMs, headersOf } from '../backoff.ts';
import type { IdentityPatch } from '../plan.ts';
import type { ScaleSetRef } from '../settings.ts';
import { armFailure, ArmRequestError, failureFromBody, failureFromResponse, type ArmErrorDetail } from './arm-errors.ts';
import { clip } from '../text.ts';
import type { UserAssignedIdentity } from '../identity.ts';
import { checkOperationStatus, identityIdAnswer, userAssignedIdentityAnswer, InvalidAnswer, listedScaleSet, listPage, operationUrlAnswer, scaleSetAnswer, type ListedScaleSet, type ScaleSetState } from './answers.ts';
import { clientOptions, type Endpoint, type Purpose } from './client.ts';

/** The Compute API version of the recorded traffic; identity PATCH and If-Match work the same in every version since 2023-09-01. */
export const COMPUTE_API_VERSION = '2024-11-01';
/** How often to ask whether Azure has finished when it gives no Retry-After (the SDK's default is 2 s). */
export const POLL_INTERVAL_MS = 1000;
/** The scale sets of one subscription together poll at most this often, to stay clear of its read budget (25 a second). */
export const MAX_POLLS_PER_SECOND = 20;

/** The poll interval when `parallel` scale sets are waiting at once. */
export function pollIntervalMs(parallel: number): number {
  return Math.max(POLL_INTERVAL_MS, Math.ceil((parallel * 1000) / MAX_POLLS_PER_SECOND));
}

const MANAGED_IDENTITY_API_VERSION = '2023-01-31';
const VMSS_PATH = '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachineScaleSets/{vmScaleSetName}';
const API = { 'api-version': COMPUTE_API_VERSION };

export type { ListedScaleSet, ScaleSetState };

export interface UpdateHooks {
  signal: AbortSignal;
  /**
   * Called when the write's body is handed to the HTTP client: from then on Azure may apply it,
   * answer or not. A write stopped before this (a budget wait, a cancel) was never sent.
   */
  onSent?: () => void;
  /** Called once Azure accepted the write, with the URL to follow the operation at. */
  onAccepted?: (operationUrl: string | undefined) => void;
  /** Called when a status poll could not be answered and is tried again. */
  onPollTrouble?: (reason: string, waitMs: number) => void;
}

/** Azure accepted the write and then reported the operation as Failed or Canceled. */
export class OperationFailedError extends Error {
  readonly status: string;
  readonly code?: string;
  readonly details: ArmErrorDetail[];

  constructor(status: string, failure: { code?: string; message: string; details: ArmErrorDetail[] }) {
    super(failure.message);
    this.name = 'OperationFailedError';
    this.status = status;
    if (failure.code) this.code = failure.code;
    this.details = failure.details;
  }
}

function expect(response: PathUncheckedResponse, statuses: string[]): PathUncheckedResponse {
  if (!statuses.includes(response.status)) throw new ArmRequestError(failureFromResponse(response));
  return response;
}

/** An answer the poller reads; a status it would misread (core-lro takes any status holding 'succeeded' for Succeeded) is refused first. */
function lroResponse(response: PathUncheckedResponse): OperationResponse<PathUncheckedResponse> {
  checkOperationStatus(response.body, `the operation ${clip(new URL(response.request.url).pathname, 300)}`);
  return { flatResponse: response, rawResponse: { ...response, statusCode: Number(response.status), body: response.body } };
}

/**
 * A status poll that failed without telling us anything about the operation itself (an access
 * token that expired on its way is renewed by the pipeline on the next try).
 */
function isTransient(error: unknown): boolean {
  const f = armFailure(error);
  return f.network || f.statusCode === 408 || f.statusCode === 429 || (f.statusCode !== undefined && f.statusCode >= 500) || f.code === 'ExpiredAuthenticationToken';
}

/** A listing ends: at a page it already read (a loop), or past MAX_LIST_PAGES pages. */
function checkPaging(url: string, followed: Set<string>): void {
  // Digests: a thousand next links of any length take a few kilobytes.
  const digest = createHash('sha256').update(url).digest('base64');
  if (followed.has(digest)) {
    throw new ArmRequestError({ message: `a list answer's next page (${clip(url, 300)}) is one this listing already read: the listing would never end`, details: [], network: false });
  }
  if (followed.size >= MAX_LIST_PAGES) {
    throw new ArmRequestError({ message: `the listing did not end after ${MAX_LIST_PAGES} pages; the action reads no more of it`, details: [], network: false });
  }
  followed.add(digest);
}

/** ARM never sends more than MAX_PAGE_ITEMS items a page: a bigger page is not a valid answer. */
function checkPageSize(items: unknown): void {
  if (Array.isArray(items) && items.length > MAX_PAGE_ITEMS) {
    throw new ArmRequestError({ message: `a list answer held ${items.length} scale sets on one page, and ARM sends at most ${MAX_PAGE_ITEMS}: not a valid answer, none of it was used`, details: [], network: false });
  }
}

export class ScaleSets {
  private readonly contexts = new Map<string, ComputeManagementContext>();
  private readonly credential: TokenCredential;
  private readonly cloud: Endpoint;
  private readonly pollMs: number;

  constructor(credential: TokenCredential, cloud: Endpoint, pollMs = POLL_INTERVAL_MS) {
    this.credential = credential;
    this.cloud = cloud;
    this.pollMs = pollMs;
  }

  private context(subscriptionId: string, purpose: Purpose): ComputeManagementContext {
    const key = `${purpose}|${subscriptionId.toLowerCase()}`;
    let context = this.contexts.get(key);
    if (!context) {
      context = createComputeManagement(this.credential, subscriptionId, clientOptions(this.cloud, purpose));
      this.contexts.set(key, context);
    }
    return context;
  }

  private resource(ref: ScaleSetRef, purpose: 'read' | 'write', suffix = '', ...params: string[]) {
    return this.context(ref.subscriptionId, purpose).path(`${VMSS_PATH}${suffix}`, ref.subscriptionId, ref.resourceGroup, ref.name, ...params);
  }

  /**
   * Every scale set of a resource group, or of the subscription, page by page. `nextLink` is
   * followed verbatim, but only on the cloud's own ARM host: the bearer token goes nowhere else.
   */
  async *list(subscriptionId: string, resourceGroup: string | undefined, signal: AbortSignal): AsyncGenerator<ListedScaleSet[]> {
    const context = this.context(subscriptionId, 'read');
    const scope = `/subscriptions/${subscriptionId}${resourceGroup ? `/resourceGroups/${resourceGroup}` : ''}`;
    let position = 0;
    let next: string | undefined = resourceGroup
      ? `/subscriptions/${encodeURIComponent(subscriptionId)}/resourceGroups/${encodeURIComponent(resourceGroup)}/providers/Microsoft.Compute/virtualMachineScaleSets?api-version=${COMPUTE_API_VERSION}`
      : `/subscriptions/${encodeURIComponent(subscriptionId)}/providers/Microsoft.Compute/virtualMachineScaleSets?api-version=${COMPUTE_API_VERSION}`;
    const followed = new Set<string>();
    while (next) {
      const url: string = next.startsWith('/') ? `${this.cloud.resourceManager}${next}` : next;
      this.onOwnHost(url, 'a list answer\'s next page');
      checkPaging(url, followed);
      const response = await this.page(context, url, signal);
      const page = listPage(response.body, `the list of ${scope}`);
      checkPageSize(page.items);
      yield page.items.map((item) => listedScaleSet(item, { subscriptionId, resourceGroup }, ++position));
      next = page.nextLink;
    }
  }

  /**
   * One page (its body bounded by the listing client), waiting out throttling and busy answers
   * (a 429 without Retry-After is not retried by the SDK).
   */
  private async page(context: ComputeManagementContext, url: string, signal: AbortSignal): Promise<PathUncheckedResponse> {
    for (let attempt = 0; ; attempt++) {
      try {
        return expect(await context.pathUnchecked(url).get({ abortSignal: signal }), ['200']);
      } catch (error) {
        if (signal.aborted || !isTransient(error) || attempt >= 10) throw error;
        await sleep(backoffMs(attempt, armFailure(error).headers), signal);
      }
    }
  }

  /** URLs that Azure's answers name are followed only on the cloud's own ARM host: the bearer token goes nowhere else. */
  private onOwnHost(url: string, what: string): void {
    const own = new URL(this.cloud.resourceManager);
    const target = new URL(url, own);
    if (target.origin !== own.origin) {
      throw new ArmRequestError({ message: `${what} pointed at ${clip(target.host, 100)}, outside ${own.host}; the action does not follow it`, details: [], network: false });
    }
  }

  /** Whether a user-assigned identity exists: a reference to a deleted one blocks every identity write. */
  /** A user-assigned identity with its principal and client ids; null when it does not exist (404). */
  async readIdentity(id: string, signal: AbortSignal): Promise<UserAssignedIdentity | null> {
    const subscriptionId = identityIdAnswer(id, 'a scale set').split('/')[2] ?? '';
    const response = await this.context(subscriptionId, 'read').pathUnchecked(id).get({ queryParameters: { 'api-version': MANAGED_IDENTITY_API_VERSION }, abortSignal: signal });
    if (response.status === '404') return null;
    return userAssignedIdentityAnswer(expect(response, ['200']).body, id);
  }

  async read(ref: ScaleSetRef, signal: AbortSignal): Promise<ScaleSetState> {
    const response = expect(await this.resource(ref, 'read').get({ queryParameters: API, abortSignal: signal }), ['200']);
    return scaleSetAnswer(response.body, ref);
  }

  /**
   * Follows a long-running operation to its end with core-lro's poller, polling at a fixed rate
   * (one interval between the starts of two polls, so round trips do not add up into drift) and
   * not at once: Compute has only just accepted the write. A Retry-After from Azure can slow the
   * polls, never speed them up: two status requests of one operation, retries included, are
   * always at least the poll interval (1 s or more) apart, whatever Retry-After says.
   * The write is in once accepted: a poll that fails for want of an answer (dropped connection,
   * 5xx, 429) only delays the news and is tried again until the run's deadline.
   */
  private async follow(ref: ScaleSetRef, start: () => Promise<PathUncheckedResponse>, hooks: UpdateHooks): Promise<unknown> {
    const { signal } = hooks;
    const context = this.context(ref.subscriptionId, 'poll');
    let askedMs: number | undefined;
    let lastPollAt = 0;
    const seen: { last?: PathUncheckedResponse } = {};
    const note = (response: PathUncheckedResponse) => {
      askedMs = askedWaitMs(headersOf(response));
      seen.last = response;
      return response;
    };
    const getStatus = async (path: string): Promise<PathUncheckedResponse> => {
      this.onOwnHost(path, 'an operation status URL');
      for (let attempt = 0; ; attempt++) {
        try {
          lastPollAt = Date.now();
          const response = note(await context.pathUnchecked(path).get({ abortSignal: signal }));
          return expect(response, ['200', '201', '202', '204']);
        } catch (error) {
          if (signal.aborted || !isTransient(error)) throw error;
          const wait = Math.max(this.pollMs, backoffMs(attempt, armFailure(error).headers, 30_000, this.pollMs));
          hooks.onPollTrouble?.(armFailure(error).message, wait);
          await sleep(wait, signal);
        }
      }
    };
    const poller = createHttpPoller<unknown, never>({
      sendInitialRequest: async () => lroResponse(note(await start())),
      sendPollRequest: async (path) => lroResponse(await getStatus(path)),
    }, {
      intervalInMs: this.pollMs,
      resourceLocationConfig: 'location',
      resolveOnUnsuccessful: true,
      processResult: async (result) => (result as PathUncheckedResponse).body,
    });
    await poller.submitted();
    let next = Date.now() + Math.max(this.pollMs, askedMs ?? 0);
    while (!poller.isDone) {
      await sleep(Math.max(0, next - Date.now()), signal);
      await poller.poll({ abortSignal: signal });
      next = Math.max(lastPollAt + this.pollMs, askedMs !== undefined ? Date.now() + askedMs : 0);
    }
    const status = (poller.operationState as { status?: string } | undefined)?.status ?? 'failed';
    if (status !== 'succeeded') {
      const final = seen.last;
      const body = (final?.body ?? {}) as { status?: string; error?: unknown };
      const failure = failureFromBody(Number(final?.status ?? 200), { error: body.error ?? { message: `The operation ended ${body.status ?? status} without an error.` } });
      throw new OperationFailedError(body.status ?? status, failure);
    }
    return poller.pollUntilDone({ abortSignal: signal });
  }

  /** PATCHes the identity with If-Match (sent once: no automatic retries) and waits for Azure to finish. */
  async update(ref: ScaleSetRef, patch: IdentityPatch, etag: string | undefined, hooks: UpdateHooks): Promise<ScaleSetState> {
    const final = await this.follow(ref, async () => {
      const response = expect(await this.resource(ref, 'write').patch({
        queryParameters: API,
        headers: etag ? { 'if-match': etag } : {},
        body: patch,
        abortSignal: hooks.signal,
        onUploadProgress: hooks.onSent,
      }), ['200', '201', '202']);
      const header = response.headers['azure-asyncoperation'] ?? response.headers['location'];
      const operation = header === undefined ? undefined : operationUrlAnswer(header, this.cloud.resourceManager);
      hooks.onAccepted?.(operation?.onHost ? operation.href : undefined);
      // Accepted, so reported as such; but an operation URL that is not a plain URL is not followed.
      if (header !== undefined && !operation) throw new InvalidAnswer('operation URL', `the identity update of ${ref.name}`, header);
      return response;
    }, hooks);
    return scaleSetAnswer(final, ref);
  }

  /** Deletes a scale-set extension and waits for Azure to finish. */
  async removeExtension(ref: ScaleSetRef, name: string, signal: AbortSignal, onAccepted?: () => void): Promise<void> {
    await this.follow(ref, async () => {
      const response = expect(await this.resource(ref, 'write', '/extensions/{vmssExtensionName}', name).delete({ queryParameters: API, abortSignal: signal }), ['200', '202', '204']);
      onAccepted?.();
      return response;
    }, { signal });
  }
}
