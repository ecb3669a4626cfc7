// Azure clouds and the security model for endpoints: a token goes only to the hosts of the
// cloud it was issued for. Pure: the custom cloud's metadata is fetched in azure/cloud-metadata.ts.
import { isMicrosoftLogin, metadataAudienceAllowed, microsoftResource } from './audience-policy.ts';
import { ActionError, InputError } from './errors.ts';
import type { CloudRequest } from './settings.ts';
import { isGuid } from './resource-id.ts';
import { hasControlCharacters, q } from './text.ts';

export interface Cloud {
  /** AzureCloud, AzureUSGovernment, AzureChinaCloud, or the custom endpoint's host. */
  name: string;
  resourceManager: string;
  /** The ARM token audience; tokens are requested for `${audience}/.default`. */
  audience: string;
  scope: string;
  authorityHost: string;
  /** Not a Microsoft Entra host: MSAL must not ask login.microsoftonline.com to validate it. */
  customAuthority: boolean;
}

interface BuiltinCloud {
  name: string;
  resourceManager: string;
  /** Every ARM audience this cloud's tokens can carry: never sent to a host outside it. */
  audiences: string[];
  authorityHost: string;
  loginHosts: string[];
  /** The GitHub OIDC audience Entra expects in this cloud (federated credential default). */
  oidcAudience: string;
}

const BUILTIN: BuiltinCloud[] = [
  {
    name: 'AzureCloud', resourceManager: 'https://management.azure.com', audiences: ['https://management.azure.com/', 'https://management.core.windows.net/'],
    authorityHost: 'https://login.microsoftonline.com', loginHosts: ['login.microsoftonline.com', 'login.windows.net', 'login.microsoft.com', 'sts.windows.net'], oidcAudience: 'api://AzureADTokenExchange',
  },
  {
    name: 'AzureUSGovernment', resourceManager: 'https://management.usgovcloudapi.net', audiences: ['https://management.usgovcloudapi.net/', 'https://management.core.usgovcloudapi.net/'],
    authorityHost: 'https://login.microsoftonline.us', loginHosts: ['login.microsoftonline.us', 'login.usgovcloudapi.net'], oidcAudience: 'api://AzureADTokenExchangeUSGov',
  },
  {
    name: 'AzureChinaCloud', resourceManager: 'https://management.chinacloudapi.cn', audiences: ['https://management.chinacloudapi.cn/', 'https://management.core.chinacloudapi.cn/'],
    authorityHost: 'https://login.chinacloudapi.cn', loginHosts: ['login.chinacloudapi.cn', 'login.partner.microsoftonline.cn'], oidcAudience: 'api://AzureADTokenExchangeChina',
  },
];

export const BUILTIN_NAMES = BUILTIN.map((c) => c.name);
const hostOf = (url: string) => new URL(url).host.toLowerCase();
const withSlash = (s: string) => s.replace(/\/*$/, '/').toLowerCase();

function builtinByName(name: string): BuiltinCloud | undefined {
  return BUILTIN.find((c) => c.name.toLowerCase() === name.toLowerCase());
}
function builtinByArmHost(host: string): BuiltinCloud | undefined {
  return BUILTIN.find((c) => hostOf(c.resourceManager) === host.toLowerCase());
}
function builtinByLoginHost(host: string): BuiltinCloud | undefined {
  return BUILTIN.find((c) => c.loginHosts.includes(host.toLowerCase()));
}
/** The built-in cloud an ARM audience belongs to (`https://management.azure.com`, with or without `/`). */
export function builtinOfAudience(audience: string): string | undefined {
  return BUILTIN.find((c) => c.audiences.includes(withSlash(audience)))?.name;
}
/** The built-in cloud whose Entra accepts GitHub tokens with this audience. */
export function builtinOfOidcAudience(audience: string): string | undefined {
  return BUILTIN.find((c) => c.oidcAudience.toLowerCase() === audience.toLowerCase())?.name;
}

/** An endpoint input: https, no credentials, query or fragment. Returns origin + path without trailing `/`. */
export function endpointUrl(input: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(input, `${q(value)} is not a URL. Give an https:// URL such as https://management.azure.com.`);
  }
  if (url.protocol !== 'https:') throw new InputError(input, `${q(value)} must use https: tokens are never sent over plain http.`);
  if (url.username || url.password) {
    throw new InputError(input, `${q(value)} has credentials before '@' (${q(url.username)} would be sent as a user name and ${q(url.host)} is the real host). Give the plain https://host URL.`);
  }
  if (value.includes('?') || value.includes('#')) throw new InputError(input, `${q(value)} has a query or fragment. Give the plain https://host URL.`);
  return url.origin + url.pathname.replace(/\/+$/, '');
}

/** Reads environment, resource-manager-endpoint, resource-manager-audience and authority-host. */
export function readCloud(environment: string, resourceManager: string, audience: string, authorityHost: string): CloudRequest {
  const base = builtinByName(environment || 'AzureCloud');
  if (!base) {
    throw new InputError('environment', `${q(environment)} is not supported. Use one of: ${BUILTIN_NAMES.join(', ')} (any case), or resource-manager-endpoint for Azure Stack Hub and private clouds.`);
  }
  const authority = authorityHost ? endpointUrl('authority-host', authorityHost) : undefined;
  const endpoint = resourceManager ? endpointUrl('resource-manager-endpoint', resourceManager) : undefined;
  const known = endpoint ? builtinByArmHost(hostOf(endpoint)) : base;
  if (audience && (!endpoint || known)) {
    throw new InputError('resource-manager-audience', `is only for a custom resource-manager-endpoint (Azure Stack Hub, private clouds); ${known?.name ?? base.name} has a fixed audience. Remove it.`);
  }
  if (known) return { kind: 'builtin', name: known.name, ...(authority ? { authorityHost: authority } : {}) };
  if (audience) {
    checkAudienceSyntax('resource-manager-audience', audience);
    // Without authority-host the login endpoint comes from the metadata, Microsoft's for Azure Stack Hub: checked as such now, and again once known.
    const refusal = audienceRefusal(audience, authority ?? 'https://login.microsoftonline.com', endpoint ?? '');
    if (refusal) throw new InputError('resource-manager-audience', `${q(audience)} ${refusal} Give the custom cloud's own audience.`);
  }
  return { kind: 'custom', resourceManager: endpoint ?? '', ...(audience ? { audience } : {}), ...(authority ? { authorityHost: authority } : {}) };
}

function checkAudienceSyntax(input: string, audience: string): void {
  const guid = isGuid(audience);
  if (audience.length > 512 || hasControlCharacters(audience) || (!guid && !/^[a-z][a-z0-9+.-]*:\S+$/i.test(audience))) {
    throw new InputError(input, `${q(audience)} is not an audience URI (for example https://management.<tenant>.onmicrosoft.com/<guid>).`);
  }
}

/**
 * The audience policy: a custom cloud that signs in at Microsoft's Entra ID never gets a token
 * for one of Microsoft's own resources, whatever the spelling (microsoftResource decides on the
 * host). Says why, after the audience itself, or undefined when it may be asked for.
 */
function audienceRefusal(audience: string, loginEndpoint: string, endpoint: string): string | undefined {
  if (!isMicrosoftLogin(loginEndpoint)) return undefined;
  const target = endpoint ? hostOf(endpoint) : 'the custom endpoint';
  const cloud = builtinOfAudience(audience);
  if (cloud) return `is ${cloud}'s Azure Resource Manager audience. A token for it is valid against ${cloud}, so the action never sends one to ${target}.`;
  const resource = microsoftResource(audience);
  if (!resource) return undefined;
  return `names ${resource}. Entra ID at ${hostOf(loginEndpoint)} would issue a token valid against that service, so the action never asks for one to send to ${target}.`;
}

/** What a custom cloud's `/metadata/endpoints` document says. */
export interface CloudMetadata {
  audience?: string;
  loginEndpoint?: string;
}

/** The cloud this run talks to, with every rule of the security model checked. */
export function resolveCloud(request: CloudRequest, metadata?: CloudMetadata): Cloud {
  if (request.kind === 'builtin') {
    const c = builtinByName(request.name) as BuiltinCloud;
    const authority = request.authorityHost ?? c.authorityHost;
    return { name: c.name, resourceManager: c.resourceManager, audience: c.audiences[0] as string, scope: `${c.resourceManager}/.default`, authorityHost: authority, customAuthority: !builtinByLoginHost(hostOf(authority)) };
  }
  const endpoint = request.resourceManager;
  const audience = request.audience ?? metadata?.audience;
  if (!audience) {
    throw new ActionError(`resource-manager-endpoint ${q(endpoint)} is not one of Azure's built-in clouds and its metadata (${endpoint}/metadata/endpoints) names no token audience. Give resource-manager-audience (the custom cloud's ARM audience).`);
  }
  const login = metadata?.loginEndpoint ? endpointUrl('resource-manager-endpoint', metadata.loginEndpoint) : undefined;
  if (request.authorityHost && login && hostOf(request.authorityHost) !== hostOf(login)) {
    throw new InputError('authority-host', `${q(request.authorityHost)} disagrees with the login endpoint ${q(login)} that ${endpoint}/metadata/endpoints names. Remove authority-host, or correct it.`);
  }
  const authority = request.authorityHost ?? login;
  if (!authority) {
    throw new ActionError(`The metadata of ${q(endpoint)} names no login endpoint. Give authority-host (the custom cloud's Entra ID or ADFS URL).`);
  }
  if (!request.audience) checkAudienceSyntax('resource-manager-endpoint', audience);
  const refusal = audienceRefusal(audience, authority, endpoint);
  if (refusal && request.audience) throw new InputError('resource-manager-audience', `${q(audience)} ${refusal} Give the custom cloud's own audience.`);
  const cloud = builtinOfAudience(audience);
  if (refusal && cloud) {
    throw new ActionError(`The metadata of ${q(endpoint)} asks for tokens with ${cloud}'s audience ${q(audience)}. Such a token is valid against ${cloud}, so the action will not send one to ${hostOf(endpoint)}. Use ${cloud}'s own endpoint, or give the custom cloud's audience in resource-manager-audience.`);
  }
  if (refusal) {
    throw new ActionError(`The metadata of ${q(endpoint)} asks for tokens with audience ${q(audience)}, which ${refusal} Use the cloud's own endpoint, or give the custom cloud's audience in resource-manager-audience.`);
  }
  if (!request.audience && isMicrosoftLogin(authority) && !metadataAudienceAllowed(audience, endpoint)) {
    throw new ActionError(`The metadata of ${q(endpoint)} asks for tokens with audience ${q(audience)} from Microsoft's Entra ID at ${hostOf(authority)}. A custom cloud's metadata may only name an app registered in a tenant (https://<name>.onmicrosoft.com/…, as Azure Stack Hub does) or one under the endpoint's own domain: any other could be one of Microsoft's services, valid there. Nothing was requested. If you trust this audience, give it in resource-manager-audience.`);
  }
  return {
    name: hostOf(endpoint), resourceManager: endpoint, audience, scope: `${audience.replace(/\/+$/, '')}/.default`, authorityHost: authority, customAuthority: !builtinByLoginHost(hostOf(authority)),
  };
}

/**
 * The origins a sign-in at `authorityHost` may reach: the authority's own, and for one of
 * Microsoft's login hosts that cloud's other login hosts (MSAL sends requests to the alias its
 * built-in metadata prefers, e.g. login.microsoftonline.com for login.windows.net). MSAL asks no
 * instance discovery for these hosts (its metadata is built in), and none at all for the others
 * (disableInstanceDiscovery), so login.microsoftonline.com is not added for sovereign clouds.
 */
export function signInOrigins(authorityHost: string): string[] {
  const own = new URL(authorityHost).origin.toLowerCase();
  const microsoft = builtinByLoginHost(hostOf(authorityHost));
  return [...new Set([own, ...(microsoft?.loginHosts ?? []).map((h) => `https://${h}`)])];
}

/**
 * The GitHub OIDC audience for a sign-in at `authorityHost`: the given one, else the built-in
 * cloud's exchange audience at Microsoft's login hosts, else the authority's own origin. A
 * token meant for Microsoft's Entra (api://AzureADTokenExchange…) never goes anywhere else:
 * whoever receives it could exchange it there.
 */
export function oidcAudienceFor(authorityHost: string, given: string | undefined): string {
  const microsoft = builtinByLoginHost(hostOf(authorityHost));
  if (given) {
    const cloud = builtinOfOidcAudience(given);
    if (cloud && !microsoft) {
      throw new InputError('audience', `${q(given)} is what ${cloud}'s Entra ID accepts, so the GitHub token would be usable there; the action will not send it to ${hostOf(authorityHost)}, which is not a Microsoft login host. Give the audience that ${hostOf(authorityHost)}'s federated credential expects.`);
    }
    return given;
  }
  return microsoft ? microsoft.oidcAudience : new URL(authorityHost).origin;
}
