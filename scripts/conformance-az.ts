// `npm run conformance:az`: the Azure CLI, a client nobody here wrote, against the emulator.
// It registers the emulator as a cloud from its ARM endpoint alone, signs in with a federated
// token from the emulator's GitHub OIDC route (as azure/login does), runs the scale-set
// identity, tag, extension, identity and role commands, and checks the emulator's state and
// request log after each. Without `az` it says so and fails: a skip must never look like a pass.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, type Emulator } from '../emulator/server.ts';
import { DEPLOYER_CLIENT_ID, DEPLOYER_OBJECT_ID, defaultSeed, RG, scaleSet, SUB, TENANT, uai } from '../emulator/testing.ts';
import type { LoggedRequest } from '../emulator/log.ts';

const CLOUD = 'VmssEmulator';
/** Debian's az 2.45 needs this start-up fix (see its README); current az does not. */
const SHIM = process.env['AZ_SHIM_DIR'] ?? new URL('../../shared/tools/azure-cli-debian', import.meta.url).pathname;

if (spawnSync('az', ['version'], { stdio: 'ignore' }).status !== 0) {
  process.stderr.write('conformance:az: the Azure CLI (az) is not installed, so nothing was checked. Install it (apt-get install azure-cli, or see https://aka.ms/installazurecli) and run again.\n');
  process.exit(1);
}

const edit = defaultSeed();
edit.roleAssignments?.push({ principalId: DEPLOYER_OBJECT_ID, role: 'Role Based Access Control Administrator', scope: RG });
const em = await start({ seed: edit, updateDurationMs: 300 });
// Compute sends no Retry-After, and az then waits 30 s between polls; one second keeps the run short.
em.controls.retryAfterSeconds = 1;
const config = mkdtempSync(join(tmpdir(), 'az-conformance-'));
const env: Record<string, string> = {
  PATH: process.env['PATH'] ?? '',
  HOME: config,
  AZURE_CONFIG_DIR: config,
  AZURE_CORE_COLLECT_TELEMETRY: 'false',
  AZURE_CORE_SURVEY_MESSAGE: 'false',
  AZURE_CORE_NO_COLOR: 'true',
  REQUESTS_CA_BUNDLE: em.caPath,
  HTTPS_PROXY: em.urls.proxy,
  NO_PROXY: em.env['NO_PROXY'] ?? '127.0.0.1',
  ...(existsSync(join(SHIM, 'sitecustomize.py')) ? { PYTHONPATH: SHIM } : {}),
};

async function az(...args: string[]): Promise<unknown> {
  const child = spawn('az', [...args, '--only-show-errors', '-o', 'json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`az ${args.join(' ')} exited ${code}:\n${err.trim()}`);
  return out.trim() ? JSON.parse(out) as unknown : undefined;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`check failed: ${what}`);
}

const since = (n: number): LoggedRequest[] => em.log.entries.filter((e) => e.seq > n);
const lastSeq = () => em.log.entries.at(-1)?.seq ?? 0;
const routes = (entries: LoggedRequest[]) => entries.map((e) => `${e.route}${e.via === 'proxy' ? `@${e.host}` : ''} ${e.status}`);

/** Every request the step made must have been answered without a server error. */
function noServerErrors(entries: LoggedRequest[]): void {
  const bad = entries.filter((e) => e.status >= 500 || e.status === 0);
  check(bad.length === 0, `no 5xx or dropped answers (${routes(bad).join(', ')})`);
}

interface Step {
  name: string;
  run: () => Promise<unknown>;
  verify: (out: unknown, requests: LoggedRequest[]) => void;
}

const system = (name: string) => scaleSet(em, name).identity.system !== undefined;
const uaNames = (name: string) => scaleSet(em, name).identity.userAssigned.map((u) => u.key.split('/').pop()?.toLowerCase());
const did = (requests: LoggedRequest[], route: string, status?: number) => requests.some((e) => e.route === route && (status === undefined || e.status === status));
let token = '';

const steps: Step[] = [
  {
    name: 'cloud register from the ARM endpoint alone',
    run: () => az('cloud', 'register', '-n', CLOUD, '--endpoint-resource-manager', `${em.origin}/`),
    verify: (_out, r) => check(did(r, 'arm.metadata', 200), 'az read /metadata/endpoints'),
  },
  {
    name: 'cloud update (Microsoft Graph resource id for az role) and set',
    run: async () => {
      writeFileSync(join(config, 'graph.json'), JSON.stringify({ endpoints: { microsoftGraphResourceId: 'https://graph.microsoft.com/' } }));
      await az('cloud', 'update', '-n', CLOUD, '--cloud-config', `@${join(config, 'graph.json')}`);
      return az('cloud', 'show', '-n', CLOUD);
    },
    verify: (out) => {
      const endpoints = (out as { endpoints: Record<string, string> }).endpoints;
      check(endpoints['activeDirectoryResourceId'] === em.urls.audience, `the ARM audience is the emulator's (${endpoints['activeDirectoryResourceId']})`);
      check(endpoints['activeDirectory']?.replace(/\/$/, '') === em.origin, `the login endpoint is the emulator's (${endpoints['activeDirectory']})`);
    },
  },
  {
    name: 'login with a federated token from the GitHub OIDC route',
    run: async () => {
      await az('cloud', 'set', '-n', CLOUD);
      token = await githubToken(em);
      return az('login', '--service-principal', '-u', DEPLOYER_CLIENT_ID, '--tenant', TENANT, '--federated-token', token);
    },
    verify: (out, r) => {
      const subs = out as { id: string; tenantId: string }[];
      check(subs.some((s) => s.id === SUB && s.tenantId === TENANT), 'az lists the seeded subscription');
      check(did(r, 'entra.token', 200), 'a token exchange with the federated assertion');
      check(did(r, 'arm.subscriptions.list', 200), 'GET /subscriptions');
      const token = r.find((e) => e.route === 'entra.token');
      check(JSON.stringify(token?.body ?? '').includes('[redacted]') && !JSON.stringify(em.log.entries).includes(token?.body ? 'eyJ' : '\u0000'), 'the logged assertion is redacted');
    },
  },
  {
    name: 'vmss identity show',
    run: () => az('vmss', 'identity', 'show', '-g', 'rg-prod', '-n', 'vmss-api'),
    verify: (out, r) => {
      check((out as { type: string }).type === 'SystemAssigned, UserAssigned', 'the identity as stored');
      check(r.every((e) => e.method === 'GET'), 'show writes nothing');
    },
  },
  {
    name: 'vmss identity assign [system]',
    run: () => az('vmss', 'identity', 'assign', '-g', 'rg-prod', '-n', 'vmss-web'),
    verify: (out, r) => {
      check(system('vmss-web'), 'vmss-web has a system-assigned identity');
      check((out as { systemAssignedIdentity: string }).systemAssignedIdentity === scaleSet(em, 'vmss-web').identity.system?.principalId, 'az reports its principal id');
      check(did(r, 'arm.vmss.patch', 200), 'one PATCH');
    },
  },
  {
    name: 'vmss identity assign a user-assigned id',
    run: () => az('vmss', 'identity', 'assign', '-g', 'rg-prod', '-n', 'vmss-web', '--identities', uai('id-logs')),
    verify: () => {
      check(system('vmss-web') && uaNames('vmss-web').includes('id-logs'), 'vmss-web has system + id-logs');
    },
  },
  {
    name: 'vmss identity remove the user-assigned id',
    run: () => az('vmss', 'identity', 'remove', '-g', 'rg-prod', '-n', 'vmss-web', '--identities', uai('id-logs')),
    verify: () => check(system('vmss-web') && uaNames('vmss-web').length === 0, 'vmss-web keeps only its system identity'),
  },
  {
    name: 'vmss identity remove [system]',
    run: () => az('vmss', 'identity', 'remove', '-g', 'rg-prod', '-n', 'vmss-api', '--identities', '[system]'),
    verify: () => check(!system('vmss-api') && uaNames('vmss-api').join() === 'id-app', 'vmss-api keeps only id-app'),
  },
  {
    name: 'vmss identity remove the last one',
    run: () => az('vmss', 'identity', 'remove', '-g', 'rg-prod', '-n', 'vmss-api', '--identities', uai('id-app')),
    verify: (_out, r) => {
      check(!system('vmss-api') && uaNames('vmss-api').length === 0, 'vmss-api has no identity');
      const patch = r.find((e) => e.route === 'arm.vmss.patch');
      check(JSON.stringify(patch?.body).includes('"type":"None"'), `the PATCH switched the type to None (${JSON.stringify(patch?.body)})`);
    },
  },
  {
    name: 'vmss update --set tags.env=test (a full PUT)',
    run: () => az('vmss', 'update', '-g', 'rg-prod', '-n', 'vmss-web', '--set', 'tags.env=test'),
    verify: (out, r) => {
      check(scaleSet(em, 'vmss-web').tags['env'] === 'test', 'the tag is stored');
      check(system('vmss-web'), 'the PUT kept the system identity it echoed');
      check((out as { tags: Record<string, string> }).tags['env'] === 'test', 'az shows the tag');
      check(did(r, 'arm.vmss.put', 200), 'az sent a PUT');
    },
  },
  {
    name: 'vmss extension list',
    run: () => az('vmss', 'extension', 'list', '-g', 'rg-prod', '--vmss-name', 'vmss-legacy'),
    verify: (out) => check((out as { name: string }[]).map((e) => e.name).join() === 'ManagedIdentityExtensionForLinux', 'the seeded extension'),
  },
  {
    name: 'identity show',
    run: () => az('identity', 'show', '-g', 'rg-prod', '-n', 'id-app'),
    verify: (out) => check((out as { clientId: string }).clientId === em.state.findUserAssignedIdentity(uai('id-app'))?.clientId, 'the stored client id'),
  },
  {
    name: 'role assignment create',
    run: () => az('role', 'assignment', 'create', '--assignee-object-id', scaleSet(em, 'vmss-web').identity.system?.principalId ?? '', '--assignee-principal-type', 'ServicePrincipal', '--role', 'Reader', '--scope', RG),
    verify: (_out, r) => {
      const pid = scaleSet(em, 'vmss-web').identity.system?.principalId;
      check(em.state.roleAssignments.some((a) => a.principalId === pid && a.scope === RG), 'the assignment is stored');
      check(did(r, 'arm.roleDefinitions.list', 200) && did(r, 'arm.roleAssignment.put', 201), 'role resolved by filter, then PUT');
    },
  },
  {
    name: 'role assignment list',
    run: () => az('role', 'assignment', 'list', '--scope', RG),
    verify: (out) => {
      const pid = scaleSet(em, 'vmss-web').identity.system?.principalId;
      check((out as { principalId: string; roleDefinitionName?: string }[]).some((a) => a.principalId === pid), 'az lists the new assignment');
    },
  },
];

/** The runner's ID-token request, as azure/login makes it (audience api://AzureADTokenExchange). */
function githubToken(e: Emulator): Promise<string> {
  const url = `${e.urls.github}&audience=${encodeURIComponent('api://AzureADTokenExchange')}`;
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: readFileSync(e.caPath), headers: { authorization: `Bearer ${e.env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']}` } }, (res) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c.toString()));
      res.on('end', () => resolve((JSON.parse(data) as { value: string }).value));
    });
    req.on('error', reject);
    req.end();
  });
}

const version = (JSON.parse(spawnSync('az', ['version', '-o', 'json'], { env, encoding: 'utf8' }).stdout || '{}') as Record<string, string>)['azure-cli'];
process.stdout.write(`Azure CLI ${version ?? '?'} against the emulator on ${em.origin} (proxy ${em.urls.proxy})${env['PYTHONPATH'] ? `, with ${SHIM}` : ''}\n`);
const began = Date.now();
let failed = 0;
let passed = 0;
for (const step of steps) {
  const before = lastSeq();
  const t = Date.now();
  try {
    const out = await step.run();
    const requests = since(before);
    noServerErrors(requests);
    step.verify(out, requests);
    passed++;
    process.stdout.write(`  ok    ${step.name} (${((Date.now() - t) / 1000).toFixed(1)} s; ${routes(requests).join(', ')})\n`);
  } catch (error) {
    failed++;
    process.stdout.write(`  FAIL  ${step.name}: ${(error as Error).message}\n        requests: ${routes(since(before)).join(', ')}\n`);
    if (step.name.startsWith('login') || step.name.startsWith('cloud')) break;
  }
}
check(!JSON.stringify(em.log.entries).includes(token.split('.')[2] ?? '\u0000'), 'the federated token never entered the log');
const refused = em.log.refusedConnects.map((r) => r.target);
if (passed < steps.length) failed = Math.max(failed, 1);
process.stdout.write(`${passed} of ${steps.length} steps passed in ${((Date.now() - began) / 1000).toFixed(1)} s; refused CONNECTs: ${refused.join(', ') || 'none'}\n`);
await em.stop();
rmSync(config, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
