// What the check phase asks ARM before any write: the caller's permissions at a scope
// (Microsoft.Authorization/permissions) and whether a role scope exists. Each answer is read
// once per run and scope. No Azure SDK package for modern ESM covers these two reads.
import { getClient, type Client, type PathUncheckedResponse } from '@azure-rest/core-client';
import type { TokenCredential } from '@azure/identity';
import { createHash } from 'node:crypto';
import type { PermissionBlock } from '../permissions.ts';
import { listPage, nextPageOnHost, permissionBlockAnswer } from './answers.ts';
import { ArmRequestError, failureFromResponse, type ArmFailure } from './arm-errors.ts';
import { clientOptions, type Endpoint } from './client.ts';
import { once } from './once.ts';

const PERMISSIONS_API = { 'api-version': '2022-04-01' };
const RESOURCES_API = { 'api-version': '2021-04-01' };
/** A permissions list holds one block per role assignment that reaches the scope: a few pages at most. */
const MAX_PERMISSION_PAGES = 20;

/** The permissions at a scope, or why ARM would not say. */
export type PermissionsAnswer = { blocks: PermissionBlock[] } | { refused: ArmFailure };

/** The parts of a scope: subscription, resource group, and the top-level resource's type and name. */
function scopeParts(scope: string) {
  const m = /^\/subscriptions\/([^/]+)(?:\/resourceGroups\/([^/]+)(?:\/providers\/([^/]+\/[^/]+)\/([^/]+))?)?/i.exec(scope);
  return m ? { subscription: m[1] ?? '', resourceGroup: m[2], type: m[3], name: m[4] } : undefined;
}

export class Access {
  private readonly client: Client;
  private readonly permissions = new Map<string, Promise<PermissionsAnswer>>();
  private readonly scopes = new Map<string, Promise<boolean | ArmFailure>>();

  private readonly resourceManager: string;

  constructor(credential: TokenCredential, cloud: Endpoint) {
    this.client = getClient(cloud.resourceManager, credential, clientOptions(cloud, 'read'));
    this.resourceManager = cloud.resourceManager;
  }

  /** The caller's permissions at `scope`, asked once per run. */
  permissionsAt(scope: string, signal: AbortSignal): Promise<PermissionsAnswer> {
    return once(this.permissions, scope, () => this.readPermissions(scope, signal));
  }

  private async readPermissions(scope: string, signal: AbortSignal): Promise<PermissionsAnswer> {
    const blocks: PermissionBlock[] = [];
    const followed = new Set<string>();
    let next: string | undefined = `${scope}/providers/Microsoft.Authorization/permissions`;
    let query: Record<string, string> | undefined = PERMISSIONS_API;
    while (next) {
      const digest = createHash('sha256').update(next).digest('base64');
      if (followed.has(digest) || followed.size >= MAX_PERMISSION_PAGES) throw new ArmRequestError({ message: `the permissions list at ${scope} did not end after ${followed.size} pages`, details: [], network: false });
      followed.add(digest);
      const res: PathUncheckedResponse = await this.client.pathUnchecked(next).get({ ...(query ? { queryParameters: query } : {}), abortSignal: signal });
      if (res.status !== '200') return { refused: failureFromResponse(res) };
      // A list without its `value` is no list: not "no permissions".
      const body = res.body as { value?: unknown } | undefined;
      if (!Array.isArray(body?.value)) return { refused: { statusCode: 200, message: 'the answer held no permissions list', details: [], network: false } };
      const page = listPage(body, `the permissions at ${scope}`);
      blocks.push(...page.items.map((item) => permissionBlockAnswer(item, `the permissions at ${scope}`)));
      if (page.nextLink !== undefined && nextPageOnHost(page.nextLink, this.resourceManager) === undefined) {
        return { refused: { message: `the permissions list's next page points outside ${new URL(this.resourceManager).host}; the action does not follow it`, details: [], network: false } };
      }
      next = page.nextLink;
      query = undefined;
    }
    return { blocks };
  }

  /**
   * Whether a role scope exists: a subscription or resource group is read; a resource is looked
   * for in its resource group's list (one generic read works for every resource type). A scope
   * below a resource (a storage container) is checked as far as its top-level resource.
   * An answer other than found / not found is returned for the caller to report.
   */
  scopeExists(scope: string, signal: AbortSignal): Promise<boolean | ArmFailure> {
    return once(this.scopes, scope, () => this.readScope(scope, signal));
  }

  private async readScope(scope: string, signal: AbortSignal): Promise<boolean | ArmFailure> {
    const parts = scopeParts(scope);
    if (!parts) return true; // a management group or the root: Azure checks it at the write
    const group = parts.resourceGroup ? `/resourceGroups/${parts.resourceGroup}` : '';
    const res = await this.client.pathUnchecked(`/subscriptions/${parts.subscription}${group}`).get({ queryParameters: RESOURCES_API, abortSignal: signal });
    if (res.status === '404') return false;
    if (res.status !== '200') return failureFromResponse(res);
    if (!parts.type || !parts.name) return true;
    const listed = await this.client.pathUnchecked(`/subscriptions/${parts.subscription}${group}/resources`).get({
      queryParameters: { ...RESOURCES_API, $filter: `resourceType eq '${parts.type.replace(/'/g, "''")}' and name eq '${parts.name.replace(/'/g, "''")}'` },
      abortSignal: signal,
    });
    if (listed.status !== '200') return failureFromResponse(listed);
    return listPage(listed.body, `the resources named ${parts.name} in ${group}`).items.length > 0;
  }
}

