// Azure clouds: where ARM and Entra ID live, and the token scope ARM expects.
import { InputError } from './errors.ts';

export interface Cloud {
  name: string;
  resourceManager: string;
  authorityHost: string;
  /** The scope tokens are requested for; it stays the cloud's when the endpoint is overridden, as in the Azure SDK. */
  scope: string;
  /** True when the authority is not one of Microsoft's, so MSAL must not run instance discovery against the public cloud. */
  customAuthority: boolean;
}

const CLOUDS: Record<string, Omit<Cloud, 'customAuthority'>> = {
  azurecloud: { name: 'AzureCloud', resourceManager: 'https://management.azure.com', authorityHost: 'https://login.microsoftonline.com', scope: 'https://management.azure.com/.default' },
  azureusgovernment: { name: 'AzureUSGovernment', resourceManager: 'https://management.usgovcloudapi.net', authorityHost: 'https://login.microsoftonline.us', scope: 'https://management.usgovcloudapi.net/.default' },
  azurechinacloud: { name: 'AzureChinaCloud', resourceManager: 'https://management.chinacloudapi.cn', authorityHost: 'https://login.chinacloudapi.cn', scope: 'https://management.chinacloudapi.cn/.default' },
};

function httpsUrl(input: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(input, `'${value}' is not a URL. Give an https:// URL such as https://management.azure.com.`);
  }
  if (url.protocol !== 'https:') {
    throw new InputError(input, `'${value}' must use https: Azure SDKs refuse to send tokens over plain http.`);
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
}

export function resolveCloud(environment: string, resourceManager: string, authorityHost: string): Cloud {
  const base = CLOUDS[(environment || 'AzureCloud').toLowerCase()];
  if (!base) {
    throw new InputError('environment', `'${environment}' is not supported. Use one of: ${Object.values(CLOUDS).map((c) => c.name).join(', ')} (any case), and resource-manager-endpoint / authority-host for Azure Stack Hub or private clouds.`);
  }
  const authority = authorityHost ? httpsUrl('authority-host', authorityHost) : base.authorityHost;
  return {
    ...base,
    resourceManager: resourceManager ? httpsUrl('resource-manager-endpoint', resourceManager) : base.resourceManager,
    authorityHost: authority,
    customAuthority: !Object.values(CLOUDS).some((c) => c.authorityHost === authority),
  };
}
