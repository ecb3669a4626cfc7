// Reading and updating a scale set through ARM with the Azure SDK: the Compute client's
// context (pipeline with bearer token, retries, throttling, user agent) and core-lro's poller
// for the long-running operation (which honours Retry-After). Only the two Compute calls the
// action needs are made here: ComputeManagementClient would bundle all of Compute's ~900 KB.
import { createComputeManagement, type ComputeManagementContext } from '@azure/arm-compute/api';
import { createRestError, type PathUncheckedResponse } from '@azure-rest/core-client';
import { createHttpPoller, type OperationResponse } from '@azure/core-lro';
import type { TokenCredential } from '@azure/identity';
import type { Cloud } from '../cloud.ts';
import { fromArm, type ArmIdentity, type ScaleSetIdentity } from '../identity.ts';
import type { IdentityPatch } from '../plan.ts';
import { scaleSetId, type ScaleSetRef } from '../resource-id.ts';
import { sleep } from '../sleep.ts';

export const USER_AGENT = 'vmss-identity-action/1.0';
/** The Compute API version of the recorded traffic; identity PATCH and If-Match work the same in every version since 2023-09-01. */
export const COMPUTE_API_VERSION = '2024-11-01';
/** How often to ask whether Azure has finished when it gives no Retry-After (the SDK's default is 2 s). */
export const POLL_INTERVAL_MS = 1000;
/** All scale sets of one step together poll at most this often, to stay clear of ARM's read quota. */
export const MAX_POLLS_PER_SECOND = 20;

/** The poll interval when `parallel` scale sets are waiting at once. */
export function pollIntervalMs(parallel: number): number {
  return Math.max(POLL_INTERVAL_MS, Math.ceil((parallel * 1000) / MAX_POLLS_PER_SECOND));
}

const LEGACY_PUBLISHER = 'microsoft.managedidentity';
const VMSS_PATH = '/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Compute/virtualMachineScaleSets/{vmScaleSetName}';
const API = { 'api-version': COMPUTE_API_VERSION };

export interface ScaleSetState {
  ref: ScaleSetRef;
  id: string;
  etag?: string;
  identity: ScaleSetIdentity;
  orchestrationMode?: string;
  provisioningState?: string;
  upgradePolicy?: string;
  /** Names of the retired ManagedIdentityExtensionForWindows/ForLinux extensions still installed. */
  legacyExtensions: string[];
}

export interface UpdateHooks {
  signal: AbortSignal;
  /** Called once Azure accepted the write, with the URL to follow the operation at. */
  onAccepted?: (operationUrl: string | undefined) => void;
}

/** The parts of ARM's scale set JSON the action reads. */
interface ArmScaleSet {
  id?: string;
  etag?: string;
  identity?: ArmIdentity;
  properties?: {
    orchestrationMode?: string;
    provisioningState?: string;
    upgradePolicy?: { mode?: string };
    virtualMachineProfile?: { extensionProfile?: { extensions?: { name?: string; properties?: { publisher?: string; type?: string } }[] } };
  };
}

function toState(ref: ScaleSetRef, vmss: ArmScaleSet): ScaleSetState {
  const p = vmss.properties ?? {};
  const extensions = p.virtualMachineProfile?.extensionProfile?.extensions ?? [];
  return {
    ref,
    id: vmss.id ?? scaleSetId(ref),
    ...(vmss.etag ? { etag: vmss.etag } : {}),
    identity: fromArm(vmss.identity),
    ...(p.orchestrationMode ? { orchestrationMode: p.orchestrationMode } : {}),
    ...(p.provisioningState ? { provisioningState: p.provisioningState } : {}),
    ...(p.upgradePolicy?.mode ? { upgradePolicy: p.upgradePolicy.mode } : {}),
    legacyExtensions: extensions
      .filter((e) => e.properties?.publisher?.toLowerCase() === LEGACY_PUBLISHER)
      .map((e) => e.name ?? e.properties?.type ?? 'ManagedIdentityExtension'),
  };
}

function expect(response: PathUncheckedResponse, statuses: string[]): PathUncheckedResponse {
  if (!statuses.includes(response.status)) throw createRestError(response);
  return response;
}

function lroResponse(response: PathUncheckedResponse): OperationResponse<PathUncheckedResponse> {
  return { flatResponse: response, rawResponse: { ...response, statusCode: Number(response.status), body: response.body } };
}

export class ScaleSets {
  private readonly contexts = new Map<string, ComputeManagementContext>();
  private readonly credential: TokenCredential;
  private readonly cloud: Cloud;
  private readonly pollMs: number;

  constructor(credential: TokenCredential, cloud: Cloud, pollMs = POLL_INTERVAL_MS) {
    this.credential = credential;
    this.cloud = cloud;
    this.pollMs = pollMs;
  }

  private context(subscriptionId: string): ComputeManagementContext {
    let context = this.contexts.get(subscriptionId.toLowerCase());
    if (!context) {
      context = createComputeManagement(this.credential, subscriptionId, {
        endpoint: this.cloud.resourceManager,
        credentials: { scopes: [this.cloud.scope] },
        userAgentOptions: { userAgentPrefix: USER_AGENT },
        retryOptions: { maxRetries: 4, retryDelayInMs: 1000, maxRetryDelayInMs: 16000 },
      });
      this.contexts.set(subscriptionId.toLowerCase(), context);
    }
    return context;
  }

  private resource(ref: ScaleSetRef, suffix = '', ...params: string[]) {
    return this.context(ref.subscriptionId).path(`${VMSS_PATH}${suffix}`, ref.subscriptionId, ref.resourceGroup, ref.name, ...params);
  }

  async read(ref: ScaleSetRef, signal: AbortSignal): Promise<ScaleSetState> {
    const response = expect(await this.resource(ref).get({ queryParameters: API, abortSignal: signal }), ['200']);
    return toState(ref, response.body as ArmScaleSet);
  }

  /**
   * Follows a long-running operation to its end with core-lro's poller, polling at a fixed rate
   * (one interval between the starts of two polls, so round trips do not add up into drift) and
   * not at once: Compute has only just accepted the write. A Retry-After from Azure wins.
   */
  private async follow(ref: ScaleSetRef, start: () => Promise<PathUncheckedResponse>, signal: AbortSignal): Promise<unknown> {
    const context = this.context(ref.subscriptionId);
    let retryAfterMs: number | undefined;
    const noteRetryAfter = (response: PathUncheckedResponse) => {
      const seconds = Number(response.headers['retry-after']);
      retryAfterMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
      return response;
    };
    // core-lro treats any failed poll as the operation failing. The write is in, though: a
    // throttled status poll (429 without Retry-After, which the SDK does not retry) only delays
    // the answer, so it is waited out here.
    const getStatus = async (path: string, abortSignal: AbortSignal): Promise<PathUncheckedResponse> => {
      for (let throttled = 1; ; throttled++) {
        const response = noteRetryAfter(await context.pathUnchecked(path).get({ abortSignal }));
        if (response.status !== '429') return expect(response, ['200', '201', '202', '204']);
        await sleep(retryAfterMs ?? Math.min(30_000, this.pollMs * 2 ** throttled), abortSignal);
      }
    };
    const poller = createHttpPoller<unknown, never>({
      sendInitialRequest: async () => lroResponse(noteRetryAfter(await start())),
      sendPollRequest: async (path) => lroResponse(await getStatus(path, signal)),
    }, {
      intervalInMs: this.pollMs,
      resourceLocationConfig: 'location',
      processResult: async (result) => (result as PathUncheckedResponse).body,
    });
    await poller.submitted();
    let next = Date.now() + (retryAfterMs ?? this.pollMs);
    while (!poller.isDone) {
      await sleep(Math.max(0, next - Date.now()), signal);
      const sentAt = Date.now();
      await poller.poll({ abortSignal: signal });
      next = retryAfterMs !== undefined ? Date.now() + retryAfterMs : sentAt + this.pollMs;
    }
    return poller.pollUntilDone({ abortSignal: signal });
  }

  /** PATCHes the identity with If-Match and waits for Azure to finish; returns the state Azure reports afterwards. */
  async update(ref: ScaleSetRef, patch: IdentityPatch, etag: string | undefined, hooks: UpdateHooks): Promise<ScaleSetState> {
    const final = await this.follow(ref, async () => {
      const response = expect(await this.resource(ref).patch({
        queryParameters: API,
        headers: etag ? { 'if-match': etag } : {},
        body: patch,
        abortSignal: hooks.signal,
      }), ['200', '201', '202']);
      hooks.onAccepted?.(response.headers['azure-asyncoperation'] ?? response.headers['location']);
      return response;
    }, hooks.signal);
    return toState(ref, final as ArmScaleSet);
  }

  /** Deletes a scale-set extension and waits for Azure to finish. */
  async removeExtension(ref: ScaleSetRef, name: string, signal: AbortSignal): Promise<void> {
    await this.follow(ref, async () =>
      expect(await this.resource(ref, '/extensions/{vmssExtensionName}', name).delete({ queryParameters: API, abortSignal: signal }), ['200', '202', '204']), signal);
  }
}
