// Role assignments for the new principals, through ARM's Microsoft.Authorization API with the
// Azure SDK's REST client (its pipeline: bearer token, retries for reads, user agent).
// No Azure SDK package wraps role assignments for modern ESM, hence these few calls by hand.
import { createHash } from 'node:crypto';
import { info } from '../writer.ts';
import { getClient, type Client, type PathUncheckedResponse } from '@azure-rest/core-client';
import type { TokenCredential } from '@azure/identity';
import { sleep } from '../abort.ts';
import { backoffMs, headersOf } from '../backoff.ts';
import { ActionError } from '../errors.ts';
import { isGuid, sameId } from '../resource-id.ts';
import { q } from '../text.ts';
import { describeRoleFailure, roleNotFound } from '../messages.ts';
import { listPage, nextPageOnHost, roleAssignmentAnswer, roleDefinitionIdAnswer, type RoleAssignmentAnswer } from './answers.ts';
import { armFailure, failureFromResponse } from './arm-errors.ts';
import { clientOptions, type Endpoint } from './client.ts';
import { once } from './once.ts';
import type { GrantedRole } from '../result.ts';

const API = { 'api-version': '2022-04-01' };
/** A principal's role assignments at one scope: a handful; pages past this are not a real list. */
const MAX_ASSIGNMENT_PAGES = 10;
/** Throttling, busy and lost answers: retried with backoff, within the run's deadline. */
const MAX_TRANSIENT_RETRIES = 8;


/** A string literal of OData: in single quotes, each quote inside doubled. */
export const odataString = (value: string): string => `'${value.replace(/'/g, "''")}'`;

/** The $filter for one principal's role assignments: only ever a GUID goes in. */
export function principalFilter(principalId: string): string {
  if (!isGuid(principalId)) throw new ActionError(`The principal ${q(principalId)} is not a GUID, so its role assignments were not looked up. Run the step again; report it if it persists.`);
  return `principalId eq ${odataString(principalId)}`;
}

/** The same scope, role and principal always give the same assignment name, so a rerun is a no-op. */
export function assignmentName(scope: string, roleDefinitionId: string, principalId: string): string {
  const h = createHash('sha256').update(`${scope.toLowerCase()}|${roleDefinitionId.toLowerCase()}|${principalId.toLowerCase()}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The id of the assignment of that role to that principal at exactly that scope, in a list. */
function assignmentIn(list: RoleAssignmentAnswer[], scope: string, roleDefinitionId: string, principalId: string): string | undefined {
  const guid = roleDefinitionId.split('/').pop()?.toLowerCase();
  return list.find((a) => sameId(a.principalId, principalId) && a.roleDefinitionId.split('/').pop()?.toLowerCase() === guid && sameId(a.scope, scope))?.id;
}

export class RoleAssignments {
  private readonly reads: Client;
  private readonly writes: Client;
  private readonly definitions = new Map<string, Promise<string>>();
  private readonly assignments = new Map<string, Promise<RoleAssignmentAnswer[]>>();

  private readonly resourceManager: string;

  constructor(credential: TokenCredential, cloud: Endpoint) {
    this.resourceManager = cloud.resourceManager;
    this.reads = getClient(cloud.resourceManager, credential, clientOptions(cloud, 'read'));
    this.writes = getClient(cloud.resourceManager, credential, clientOptions(cloud, 'write'));
  }

  /** Sends a request, waiting out throttling (429 with or without Retry-After) and busy answers. */
  private async send(what: string, signal: AbortSignal, request: () => PromiseLike<PathUncheckedResponse>): Promise<PathUncheckedResponse> {
    for (let attempt = 0; ; attempt++) {
      let response: PathUncheckedResponse;
      try {
        response = await request();
      } catch (error) {
        if (signal.aborted || !armFailure(error).network || attempt >= MAX_TRANSIENT_RETRIES) throw error;
        await sleep(backoffMs(attempt), signal);
        continue;
      }
      const status = Number(response.status);
      if (!(status === 429 || status === 503 || status === 502 || status === 504) || attempt >= MAX_TRANSIENT_RETRIES) return response;
      const wait = backoffMs(attempt, headersOf(response));
      info(`Azure RBAC answered ${status} to ${what}; trying again in ${(wait / 1000).toFixed(1)} s.`);
      await sleep(wait, signal);
    }
  }

  /** The role definition id for a name, GUID or id; one lookup per distinct name and subscription. */
  resolve(role: string, scope: string, signal: AbortSignal): Promise<string> {
    const subscription = /^\/subscriptions\/[^/]+/i.exec(scope)?.[0] ?? '';
    if (/^\/(subscriptions\/[^/]+\/)?providers\/Microsoft\.Authorization\/roleDefinitions\/[0-9a-f-]{36}$/i.test(role)) return Promise.resolve(role);
    if (isGuid(role)) return Promise.resolve(`${subscription}/providers/Microsoft.Authorization/roleDefinitions/${role}`);
    return once(this.definitions, `${subscription}|${role}`, () => this.lookup(role, scope, signal));
  }

  private async lookup(role: string, scope: string, signal: AbortSignal): Promise<string> {
    const what = `look up role ${q(role)} at ${q(scope)}`;
    const res = await this.send(what, signal, () => this.reads.pathUnchecked(`${scope}/providers/Microsoft.Authorization/roleDefinitions`).get({
      queryParameters: { ...API, $filter: `roleName eq ${odataString(role)}` },
      abortSignal: signal,
    }));
    if (res.status !== '200') throw describeRoleFailure(failureFromResponse(res), what);
    const target = `role ${q(role)} at ${q(scope)}`;
    const first = listPage(res.body, target).items[0] as { id?: unknown } | undefined;
    if (!first) throw new ActionError(roleNotFound(role, scope));
    return roleDefinitionIdAnswer(first.id, target);
  }

  /**
   * The id of an assignment of the role to the principal at exactly `scope`, whatever its name
   * (made by this action or by hand); undefined when there is none. One list per scope and
   * principal for the whole run.
   */
  async findAssignment(scope: string, roleDefinitionId: string, principalId: string, signal: AbortSignal): Promise<string | undefined> {
    const list = await once(this.assignments, `${scope}|${principalId}`, () => this.listAssignments(scope, principalId, signal));
    return assignmentIn(list, scope, roleDefinitionId, principalId);
  }

  private async listAssignments(scope: string, principalId: string, signal: AbortSignal): Promise<RoleAssignmentAnswer[]> {
    const what = `list the role assignments of ${principalId} at ${q(scope)}`;
    const target = `the role assignments of principal ${principalId} at ${q(scope)}`;
    const found: RoleAssignmentAnswer[] = [];
    let next: string | undefined = `${scope}/providers/Microsoft.Authorization/roleAssignments`;
    for (let page = 0; next; page++) {
      if (page >= MAX_ASSIGNMENT_PAGES) throw new ActionError(`Could not ${what}: the list did not end after ${MAX_ASSIGNMENT_PAGES} pages.`);
      const path: string = next;
      const res = await this.send(what, signal, () => this.reads.pathUnchecked(path).get({
        ...(page === 0 ? { queryParameters: { ...API, $filter: principalFilter(principalId) } } : {}),
        abortSignal: signal,
      }));
      if (res.status !== '200') throw describeRoleFailure(failureFromResponse(res), what);
      const body = listPage(res.body, target);
      found.push(...body.items.map((item) => roleAssignmentAnswer(item, target)));
      if (body.nextLink !== undefined && nextPageOnHost(body.nextLink, this.resourceManager) === undefined) {
        throw new ActionError(`Could not ${what}: the list's next page points outside ${new URL(this.resourceManager).host}, and the action sends its token nowhere else. Run the step again; report it if it persists.`);
      }
      next = body.nextLink;
    }
    return found;
  }

  /**
   * Creates the assignment the plan holds, waiting out Entra's replication delay for a
   * brand-new principal (PrincipalNotFound). `sent(true)` when a PUT's body is handed to the
   * HTTP client (from then on it may land), `sent(false)` when Azure answered it.
   */
  async create(g: { role: string; scope: string; roleDefinitionId: string }, principalId: string, signal: AbortSignal, sent: (inFlight: boolean) => void = () => undefined): Promise<GrantedRole> {
    const { role, scope, roleDefinitionId } = g;
    const id = `${scope}/providers/Microsoft.Authorization/roleAssignments/${assignmentName(scope, roleDefinitionId, principalId)}`;
    const what = `grant ${q(role)} at ${q(scope)} to ${principalId}`;
    for (let attempt = 0; ; attempt++) {
      let res: PathUncheckedResponse;
      try {
        res = await this.send(what, signal, () => this.writes.pathUnchecked(id).put({
          queryParameters: API,
          // principalType skips the directory lookup that fails for principals Entra has not replicated yet.
          body: { properties: { roleDefinitionId, principalId, principalType: 'ServicePrincipal' } },
          abortSignal: signal,
          onUploadProgress: () => sent(true),
        }));
      } catch (error) {
        // The answer was lost: the deterministic name tells whether the PUT landed.
        if (!signal.aborted && armFailure(error).network && await this.exists(id, what, signal)) return { role, scope, principalId, id, created: true };
        throw error;
      }
      sent(false);
      const status = Number(res.status);
      if (status === 200 || status === 201) return { role, scope, principalId, id, created: true };
      const failure = failureFromResponse(res);
      if (failure.code === 'RoleAssignmentExists') return { role, scope, principalId, id: await this.existing(scope, roleDefinitionId, principalId, signal) ?? id, created: false };
      if (failure.code === 'PrincipalNotFound') {
        const wait = Math.min(30_000, 2000 * 2 ** Math.min(attempt, 4));
        info(`Principal ${principalId} is not visible to Azure RBAC yet (Entra replication); granting ${q(role)} again in ${wait / 1000} s.`);
        await sleep(wait, signal);
        continue;
      }
      throw describeRoleFailure(failure, what);
    }
  }

  private async exists(id: string, what: string, signal: AbortSignal): Promise<boolean> {
    const res = await this.send(what, signal, () => this.reads.pathUnchecked(id).get({ queryParameters: API, abortSignal: signal }));
    if (res.status === '200') return true;
    if (res.status === '404') return false;
    throw describeRoleFailure(failureFromResponse(res), what);
  }

  /** The assignment's id after RoleAssignmentExists (made by hand, under another name): read afresh. */
  private async existing(scope: string, roleDefinitionId: string, principalId: string, signal: AbortSignal): Promise<string | undefined> {
    return assignmentIn(await this.listAssignments(scope, principalId, signal).catch(() => []), scope, roleDefinitionId, principalId);
  }
}
