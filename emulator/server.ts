// One HTTPS server on 127.0.0.1 that plays GitHub's OIDC provider, Microsoft Entra ID and
// Azure Resource Manager. At its own origin, routes are told apart by path (tenant ids never
// collide with `subscriptions` or `_services`), so a single origin serves all three. Through
// the proxy mode it also answers as login.microsoftonline.com, management.azure.com and the
// other built-in clouds' hosts, each host serving only its own service.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { Controls, handleAdmin, isAdminPath } from './admin.ts';
import { handleArm, matchArm, type Arm, type ArmMatch } from './arm.ts';
import { OperationEngine } from './arm-operations.ts';
import { EMULATOR_AUDIENCE, emulatedHosts, emulatorCloud, type CloudProfile } from './clouds.ts';
import { classifyEntra, handleEntra, aadError, type Entra } from './entra.ts';
import { Faults, type FaultRule } from './faults.ts';
import { classifyGithubApi, GithubApi, handleGithubApi } from './github-api.ts';
import { classifyGithub, GITHUB_TOKEN_LIFETIME_S, GITHUB_TOKEN_PATH, handleGithub, type GithubOidc } from './github-oidc.ts';
import { armError, readBody, send, type Exchange, type Site } from './http.ts';
import { makeSigningKey } from './keys.ts';
import { redactBody, RequestLog, type LoggedRequest } from './log.ts';
import { IdSource } from './ids.ts';
import { DEFAULT_BUDGETS, Limits, mergeBudgets, type BudgetsInput } from './limits.ts';
import { startProxy, type Proxy } from './proxy.ts';
import { State, type Seed } from './state.ts';
import { makeTlsMaterial, type TlsMaterial } from './tls.ts';

export { EMULATOR_AUDIENCE } from './clouds.ts';
export type { Controls } from './admin.ts';
export type { Budgets, BudgetsInput, Bucket, ComputePolicy } from './limits.ts';

export interface StartOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  seed?: Seed;
  /** Seed of the id generator: the same number gives the same principal and operation ids. Without it, ids are fresh at every start. */
  randomSeed?: number;
  updateDurationMs?: number;
  /** Added to every request, to model the network (the benchmark uses 25 ms). */
  latencyMs?: number;
  /** Items per page of ARM lists before a nextLink (default 100); tests use 2 to exercise paging. */
  pageSize?: number;
  /**
   * ARM's request limits (see `Budgets` in limits.ts): any part of them, or `'off'`. Defaults:
   * reads 250 + 25/s, writes and deletes 200 + 10/s per subscription and caller, and Compute's
   * per-scale-set, per-operation and per-subscription policies. Changeable later through
   * `controls.setBudgets()`; the 429s sent for budgets are counted in `controls.throttled`.
   */
  budgets?: BudgetsInput | 'off';
  /**
   * The ARM token audiences of the emulator's own cloud, the preferred one first (default: its
   * own, EMULATOR_AUDIENCE): an Azure Stack Hub's `https://management.<tenant>.onmicrosoft.com/<guid>`.
   */
  audiences?: string[];
}

export interface Emulator {
  origin: string;
  port: number;
  caPath: string;
  /**
   * What a process needs in its environment to run against this emulator: the runner's OIDC
   * variables, the CA to trust, the proxy that serves the Microsoft hosts, and the ids.
   */
  env: Record<string, string>;
  urls: {
    github: string;
    githubIssuer: string;
    authorityHost: string;
    resourceManager: string;
    /** The ARM token audience of the emulator's own cloud. */
    audience: string;
    /** The cloud metadata document (`/metadata/endpoints`). */
    metadata: string;
    /** The proxy mode's URL, for HTTPS_PROXY. */
    proxy: string;
  };
  /** Host names the proxy tunnels to the emulator. */
  proxiedHosts: string[];
  state: State;
  /** GitHub's REST API for pull-request comments (at the origin; GITHUB_API_URL in `env`). */
  githubApi: GithubApi;
  log: RequestLog;
  faults: Faults;
  controls: Controls;
  /** Every token the emulator issued (GitHub ID tokens, Entra access tokens, GitHub API tokens), for leak checks. */
  issuedTokens(): string[];
  stop(): Promise<void>;
}

type Service = LoggedRequest['service'];
type Classified =
  | { service: 'github'; route: string }
  | { service: 'entra'; route: string }
  | { service: 'arm'; route: string; match: ArmMatch }
  | { service: 'graph'; route: string }
  | { service: 'emulator'; route: string };

const HOSTS = emulatedHosts();

function classify(method: string, path: string, site: Site): Classified | undefined {
  const only = site.kind === 'proxied' ? HOSTS.get(site.host)?.service : undefined;
  if (!only || only === 'github') {
    const gh = classifyGithub(method, path);
    if (gh) return { service: 'github', route: gh };
  }
  if (!only) {
    const api = classifyGithubApi(method, path);
    if (api) return { service: 'github', route: api };
  }
  if (!only || only === 'arm') {
    const arm = matchArm(method, path);
    if (arm) return { service: 'arm', route: arm.name, match: arm };
  }
  if (!only || only === 'entra') {
    const entra = classifyEntra(path);
    if (entra) return { service: 'entra', route: entra };
  }
  if (only === 'graph') return { service: 'graph', route: 'graph.denied' };
  if (!only && isAdminPath(path)) return { service: 'emulator', route: `emulator.${path.slice(11)}` };
  return undefined;
}

/** A tunnel from the proxy carries the host name in SNI; a direct connection to 127.0.0.1 sends none. */
function siteOf(socket: TLSSocket): Site {
  const name = typeof socket.servername === 'string' ? socket.servername.toLowerCase() : '';
  return HOSTS.has(name) ? { kind: 'proxied', host: name } : { kind: 'origin' };
}

/** Everything the emulator's services share, made once at start. */
interface World {
  origin: string;
  port: number;
  ownCloud: CloudProfile;
  github: GithubOidc;
  entra: Entra;
  state: State;
  githubApi: GithubApi;
  faults: Faults;
  log: RequestLog;
  controls: Controls;
  compute: OperationEngine;
  arm: Arm;
}

/** How a request ended, for the log: the fault rules it fired, and whether it got no answer. */
interface Outcome {
  fired: FaultRule[];
  dropped: boolean;
  aborted: boolean;
}

export async function start(options: StartOptions = {}): Promise<Emulator> {
  const tls = await makeTlsMaterial([...HOSTS.keys()]);
  const dir = mkdtempSync(join(tmpdir(), 'vmss-emulator-'));
  const caPath = join(dir, 'ca.pem');
  writeFileSync(caPath, tls.caPem);

  const server = await listen(tls, options.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const world = await makeWorld(`https://127.0.0.1:${port}`, port, options);
  server.on('request', (req, res) => void serve(world, req, res));

  const proxy: Proxy = await startProxy(server, (host) => HOSTS.has(host), (target) => world.log.refusedConnects.push({ at: Date.now(), target }));
  const env = runnerEnv(world, caPath);
  const stop = async (): Promise<void> => {
    await proxy.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  };
  return emulatorOf(world, { caPath, env, proxyUrl: proxy.url, audience: options.audiences?.[0] ?? EMULATOR_AUDIENCE, stop });
}

async function listen(tls: TlsMaterial, port: number): Promise<Server> {
  const server: Server = createServer({ cert: tls.certPem, key: tls.keyPem, ca: tls.caPem });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return server;
}

async function makeWorld(origin: string, port: number, options: StartOptions): Promise<World> {
  const ownCloud = emulatorCloud(origin, options.audiences);
  const [ghKey, entraKey] = await Promise.all([makeSigningKey('github-1'), makeSigningKey('entra-1')]);
  const github: GithubOidc = { issuer: origin, key: ghKey, requestToken: randomBytes(24).toString('base64url'), lifetimeSeconds: GITHUB_TOKEN_LIFETIME_S, issued: [] };
  const loginHosts = [...HOSTS].filter(([, h]) => h.service === 'entra').map(([name]) => name);
  const servedHosts = new Map<string, string>([[`127.0.0.1:${port}`, origin], ['127.0.0.1', origin], ...loginHosts.map((h): [string, string] => [h, `https://${h}`])]);
  const entra: Entra = { servedHosts, key: entraKey, accessTokenLifetimeSeconds: 3599, issued: [] };
  const ids = new IdSource(options.randomSeed ?? randomInt(1, 2 ** 31));
  const state = new State(options.seed ?? {}, ids, github.issuer);
  const githubApi = new GithubApi();
  const faults = new Faults();
  const log = new RequestLog();
  const limits = new Limits(mergeBudgets(DEFAULT_BUDGETS, options.budgets));
  const controls = new Controls(faults, github, entra, limits, { updateDurationMs: options.updateDurationMs ?? 1000, latencyMs: options.latencyMs ?? 0 });
  if (options.pageSize !== undefined) controls.pageSize = options.pageSize;
  const compute = new OperationEngine(controls, ids, 'Microsoft.Compute', controls.operations);
  const arm: Arm = { state, entra, compute, principals: controls, pageSize: () => controls.pageSize, limits };
  return { origin, port, ownCloud, github, entra, state, githubApi, faults, log, controls, compute, arm };
}

/** One request from arrival to the log: read, faults applied, answered (or not), logged. */
async function serve(world: World, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const startedAt = Date.now();
  const site = siteOf(req.socket as TLSSocket);
  const base = site.kind === 'proxied' ? `https://${site.host}` : world.origin;
  // `//metadata/endpoints` (az 2.45) is a path, not a host.
  const url = new URL((req.url ?? '/').replace(/^\/{2,}/, '/'), base);
  const method = (req.method ?? 'GET').toUpperCase();
  const kind = classify(method, url.pathname, site);
  const x: Exchange = { req, res, url, method, body: '', base, site, route: kind?.route ?? 'unknown', delayAfterMs: 0 };
  res.on('error', () => undefined);
  const outcome = await answer(world, x, kind, startedAt);
  for (const f of outcome.fired) if (f.action.kind === 'after') f.action.run();
  if (kind?.service === 'emulator') return;
  world.log.add(logEntry(world, x, kind, outcome, startedAt));
}

async function answer(world: World, x: Exchange, kind: Classified | undefined, startedAt: number): Promise<Outcome> {
  const outcome: Outcome = { fired: [], dropped: false, aborted: false };
  try {
    if (kind?.service !== 'emulator') world.log.arrive({ at: startedAt, route: x.route, method: x.method, path: x.url.pathname, host: hostOf(x.site, world.port) });
    x.body = await readBody(x.req);
    outcome.fired = world.faults.take(x.route, x.method, x.body);
    await applyFaults(x, outcome.fired, world.controls);
    if (outcome.fired.some((f) => f.action.kind === 'drop')) {
      outcome.dropped = true;
      x.req.socket.destroy();
    } else {
      await dispatch(world, x, kind, outcome.fired);
    }
  } catch (error) {
    // The client went away (its socket closed). Not req.destroyed: on Node 24 a request whose
    // body was read whole is destroyed too, and its client still waits for the 500.
    outcome.aborted = x.res.destroyed || x.req.socket.destroyed;
    if (!outcome.aborted) await armError(x, 500, 'InternalServerError', `Emulator error: ${(error as Error).message}`).catch(() => undefined);
  }
  return outcome;
}

/** The fired rules that shape the answer rather than replace it: latency, holds, a lost response, a rewrite. */
async function applyFaults(x: Exchange, fired: FaultRule[], controls: Controls): Promise<void> {
  if (controls.latencyMs > 0) await sleep(controls.latencyMs);
  for (const f of fired) {
    if (f.action.kind !== 'latency') continue;
    if (f.action.phase === 'after') x.delayAfterMs += f.action.ms;
    else await sleep(f.action.ms);
  }
  for (const f of fired) if (f.action.kind === 'hold') await holdUntil(f.action.until, f.action.maxMs ?? 30_000);
  if (fired.some((f) => f.action.kind === 'loseResponse')) x.loseResponse = true;
  for (const f of fired) if (f.action.kind === 'rewrite') x.rewrite = f.action;
}

async function dispatch(world: World, x: Exchange, kind: Classified | undefined, fired: FaultRule[]): Promise<void> {
  const status = fired.find((f) => f.action.kind === 'status');
  if (status && status.action.kind === 'status') return faultAnswer(x, kind?.service, status.action);
  if (!kind) return send(x, 404, { error: { code: 'NotFound', message: `No route for ${x.method} ${x.url.pathname}` } });
  const { github, githubApi, entra, state, arm, controls, log, faults, compute } = world;
  switch (kind.service) {
    case 'github': return kind.route.startsWith('github.api.') ? handleGithubApi(x, githubApi, state) : handleGithub(x, github, state);
    case 'entra': return handleEntra(x, entra, github, state);
    case 'arm': return handleArm(x, kind.match, arm, cloudOf(x.site, world.ownCloud));
    case 'graph': return graphDenied(x);
    case 'emulator': return handleAdmin(x, { controls, state, log, faults, compute });
  }
}

function cloudOf(site: Site, ownCloud: CloudProfile): CloudProfile {
  return site.kind === 'proxied' ? (HOSTS.get(site.host)?.cloud ?? ownCloud) : ownCloud;
}

function hostOf(site: Site, port: number): string {
  return site.kind === 'proxied' ? site.host : `127.0.0.1:${port}`;
}

function logEntry(world: World, x: Exchange, kind: Classified | undefined, outcome: Outcome, startedAt: number): Omit<LoggedRequest, 'seq'> {
  const { site, url } = x;
  const { fired, dropped, aborted } = outcome;
  const body = redactBody(x.body, x.req.headers['content-type']);
  return {
    at: startedAt,
    service: (kind?.service ?? (site.kind === 'proxied' ? HOSTS.get(site.host)?.service : 'arm') ?? 'arm') as Service,
    route: x.route,
    method: x.method,
    path: url.pathname,
    host: hostOf(site, world.port),
    via: site.kind === 'proxied' ? 'proxy' : 'direct',
    ...(url.searchParams.get('api-version') ? { apiVersion: url.searchParams.get('api-version') as string } : {}),
    ...(url.searchParams.has('$filter') ? { filter: url.searchParams.get('$filter') as string } : {}),
    status: dropped || aborted ? 0 : (x.status ?? 0),
    durationMs: Date.now() - startedAt,
    ...(x.caller ? { caller: x.caller } : {}),
    ...(fired.length ? { fault: fired.map((f) => f.label ?? f.action.kind).join(',') } : {}),
    ...(body !== undefined ? { body } : {}),
    ...(x.throttled ? { throttled: x.throttled } : {}),
    ...(aborted ? { aborted: true as const } : {}),
  };
}

/** What a process needs to run against the emulator: the runner's OIDC variables, the CA, the GitHub API and the default ids. */
function runnerEnv(world: World, caPath: string): Record<string, string> {
  const { origin, github, state } = world;
  const defaultApp = state.apps[0];
  const defaultSub = [...state.subscriptions.values()][0];
  return {
    ACTIONS_ID_TOKEN_REQUEST_URL: `${origin}${GITHUB_TOKEN_PATH}?api-version=2.0`,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken,
    NODE_EXTRA_CA_CERTS: caPath,
    GITHUB_API_URL: origin,
    ...(defaultApp ? { AZURE_CLIENT_ID: defaultApp.clientId, AZURE_TENANT_ID: defaultApp.tenantId } : {}),
    ...(defaultSub ? { AZURE_SUBSCRIPTION_ID: defaultSub.id } : {}),
  };
}

interface Running {
  caPath: string;
  env: Record<string, string>;
  proxyUrl: string;
  audience: string;
  stop(): Promise<void>;
}

function emulatorOf(world: World, running: Running): Emulator {
  const { origin, port, github, entra, state, githubApi, log, faults, controls } = world;
  const { caPath, env, proxyUrl, audience, stop } = running;
  return {
    origin,
    port,
    caPath,
    env,
    urls: {
      github: env['ACTIONS_ID_TOKEN_REQUEST_URL'] as string,
      githubIssuer: github.issuer,
      authorityHost: origin,
      resourceManager: origin,
      audience,
      metadata: `${origin}/metadata/endpoints?api-version=2022-09-01`,
      proxy: proxyUrl,
    },
    proxiedHosts: [...HOSTS.keys()],
    state,
    githubApi,
    log,
    faults,
    controls,
    issuedTokens: () => [...github.issued, ...entra.issued, ...githubApi.allTokens()],
    stop,
  };
}

/** Graph's answer to an app without directory permissions. */
function graphDenied(x: Exchange): Promise<void> {
  const requestId = randomUUID();
  const inner = { date: new Date().toISOString().replace(/\.\d+Z$/, ''), 'request-id': requestId, 'client-request-id': requestId };
  if (!x.req.headers.authorization) {
    return send(x, 401, { error: { code: 'InvalidAuthenticationToken', message: 'Access token is empty.', innerError: inner } });
  }
  return send(x, 403, { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.', innerError: inner } });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function holdUntil(until: () => boolean, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (!until() && Date.now() < deadline) await sleep(10);
}

async function faultAnswer(x: Exchange, service: Service | undefined, a: Extract<FaultRule['action'], { kind: 'status' }>): Promise<void> {
  const headers = { ...(a.retryAfter !== undefined ? { 'retry-after': String(a.retryAfter) } : {}), ...(a.headers ?? {}) };
  if (service === 'entra') {
    return aadError(x, a.status, a.code ?? 'temporarily_unavailable', 90033, a.message ?? 'A transient error has occurred. Please try again.');
  }
  if (service === 'github') return send(x, a.status, { message: a.message ?? 'Service Unavailable' }, headers);
  if (a.status === 429) {
    return armError(x, 429, a.code ?? 'OperationNotAllowed', a.message ?? 'The server rejected the request because too many requests have been received for this subscription.', {
      details: [{ code: 'TooManyRequests', target: 'Microsoft.Compute/HighCostGet30Min', message: '{"operationGroup":"HighCostGet30Min","allowedRequestCount":800,"measuredRequestCount":1238}' }],
    }, headers);
  }
  const defaults: Record<number, [string, string]> = {
    409: ['Conflict', 'The request failed due to conflict with a concurrent request. To resolve it, please refer to https://aka.ms/activitylog to get more details on the conflicting requests.'],
    500: ['InternalServerError', 'Encountered internal server error. Diagnostic information: timestamp, subscription id, tracking id, request correlation id.'],
    503: ['ServiceUnavailable', 'The service is temporarily unavailable. Please try again later.'],
  };
  const [code, message] = defaults[a.status] ?? ['Error', `HTTP ${a.status}`];
  return armError(x, a.status, a.code ?? code, a.message ?? message, {}, headers);
}
