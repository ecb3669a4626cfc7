// Reading and updating a scale set through ARM with the Azure SDK: its retry policy, its
// long-running-operation poller (which honours Retry-After) and its token cache.
import { ComputeManagementClient, type VirtualMachineScaleSet, type VirtualMachineScaleSetUpdate } from '@azure/arm-compute';
import type { TokenCredential } from '@azure/identity';
import type { Cloud } from '../cloud.ts';
import { fromArm, type ArmIdentity, type ScaleSetIdentity } from '../identity.ts';
import type { IdentityPatch } from '../plan.ts';
import { scaleSetId, type ScaleSetRef } from '../resource-id.ts';
import { sleep } from '../sleep.ts';

export const USER_AGENT = 'vmss-identity-action/0.1';
/** How often to ask whether Azure has finished when it gives no Retry-After (the SDK's default is 2 s). */
export const POLL_INTERVAL_MS = 1000;
/** All scale sets of one step together poll at most this often, to stay clear of ARM's read quota. */
export const MAX_POLLS_PER_SECOND = 20;

/** The poll interval when `parallel` scale sets are waiting at once. */
export function pollIntervalMs(parallel: number): number {
  return Math.max(POLL_INTERVAL_MS, Math.ceil((parallel * 1000) / MAX_POLLS_PER_SECOND));
}
const LEGACY_PUBLISHER = 'microsoft.managedidentity';

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

function toState(ref: ScaleSetRef, vmss: VirtualMachineScaleSet): ScaleSetState {
  const extensions = vmss.virtualMachineProfile?.extensionProfile?.extensions ?? [];
  return {
    ref,
    id: vmss.id ?? scaleSetId(ref),
    ...(vmss.etag ? { etag: vmss.etag } : {}),
    identity: fromArm(vmss.identity as ArmIdentity | undefined),
    ...(vmss.orchestrationMode ? { orchestrationMode: vmss.orchestrationMode } : {}),
    ...(vmss.provisioningState ? { provisioningState: vmss.provisioningState } : {}),
    ...(vmss.upgradePolicy?.mode ? { upgradePolicy: vmss.upgradePolicy.mode } : {}),
    legacyExtensions: extensions
      .filter((e) => e.publisher?.toLowerCase() === LEGACY_PUBLISHER)
      .map((e) => e.name ?? e.type ?? 'ManagedIdentityExtension'),
  };
}

export class ScaleSets {
  private readonly clients = new Map<string, ComputeManagementClient>();
  private readonly credential: TokenCredential;
  private readonly cloud: Cloud;
  private readonly pollMs: number;

  constructor(credential: TokenCredential, cloud: Cloud, pollMs = POLL_INTERVAL_MS) {
    this.credential = credential;
    this.cloud = cloud;
    this.pollMs = pollMs;
  }

  private client(subscriptionId: string): ComputeManagementClient {
    let client = this.clients.get(subscriptionId.toLowerCase());
    if (!client) {
      client = new ComputeManagementClient(this.credential, subscriptionId, {
        endpoint: this.cloud.resourceManager,
        credentials: { scopes: [this.cloud.scope] },
        userAgentOptions: { userAgentPrefix: USER_AGENT },
        retryOptions: { maxRetries: 4, retryDelayInMs: 1000, maxRetryDelayInMs: 16000 },
      });
      this.clients.set(subscriptionId.toLowerCase(), client);
    }
    return client;
  }

  async read(ref: ScaleSetRef, signal: AbortSignal): Promise<ScaleSetState> {
    const vmss = await this.client(ref.subscriptionId).virtualMachineScaleSets.get(ref.resourceGroup, ref.name, { abortSignal: signal });
    return toState(ref, vmss);
  }

  /** Deletes a scale-set extension and waits for Azure to finish. */
  async removeExtension(ref: ScaleSetRef, name: string, signal: AbortSignal): Promise<void> {
    const poller = this.client(ref.subscriptionId).virtualMachineScaleSetExtensions.delete(ref.resourceGroup, ref.name, name, {
      updateIntervalInMs: this.pollMs,
      abortSignal: signal,
    });
    await poller.submitted();
    await sleep(this.pollMs, signal);
    await poller.pollUntilDone({ abortSignal: signal });
  }

  /** PATCHes the identity with If-Match and waits for Azure to finish; returns the state Azure reports afterwards. */
  async update(ref: ScaleSetRef, patch: IdentityPatch, etag: string | undefined, hooks: UpdateHooks): Promise<ScaleSetState> {
    let accepted = false;
    const poller = this.client(ref.subscriptionId).virtualMachineScaleSets.update(
      ref.resourceGroup,
      ref.name,
      // A null value removes a user-assigned identity; the SDK model has no type for it.
      patch as unknown as VirtualMachineScaleSetUpdate,
      {
        ...(etag ? { ifMatch: etag } : {}),
        updateIntervalInMs: this.pollMs,
        abortSignal: hooks.signal,
        onResponse: (response) => {
          if (accepted || response.request.method !== 'PATCH' || response.status >= 300) return;
          accepted = true;
          hooks.onAccepted?.(response.headers.get('azure-asyncoperation') ?? response.headers.get('location') ?? undefined);
        },
      },
    );
    // The poller would ask at once, but Compute has only just accepted the write: the first
    // poll waits one interval like the others (or Retry-After, which the poller honours after).
    await poller.submitted();
    await sleep(this.pollMs, hooks.signal);
    const vmss = await poller.pollUntilDone({ abortSignal: hooks.signal });
    return toState(ref, vmss);
  }
}
