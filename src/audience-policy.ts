// Which token audiences a custom cloud may ask for. A token Microsoft's Entra ID issues for one
// of Microsoft's own services (ARM, Graph, Key Vault, Storage …) works against that service, so
// it must never be requested for, or sent to, a cloud that is not Microsoft's. Pure: decided on
// the parsed URL's host, never on the spelling of the string.

/**
 * Registrable domains of Microsoft's first-party services in the public, US Government and China
 * clouds. `onmicrosoft.com` (customer tenants, Azure Stack Hub audiences) is not among them.
 */
const MICROSOFT_DOMAINS = [
  'microsoft.com', 'azure.com', 'azure.net', 'windows.net', 'microsoftonline.com', 'windowsazure.com',
  'azurewebsites.net', 'azure-api.net', 'azurecr.io', 'office.com', 'office365.com', 'sharepoint.com', 'dynamics.com', 'powerbi.com',
  'loganalytics.io', 'applicationinsights.io', 'azuresynapse.net', 'azconfig.io', 'visualstudio.com', 'azuredatabricks.net',
  'azure-devices.net', 'azurehdinsight.net', 'azureml.ms', 'botframework.com', 'microsoftonline-p.com', 'windows.com', 'live.com',
  'outlook.com', 'skype.com', 'cloudapp.net', 'trafficmanager.net', 'azurefd.net', 'azureedge.net', 'azurestaticapps.net',
  'usgovcloudapi.net', 'azure.us', 'microsoft.us', 'microsoftonline.us', 'azurecr.us',
  'chinacloudapi.cn', 'azure.cn', 'microsoftonline.cn', 'chinacloudsites.cn', 'windowsazure.cn', 'azurecr.cn',
];

/** Well-known application ids of Microsoft's first-party resources, by name. */
const FIRST_PARTY_APPS: Record<string, string> = {
  '797f4846-ba00-4fd7-ba43-dac1f8f63013': 'Azure Resource Manager',
  '00000003-0000-0000-c000-000000000000': 'Microsoft Graph',
  '00000002-0000-0000-c000-000000000000': 'Azure AD Graph',
  'cfa8b339-82a2-471a-a3c9-0fc0be7a4093': 'Azure Key Vault',
  'e406a681-f3d4-42a8-90b6-c2b029497af1': 'Azure Storage',
  '022907d3-0f1b-48f7-badc-1ba6abab6d66': 'Azure SQL Database',
  '6dae42f8-4368-4678-94ff-3960e28e3630': 'Azure Kubernetes Service (Entra ID integration)',
  '499b84ac-1321-427f-aa17-267ca6975798': 'Azure DevOps',
  'ca7f3f0b-7d91-482c-8e09-c5d840d0eac5': 'Log Analytics',
  '2746ea77-4702-4b45-80ca-3c97e680e8b7': 'Azure Data Explorer',
  '35ffadb3-7fc1-497e-b61b-381d28e744cc': 'Azure App Configuration',
};
/** Office 365 and Graph-family resources share these id shapes. */
const FIRST_PARTY_ID_SHAPES = [/^0000000[0-9a-f]-0000-0000-c000-000000000000$/, /^0000000[0-9a-f]-0000-0ff1-ce00-000000000000$/];

/** The audiences of Entra's token exchange (federated credentials): a token with one is a credential for other apps. */
const EXCHANGE_AUDIENCE = /^api:\/\/AzureADTokenExchange/i;

/** A host as DNS resolves it: lower case, without the trailing dot(s) of a fully qualified name. */
export function canonicalHost(hostname: string): string {
  return hostname.toLowerCase().replace(/\.+$/, '');
}

/** The Microsoft domain a host name lies in (or is), if any. */
export function microsoftDomainOf(hostname: string): string | undefined {
  const host = canonicalHost(hostname);
  return MICROSOFT_DOMAINS.find((d) => host === d || host.endsWith(`.${d}`));
}

function firstPartyApp(id: string): string | undefined {
  const guid = id.toLowerCase();
  return FIRST_PARTY_APPS[guid] ?? (FIRST_PARTY_ID_SHAPES.some((shape) => shape.test(guid)) ? 'a Microsoft 365 service' : undefined);
}

/**
 * Why an audience names one of Microsoft's own resources (a phrase to put in a message), or
 * undefined when it does not: an https URL on a Microsoft host (any case, port, trailing dot or
 * path), a first-party application id (bare or as `spn:<id>`), or Entra's exchange audience.
 */
export function microsoftResource(audience: string): string | undefined {
  const value = audience.trim();
  const guid = /^(?:spn:)?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/?$/i.exec(value)?.[1];
  if (guid) {
    const app = firstPartyApp(guid);
    return app ? `the application id of ${app}` : undefined;
  }
  if (EXCHANGE_AUDIENCE.test(value)) return "Entra ID's token exchange (federated credentials)";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  const domain = microsoftDomainOf(url.hostname);
  return domain ? `a Microsoft service (${canonicalHost(url.hostname)}, under ${domain})` : undefined;
}

/** Whether a login endpoint is Microsoft's Entra ID (any cloud, any alias or regional host). */
export function isMicrosoftLogin(loginEndpoint: string): boolean {
  try {
    return microsoftDomainOf(new URL(loginEndpoint).hostname) !== undefined;
  } catch {
    return false;
  }
}

/**
 * The audiences a custom cloud's own metadata may name when it signs in at Microsoft's Entra
 * ID: an app registered in a tenant (`https://<anything>.onmicrosoft.com/…`, as Azure Stack Hub
 * registers its ARM), or one under the endpoint's own parent domain. A denylist cannot know
 * every first-party service, so what a metadata document (the endpoint's own word) may ask for
 * is allowed by rule; any other audience must come from the resource-manager-audience input.
 */
export function metadataAudienceAllowed(audience: string, endpoint: string): boolean {
  let url: URL;
  try {
    url = new URL(audience);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:') return false;
  const host = canonicalHost(url.hostname);
  if (host.endsWith('.onmicrosoft.com') && microsoftDomainOf(host) === undefined) return true;
  const parent = canonicalHost(new URL(endpoint).hostname).split('.').slice(1);
  if (parent.length < 2 || microsoftDomainOf(parent.join('.')) !== undefined) return false;
  return host === parent.join('.') || host.endsWith(`.${parent.join('.')}`);
}
