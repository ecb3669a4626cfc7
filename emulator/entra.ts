// Microsoft Entra ID's v2 endpoints as MSAL uses them: discovery, instance discovery and the
// token endpoint for client_credentials with a federated client assertion. The assertion is
// verified for real (signature against the issuer's JWKS, time window, issuer/subject/audience
// matched against the app's federated credentials) and errors come back as AADSTS envelopes.
import { randomUUID } from 'node:crypto';
import { compactVerify, createLocalJWKSet, decodeJwt, type JWTPayload } from 'jose';
import { send, type Exchange } from './http.ts';
import { signJwt, type SigningKey } from './keys.ts';
import type { GithubOidc } from './github-oidc.ts';
import type { App, FederatedCredential, State } from './state.ts';

export interface Entra {
  /** Authority hosts instance discovery vouches for, each with the origin that serves it. */
  servedHosts: Map<string, string>;
  key: SigningKey;
  /** Lifetime of issued access tokens, shortened by tests to provoke refreshes. */
  accessTokenLifetimeSeconds: number;
  issued: string[];
}

const TENANT_PATH = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token|discovery\/v2\.0\/keys)$/;

export function classifyEntra(path: string): string | undefined {
  if (/^\/(common|organizations)\/discovery\/instance$/i.test(path)) return 'entra.instance';
  const m = TENANT_PATH.exec(path);
  if (!m) return undefined;
  if (m[2]?.startsWith('v2.0')) return 'entra.discovery';
  if (m[2]?.startsWith('oauth2')) return 'entra.token';
  return 'entra.jwks';
}

function tenantOfPath(path: string): string {
  return TENANT_PATH.exec(path)?.[1] ?? '';
}

export function aadError(x: Exchange, status: number, error: string, code: number, text: string): Promise<void> {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return send(x, status, {
    error,
    error_description: `AADSTS${code}: ${text}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `${x.base}/error?code=${code}`,
  });
}

const tenantNotFound = (tenant: string) =>
  `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`;

/** Entra serves these in place of a tenant id (reference 14.2). */
const MULTI_TENANT = ['common', 'organizations', 'consumers'];

/**
 * MSAL's instance discovery: for an authority the emulator serves, point at that authority's
 * OpenID configuration for the caller's tenant; any other authority is unknown, as in Entra.
 */
function instanceDiscovery(x: Exchange, servedHosts: Map<string, string>): Promise<void> {
  const endpoint = x.url.searchParams.get('authorization_endpoint');
  let authority = new URL(x.base);
  let tenant = 'common';
  if (endpoint) {
    try {
      const url = new URL(endpoint);
      authority = url;
      tenant = url.pathname.split('/').filter(Boolean)[0] ?? 'common';
    } catch {
      return aadError(x, 400, 'invalid_instance', 50049, "Unknown or invalid instance.");
    }
  }
  // MSAL Python drops the port from the authority it asks about, so a bare 127.0.0.1 is the emulator too.
  const served = servedHosts.get(authority.host.toLowerCase());
  if (!served) return aadError(x, 400, 'invalid_instance', 50049, 'Unknown or invalid instance.');
  const host = new URL(served).host;
  return send(x, 200, {
    tenant_discovery_endpoint: `${served}/${tenant}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  });
}

export async function handleEntra(x: Exchange, entra: Entra, gh: GithubOidc, state: State): Promise<void> {
  const origin = x.base;
  if (x.route === 'entra.instance') return instanceDiscovery(x, entra.servedHosts);
  const tenant = tenantOfPath(x.url.pathname);
  const multi = MULTI_TENANT.includes(tenant.toLowerCase());
  const known = state.tenants.get(tenant.toLowerCase());
  if (x.route === 'entra.discovery') {
    if (!known && !multi) return aadError(x, 400, 'invalid_tenant', 90002, tenantNotFound(tenant));
    return send(x, 200, {
      token_endpoint: `${origin}/${tenant}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${origin}/${tenant}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      // A multi-tenant authority names no issuer of its own: the tenant is a placeholder.
      issuer: `${origin}/${multi ? '{tenantid}' : tenant}/v2.0`,
      authorization_endpoint: `${origin}/${tenant}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${origin}/${tenant}/oauth2/v2.0/devicecode`,
      end_session_endpoint: `${origin}/${tenant}/oauth2/v2.0/logout`,
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
    });
  }
  if (x.route === 'entra.jwks') return send(x, 200, { keys: [entra.key.publicJwk] });
  if (x.method !== 'POST') return aadError(x, 405, 'invalid_request', 900561, 'The endpoint only accepts POST requests.');
  return token(x, entra, gh, state, tenant, Boolean(known));
}

/** An AADSTS error as data, sent by `refuse`. */
interface AadFailure {
  status: number;
  error: string;
  code: number;
  text: string;
}

const refuse = (x: Exchange, f: AadFailure): Promise<void> => aadError(x, f.status, f.error, f.code, f.text);

const noFederatedRecord = (what: string, value: string, check: string): string =>
  `No matching federated identity record found for presented assertion ${what} '${value}'. ${check} your federated identity credential Subject, Audience and Issuer against the presented assertion. https://learn.microsoft.com/entra/workload-id/workload-identity-federation`;

async function token(x: Exchange, entra: Entra, gh: GithubOidc, state: State, tenant: string, tenantKnown: boolean): Promise<void> {
  const form = new URLSearchParams(x.body);
  const clientId = form.get('client_id') ?? '';
  x.caller = clientId || undefined;
  const app = requestingApp(form, state, tenant, clientId, tenantKnown);
  if (!isApp(app)) return refuse(x, app);
  const verified = await verifiedAssertion(form, app, gh);
  if ('error' in verified) return refuse(x, verified);
  const scope = form.get('scope') ?? '';
  const resource = scope.split(' ').find((s) => s.endsWith('/.default'))?.slice(0, -'.default'.length);
  if (!resource) {
    return aadError(x, 400, 'invalid_scope', 1002012, `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
  }
  return issueAccessToken(x, entra, app, tenant, resource, verified.now);
}

function isApp(found: App | AadFailure): found is App {
  return 'federatedCredentials' in found;
}

/** The app a client_credentials request signs in as, in a tenant Entra knows. */
function requestingApp(form: URLSearchParams, state: State, tenant: string, clientId: string, tenantKnown: boolean): App | AadFailure {
  if (!tenantKnown) return { status: 400, error: 'invalid_request', code: 90002, text: tenantNotFound(tenant) };
  if (form.get('grant_type') !== 'client_credentials') {
    return { status: 400, error: 'unsupported_grant_type', code: 70003, text: `The app requested an unsupported grant type '${form.get('grant_type') ?? ''}'.` };
  }
  const app = state.apps.find((a) => a.tenantId.toLowerCase() === tenant.toLowerCase() && a.clientId.toLowerCase() === clientId.toLowerCase());
  if (app) return app;
  return { status: 400, error: 'unauthorized_client', code: 700016,
    text: `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.` };
}

/**
 * The client assertion checked as Entra checks it, in its order: present, a JWT, an issuer the
 * app trusts, signed by that issuer, within its time window, then audience and subject.
 */
async function verifiedAssertion(form: URLSearchParams, app: App, gh: GithubOidc): Promise<{ now: number } | AadFailure> {
  if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
    return { status: 401, error: 'invalid_client', code: 7000218, text: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'." };
  }
  const assertion = form.get('client_assertion') ?? '';
  let claims: JWTPayload;
  try {
    claims = decodeJwt(assertion);
  } catch {
    return { status: 401, error: 'invalid_client', code: 50027, text: 'JWT token is invalid or malformed.' };
  }
  const byIssuer = app.federatedCredentials.filter((f) => f.issuer === claims.iss);
  if (byIssuer.length === 0) return { status: 401, error: 'invalid_client', code: 700211, text: noFederatedRecord('issuer', String(claims.iss), 'Please check') };
  if (!(await signedByIssuer(assertion, claims, gh))) {
    return { status: 401, error: 'invalid_client', code: 700027, text: `Client assertion failed signature validation. The signature could not be verified with the keys published by the issuer '${String(claims.iss)}'.` };
  }
  const now = Date.now();
  return timeWindowFailure(claims, now) ?? credentialFailure(claims, byIssuer) ?? { now };
}

async function signedByIssuer(assertion: string, claims: JWTPayload, gh: GithubOidc): Promise<boolean> {
  try {
    // Only the emulator's GitHub issuer exists here; its JWKS is the one to trust.
    if (claims.iss !== gh.issuer) throw new Error('unknown issuer keys');
    await compactVerify(assertion, createLocalJWKSet({ keys: [gh.key.publicJwk] }));
    return true;
  } catch {
    return false;
  }
}

function timeWindowFailure(claims: JWTPayload, now: number): AadFailure | undefined {
  const nbf = (claims.nbf ?? claims.iat ?? 0) * 1000;
  const exp = (claims.exp ?? 0) * 1000;
  if (!(now < nbf - 300_000 || now >= exp)) return undefined;
  const iso = (ms: number) => new Date(ms).toISOString().replace('Z', '0000Z');
  return { status: 400, error: 'invalid_client', code: 700024,
    text: `Client assertion is not within its valid time range. Current time: ${iso(now)}, assertion valid from ${iso(nbf)}, expiry time of assertion ${iso(exp)}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .` };
}

/** Among the credentials trusting the issuer, one must match the audience and then, case-sensitively, the subject. */
function credentialFailure(claims: JWTPayload, byIssuer: FederatedCredential[]): AadFailure | undefined {
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud ?? ''];
  const byAudience = byIssuer.filter((f) => f.audiences.some((a) => audiences.includes(a)));
  if (byAudience.length === 0) return { status: 401, error: 'invalid_client', code: 700212, text: noFederatedRecord('audience', audiences.join(', '), 'Please check') };
  if (byAudience.some((f) => f.subject === claims.sub)) return undefined;
  return { status: 400, error: 'invalid_client', code: 700213, text: noFederatedRecord('subject', String(claims.sub), 'Check') };
}

async function issueAccessToken(x: Exchange, entra: Entra, app: App, tenant: string, resource: string, now: number): Promise<void> {
  const iat = Math.floor(now / 1000);
  const accessToken = await signJwt(entra.key, {
    aud: resource.replace(/\/+$/, '/'),
    iss: `https://sts.windows.net/${tenant}/`,
    iat,
    nbf: iat,
    exp: iat + entra.accessTokenLifetimeSeconds,
    appid: app.clientId,
    appidacr: '2',
    idtyp: 'app',
    oid: app.objectId,
    sub: app.objectId,
    tid: tenant,
    ver: '1.0',
  });
  entra.issued.push(accessToken);
  return send(x, 200, {
    token_type: 'Bearer',
    expires_in: entra.accessTokenLifetimeSeconds,
    ext_expires_in: entra.accessTokenLifetimeSeconds,
    access_token: accessToken,
  });
}
