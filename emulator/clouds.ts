// The clouds the emulator can stand in for, and the cloud metadata document ARM publishes at
// /metadata/endpoints (reference 14.1). Reached at its own origin, the emulator is a cloud of
// its own with an audience no built-in cloud uses, so a token minted for a real cloud is
// refused there, and a token minted for the emulator is refused under a real cloud's name.

/** The ARM audience (token resource) of the emulator's own cloud. */
export const EMULATOR_AUDIENCE = 'https://management.emulator.localhost/';
export const EMULATOR_CLOUD_NAME = 'VmssEmulator';

export interface CloudProfile {
  name: string;
  /** Host names reachable through the proxy mode. */
  armHost?: string;
  loginHost?: string;
  /**
   * Other names of the same Entra ID: MSAL's built-in cloud metadata sends China's sign-in to
   * login.partner.microsoftonline.cn (its preferred network) though the authority is
   * login.chinacloudapi.cn.
   */
  loginAliases?: string[];
  resourceManager: string;
  loginEndpoint: string;
  /** ARM's allowed token audiences, the preferred one first. */
  audiences: string[];
  graph: string;
  portal: string;
  gallery: string;
  suffixes: Record<string, string>;
}

const withAndWithoutSlash = (urls: string[]) => urls.flatMap((u) => [u, u.replace(/\/$/, '')]);

export const BUILT_IN_CLOUDS: CloudProfile[] = [
  {
    name: 'AzureCloud',
    armHost: 'management.azure.com',
    loginHost: 'login.microsoftonline.com',
    resourceManager: 'https://management.azure.com/',
    loginEndpoint: 'https://login.microsoftonline.com',
    audiences: withAndWithoutSlash(['https://management.core.windows.net/', 'https://management.azure.com/']),
    graph: 'https://graph.windows.net/',
    portal: 'https://portal.azure.com',
    gallery: 'https://gallery.azure.com/',
    suffixes: { keyVaultDns: 'vault.azure.net', storage: 'core.windows.net', acrLoginServer: 'azurecr.io', sqlServerHostname: 'database.windows.net' },
  },
  {
    name: 'AzureUSGovernment',
    armHost: 'management.usgovcloudapi.net',
    loginHost: 'login.microsoftonline.us',
    resourceManager: 'https://management.usgovcloudapi.net/',
    loginEndpoint: 'https://login.microsoftonline.us',
    audiences: withAndWithoutSlash(['https://management.core.usgovcloudapi.net/', 'https://management.usgovcloudapi.net/']),
    graph: 'https://graph.windows.net/',
    portal: 'https://portal.azure.us',
    gallery: 'https://gallery.usgovcloudapi.net/',
    suffixes: { keyVaultDns: 'vault.usgovcloudapi.net', storage: 'core.usgovcloudapi.net', acrLoginServer: 'azurecr.us', sqlServerHostname: 'database.usgovcloudapi.net' },
  },
  {
    name: 'AzureChinaCloud',
    armHost: 'management.chinacloudapi.cn',
    loginHost: 'login.chinacloudapi.cn',
    loginAliases: ['login.partner.microsoftonline.cn'],
    resourceManager: 'https://management.chinacloudapi.cn/',
    loginEndpoint: 'https://login.chinacloudapi.cn',
    audiences: withAndWithoutSlash(['https://management.core.chinacloudapi.cn/', 'https://management.chinacloudapi.cn/']),
    graph: 'https://graph.chinacloudapi.cn/',
    portal: 'https://portal.azure.cn',
    gallery: 'https://gallery.chinacloudapi.cn/',
    suffixes: { keyVaultDns: 'vault.azure.cn', storage: 'core.chinacloudapi.cn', acrLoginServer: 'azurecr.cn', sqlServerHostname: 'database.chinacloudapi.cn' },
  },
];

/** GitHub's OIDC issuer host; the proxy serves the GitHub routes under it too. */
export const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';
/**
 * Microsoft Graph, served only as a directory the signed-in app may not read (403), which is
 * what an app without Graph permissions meets; `az role assignment list` asks it for names.
 */
export const GRAPH_HOST = 'graph.microsoft.com';

export type HostService = 'arm' | 'entra' | 'github' | 'graph';

export function emulatorCloud(origin: string, audiences = [EMULATOR_AUDIENCE]): CloudProfile {
  return {
    name: EMULATOR_CLOUD_NAME,
    resourceManager: `${origin}/`,
    loginEndpoint: `${origin}/`,
    audiences: withAndWithoutSlash(audiences.map((a) => a.replace(/\/?$/, '/'))),
    graph: 'https://graph.windows.net/',
    portal: `${origin}/`,
    gallery: `${origin}/`,
    suffixes: { keyVaultDns: 'vault.emulator.localhost', storage: 'storage.emulator.localhost' },
  };
}

/** Every host name the proxy mode accepts, with what it serves. */
export function emulatedHosts(): Map<string, { service: HostService; cloud?: CloudProfile }> {
  const hosts = new Map<string, { service: HostService; cloud?: CloudProfile }>();
  for (const cloud of BUILT_IN_CLOUDS) {
    if (cloud.armHost) hosts.set(cloud.armHost, { service: 'arm', cloud });
    if (cloud.loginHost) hosts.set(cloud.loginHost, { service: 'entra', cloud });
    for (const alias of cloud.loginAliases ?? []) hosts.set(alias, { service: 'entra', cloud });
  }
  hosts.set(GITHUB_OIDC_HOST, { service: 'github' });
  hosts.set(GRAPH_HOST, { service: 'graph' });
  return hosts;
}

/** ARM's cloud metadata: one object before api-version 2019-05-01, an array of clouds from then on. */
export function metadataDocument(cloud: CloudProfile, apiVersion: string): unknown {
  const distinct = [...new Set(cloud.audiences.filter((a) => a.endsWith('/')))];
  if (apiVersion < '2019-05-01') {
    return {
      galleryEndpoint: cloud.gallery,
      graphEndpoint: cloud.graph,
      portalEndpoint: cloud.portal.replace(/\/?$/, '/'),
      authentication: { loginEndpoint: cloud.loginEndpoint.replace(/\/?$/, '/'), audiences: distinct },
    };
  }
  return [{
    portal: cloud.portal,
    authentication: { loginEndpoint: cloud.loginEndpoint, audiences: distinct, tenant: 'common', identityProvider: 'AAD' },
    graphAudience: cloud.graph,
    graph: cloud.graph,
    name: cloud.name,
    suffixes: cloud.suffixes,
    resourceManager: cloud.resourceManager,
    microsoftGraphResourceId: 'https://graph.microsoft.com/',
  }];
}
