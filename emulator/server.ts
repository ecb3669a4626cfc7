// One HTTPS server on 127.0.0.1 that plays GitHub's OIDC provider, Microsoft Entra ID and
// Azure Resource Manager. Routes are told apart by path (tenant ids never collide with
// `subscriptions` or `_services`), so a single origin serves all three.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { classifyArm, handleArm, settle, type Arm, type ArmControls, type OperationPlan } from './arm.ts';
import { classifyEntra, handleEntra, aadError, type Entra } from './entra.ts';
import { Faults, type FaultRule } from './faults.ts';
import { classifyGithub, GITHUB_TOKEN_LIFETIME_S, GITHUB_TOKEN_PATH, handleGithub, subjectOf, type GithubOidc } from './github-oidc.ts';
import { armError, readBody, send, type Exchange } from './http.ts';
import { EMULATOR_AUDIENCE } from './arm-auth.ts';
import { makeSigningKey } from './keys.ts';
import { RequestLog, type LoggedRequest } from './log.ts';
import { IdSource } from './ids.ts';
import { State, type Seed } from './state.ts';
import { makeTlsMaterial } from './tls.ts';

export interface StartOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  seed?: Seed;
  /** Seed of the id generator: the same number gives the same principal and operation ids. */
  randomSeed?: number;
  updateDurationMs?: number;
  /** Added to every request, to model the network (the benchmark uses 25 ms). */
  latencyMs?: number;
}

export interface Emulator {
  origin: string;
  port: number;
  caPath: string;
  /** What the action needs in its environment to talk to this emulator. */
  env: Record<string, string>;
  urls: { github: string; githubIssuer: string; authorityHost: string; resourceManager: string };
  state: State;
  log: RequestLog;
  faults: Faults;
  controls: Controls;
  /** Every token the emulator issued (GitHub ID tokens and Entra access tokens), for leak checks. */
  issuedTokens(): string[];
  stop(): Promise<void>;
}

export interface Controls extends ArmControls {
  latencyMs: number;
  /** Set the GitHub token lifetime (seconds) or the Entra access token lifetime. */
  github: GithubOidc;
  entra: Entra;
  fault(rule: FaultRule): void;
  clearFaults(): void;
  planOperation(plan: OperationPlan): void;
  /** The operations started so far, for completion-lag measurements. */
  operations: Arm['operations'];
}

type Service = LoggedRequest['service'];

function classify(method: string, path: string): { service: Service; route: string } | undefined {
  if (/^\/\/?metadata\/endpoints$/.test(path)) return { service: 'arm', route: 'arm.metadata' };
  const gh = classifyGithub(method, path);
  if (gh) return { service: 'github', route: gh };
  const arm = classifyArm(method, path);
  if (arm) return { service: 'arm', route: arm };
  const entra = classifyEntra(path);
  if (entra) return { service: 'entra', route: entra };
  if (path.startsWith('/_emulator/')) return { service: 'emulator', route: `emulator.${path.slice(11)}` };
  return undefined;
}

export async function start(options: StartOptions = {}): Promise<Emulator> {
  const tls = await makeTlsMaterial();
  const dir = mkdtempSync(join(tmpdir(), 'vmss-emulator-'));
  const caPath = join(dir, 'ca.pem');
  writeFileSync(caPath, tls.caPem);

  const server: Server = createServer({ cert: tls.certPem, key: tls.keyPem, ca: tls.caPem });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `https://127.0.0.1:${port}`;

  const [ghKey, entraKey] = await Promise.all([makeSigningKey('github-1'), makeSigningKey('entra-1')]);
  const github: GithubOidc = { issuer: origin, key: ghKey, requestToken: randomBytes(24).toString('base64url'), lifetimeSeconds: GITHUB_TOKEN_LIFETIME_S, issued: [] };
  const entra: Entra = { origin, key: entraKey, accessTokenLifetimeSeconds: 3599, issued: [] };
  const state = new State(options.seed ?? {}, new IdSource(options.randomSeed ?? 1), github.issuer);
  const arm: Arm = {
    origin,
    operations: new Map(),
    controls: { updateDurationMs: options.updateDurationMs ?? 1000, nextOperations: [], directoryLagMs: 0, lagIgnoresPrincipalType: false },
  };
  const log = new RequestLog();
  const faults = new Faults();
  const controls: Controls = Object.assign(arm.controls, {
    latencyMs: options.latencyMs ?? 0,
    github,
    entra,
    fault: (rule: FaultRule) => faults.add(rule),
    clearFaults: () => faults.clear(),
    planOperation: (plan: OperationPlan) => void arm.controls.nextOperations.push(plan),
    operations: arm.operations,
  });

  server.on('request', (req, res) => {
    void (async () => {
      const startedAt = Date.now();
      const url = new URL(req.url ?? '/', origin);
      const method = (req.method ?? 'GET').toUpperCase();
      const body = await readBody(req);
      const kind = classify(method, url.pathname);
      const x: Exchange = { req, res, url, method, body, route: kind?.route ?? 'unknown', delayAfterMs: 0 };
      const fired = faults.take(x.route, method);
      let dropped = false;
      try {
        if (controls.latencyMs > 0) await sleep(controls.latencyMs);
        for (const f of fired) {
          if (f.action.kind === 'latency') {
            if (f.action.phase === 'after') x.delayAfterMs += f.action.ms;
            else await sleep(f.action.ms);
          }
        }
        if (fired.some((f) => f.action.kind === 'loseResponse')) x.loseResponse = true;
        const drop = fired.find((f) => f.action.kind === 'drop');
        const status = fired.find((f) => f.action.kind === 'status');
        if (drop) {
          dropped = true;
          req.socket.destroy();
        } else if (status && status.action.kind === 'status') {
          await faultAnswer(x, kind?.service, status.action);
        } else if (kind?.route === 'arm.metadata') {
          await send(x, 200, [{ name: 'AzureEmulator', resourceManager: `${origin}/`, authentication: { loginEndpoint: `${origin}/`, audiences: [EMULATOR_AUDIENCE], tenant: 'common', identityProvider: 'AAD' } }]);
        } else if (!kind) {
          await send(x, 404, { error: { code: 'NotFound', message: `No route for ${method} ${url.pathname}` } });
        } else if (kind.service === 'github') {
          await handleGithub(x, github, state);
        } else if (kind.service === 'entra') {
          await handleEntra(x, entra, github, state);
        } else if (kind.service === 'arm') {
          await handleArm(x, arm, entra, state);
        } else {
          await admin(x, emulator);
        }
      } catch (error) {
        await armError(x, 500, 'InternalServerError', `Emulator error: ${(error as Error).message}`);
      }
      for (const f of fired) if (f.action.kind === 'after') f.action.run();
      if (kind?.service !== 'emulator') {
        log.add({
          at: startedAt,
          service: kind?.service ?? 'arm',
          route: x.route,
          method,
          path: url.pathname,
          ...(url.searchParams.get('api-version') ? { apiVersion: url.searchParams.get('api-version') as string } : {}),
          status: dropped ? 0 : (x.status ?? 0),
          durationMs: Date.now() - startedAt,
          ...(x.caller ? { caller: x.caller } : {}),
          ...(fired.length ? { fault: fired.map((f) => f.label ?? f.action.kind).join(',') } : {}),
        });
      }
    })();
  });

  const defaultApp = state.apps[0];
  const defaultSub = [...state.subscriptions.values()][0];
  const env: Record<string, string> = {
    ACTIONS_ID_TOKEN_REQUEST_URL: `${origin}${GITHUB_TOKEN_PATH}?api-version=2.0`,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: github.requestToken,
    NODE_EXTRA_CA_CERTS: caPath,
    AZURE_AUTHORITY_HOST: origin,
    AZURE_RESOURCE_MANAGER_ENDPOINT: origin,
    ...(defaultApp ? { AZURE_CLIENT_ID: defaultApp.clientId, AZURE_TENANT_ID: defaultApp.tenantId } : {}),
    ...(defaultSub ? { AZURE_SUBSCRIPTION_ID: defaultSub.id } : {}),
  };

  const emulator: Emulator = {
    origin,
    port,
    caPath,
    env,
    urls: { github: env['ACTIONS_ID_TOKEN_REQUEST_URL'] as string, githubIssuer: github.issuer, authorityHost: origin, resourceManager: origin },
    state,
    log,
    faults,
    controls,
    issuedTokens: () => [...github.issued, ...entra.issued],
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return emulator;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function faultAnswer(x: Exchange, service: Service | undefined, a: Extract<FaultRule['action'], { kind: 'status' }>): Promise<void> {
  const headers = { ...(a.retryAfter !== undefined ? { 'retry-after': String(a.retryAfter) } : {}), ...(a.headers ?? {}) };
  if (service === 'entra') {
    x.status = a.status;
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

async function admin(x: Exchange, emulator: Emulator): Promise<void> {
  settle({ origin: emulator.origin, operations: emulator.controls.operations, controls: emulator.controls });
  switch (x.route) {
    case 'emulator.state':
      return send(x, 200, emulator.state.snapshot());
    case 'emulator.log':
      return send(x, 200, emulator.log.entries);
    case 'emulator.subject':
      return send(x, 200, { subject: subjectOf(emulator.state) });
    case 'emulator.faults':
      if (x.method === 'DELETE') {
        emulator.faults.clear();
        return send(x, 204, undefined);
      }
      if (x.method === 'POST') {
        const rule = JSON.parse(x.body) as FaultRule;
        if (rule.action?.kind === 'after') return send(x, 400, { message: "'after' faults are in-process only" });
        emulator.faults.add(rule);
        return send(x, 201, rule);
      }
      break;
    case 'emulator.controls':
      if (x.method === 'POST') {
        const patch = JSON.parse(x.body) as Partial<Pick<Controls, 'updateDurationMs' | 'latencyMs' | 'retryAfterSeconds' | 'directoryLagMs'>> & { nextOperations?: OperationPlan[] };
        const c = emulator.controls;
        if (patch.updateDurationMs !== undefined) c.updateDurationMs = patch.updateDurationMs;
        if (patch.latencyMs !== undefined) c.latencyMs = patch.latencyMs;
        if (patch.retryAfterSeconds !== undefined) c.retryAfterSeconds = patch.retryAfterSeconds;
        if (patch.directoryLagMs !== undefined) c.directoryLagMs = patch.directoryLagMs;
        if (patch.nextOperations) c.nextOperations.push(...patch.nextOperations);
        return send(x, 204, undefined);
      }
      break;
  }
  return send(x, 404, { message: `No emulator route ${x.method} ${x.url.pathname}` });
}
