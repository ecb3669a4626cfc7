// Real Azure SDK clients (and a raw HTTPS client) pointed at the emulator.
import { request } from 'node:https';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { readFileSync } from 'node:fs';
import { ComputeManagementClient } from '@azure/arm-compute';
import { ClientAssertionCredential, type TokenCredential } from '@azure/identity';
import type { Emulator } from '../../emulator/server.ts';
import { DEPLOYER_CLIENT_ID, SUB, TENANT } from './emulator.ts';

/** In-process SDK clients trust the emulator's CA the way NODE_EXTRA_CA_CERTS makes a child process trust it. */
export function trust(em: Emulator): void {
  const ca = readFileSync(em.caPath, 'utf8');
  const current = getCACertificates('default');
  if (!current.includes(ca)) setDefaultCACertificates([...current, ca]);
}

export async function githubToken(em: Emulator, audience = 'api://AzureADTokenExchange'): Promise<string> {
  const res = await raw(em, 'GET', `${em.urls.github}&audience=${encodeURIComponent(audience)}`, undefined, { authorization: `Bearer ${em.env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']}` });
  return (JSON.parse(res.body) as { value: string }).value;
}

export function credential(em: Emulator, clientId = DEPLOYER_CLIENT_ID, tenantId = TENANT, assertion?: () => Promise<string>): ClientAssertionCredential {
  trust(em);
  return new ClientAssertionCredential(tenantId, clientId, assertion ?? (() => githubToken(em)), {
    authorityHost: em.urls.authorityHost,
    disableInstanceDiscovery: true,
    retryOptions: { maxRetries: 1, retryDelayInMs: 10 },
  });
}

/** The scope for ARM at the emulator's own origin, which accepts only the emulator's audience. */
export const armScope = (em: Emulator) => `${em.urls.audience}.default`;

export function compute(em: Emulator, cred: TokenCredential = credential(em), retries = 3): ComputeManagementClient {
  trust(em);
  return new ComputeManagementClient(cred, SUB, {
    endpoint: em.urls.resourceManager,
    credentials: { scopes: [armScope(em)] },
    retryOptions: { maxRetries: retries, retryDelayInMs: 20, maxRetryDelayInMs: 100 },
  });
}

export async function armToken(em: Emulator, clientId = DEPLOYER_CLIENT_ID): Promise<string> {
  return (await credential(em, clientId).getToken(armScope(em)))?.token ?? '';
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A plain HTTPS request trusting the emulator's CA; `url` may be a path. */
export function raw(em: Emulator, method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  const target = new URL(url, em.origin);
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(target, {
      method,
      ca: readFileSync(em.caPath),
      headers: { ...(text ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) } : {}), ...headers },
    }, (res) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    if (text) req.write(text);
    req.end();
  });
}

export async function arm(em: Emulator, token: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawResponse & { json: Record<string, unknown> }> {
  const res = await raw(em, method, path, body, { authorization: `Bearer ${token}`, ...headers });
  return { ...res, json: res.body ? (JSON.parse(res.body) as Record<string, unknown>) : {} };
}
