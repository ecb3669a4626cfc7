// Invalid inputs, each with the words its error must contain. Shared by the unit test of the
// parser and the end-to-end test that proves none of them reaches Azure.
const SUB = '0b1f6471-1bf0-4dda-aec3-cb9272f09590';
const RG_ID = `/subscriptions/${SUB}/resourceGroups/rg-prod`;
const VMSS_ID = `${RG_ID}/providers/Microsoft.Compute/virtualMachineScaleSets/vmss-web`;
const UAI = (name: string) => `${RG_ID}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;

export const BASE = { 'resource-group': 'rg-prod', 'vmss-name': 'vmss-web', 'identity-type': 'SystemAssigned' };

export interface InvalidCase {
  name: string;
  inputs: Record<string, string>;
  /** Must appear in the error, verbatim. */
  error: string;
  /** Replace BASE instead of extending it. */
  replace?: boolean;
}

export const INVALID: InvalidCase[] = [
  { name: 'unknown operation', inputs: { operation: 'delete' }, error: "Input 'operation': 'delete' is not an operation. Use assign, set, remove or show." },
  { name: 'unknown identity type', inputs: { 'identity-type': 'ManagedIdentity' }, error: "Input 'identity-type': 'ManagedIdentity' is not an identity type." },
  { name: 'identity type listed twice', inputs: { 'identity-type': 'SystemAssigned,SystemAssigned' }, error: "'SystemAssigned,SystemAssigned' is not an identity type" },
  { name: 'None combined with another type', inputs: { 'identity-type': 'None, SystemAssigned' }, error: "'None, SystemAssigned' is not an identity type" },
  { name: 'set without identity-type', inputs: { operation: 'set', 'identity-type': '' }, error: "Input 'identity-type': is required for operation 'set'." },
  { name: 'SystemAssigned with user-assigned ids under set', inputs: { operation: 'set', 'user-assigned-ids': 'id-app' }, error: "Input 'user-assigned-ids': lists identities but identity-type 'SystemAssigned' has no UserAssigned." },
  { name: 'UserAssigned without ids under set', inputs: { operation: 'set', 'identity-type': 'UserAssigned' }, error: "Input 'user-assigned-ids': is empty but identity-type 'UserAssigned' includes UserAssigned." },
  { name: 'None with ids under set', inputs: { operation: 'set', 'identity-type': 'None', 'user-assigned-ids': 'id-app' }, error: "identity-type 'None' has no UserAssigned" },
  { name: 'assign with nothing to add', inputs: { operation: 'assign', 'identity-type': '' }, error: 'there is nothing to add' },
  { name: 'remove with nothing to remove', inputs: { operation: 'remove', 'identity-type': '' }, error: 'there is nothing to remove' },
  { name: 'assign None', inputs: { operation: 'assign', 'identity-type': 'None' }, error: "None means nothing to add with operation 'assign'" },
  { name: 'remove None', inputs: { operation: 'remove', 'identity-type': 'None' }, error: "None means nothing to remove with operation 'remove'" },
  { name: 'assign UserAssigned without ids', inputs: { operation: 'assign', 'identity-type': 'UserAssigned' }, error: 'List the identities to add.' },
  { name: 'show with identity-type', inputs: { operation: 'show' }, error: "Input 'identity-type': is set but operation 'show' only reads." },
  { name: 'show with user-assigned-ids', inputs: { operation: 'show', 'identity-type': '', 'user-assigned-ids': 'id-app' }, error: "Input 'user-assigned-ids': is set but operation 'show' only reads." },
  { name: 'non-boolean dry-run', inputs: { 'dry-run': 'yes' }, error: "Input 'dry-run': 'yes' is not a boolean. Use true or false." },
  { name: 'timeout not a number', inputs: { 'timeout-seconds': 'ten' }, error: "Input 'timeout-seconds': 'ten' is not a whole number from 10 to 21600." },
  { name: 'timeout too small', inputs: { 'timeout-seconds': '1' }, error: "Input 'timeout-seconds': '1' is not a whole number" },
  { name: 'max-parallel zero', inputs: { 'max-parallel': '0' }, error: "Input 'max-parallel': '0' is not a whole number from 1 to 100." },
  { name: 'empty vmss-name', inputs: { 'vmss-name': '' }, error: "Input 'vmss-name': is empty. Give 'resource-group' and 'vmss-name' (names or patterns such as web-*), 'vmss-tags', or 'vmss-id'" },
  { name: 'empty resource-group', inputs: { 'resource-group': '' }, error: "Input 'resource-group': is empty." },
  { name: 'vmss-id and vmss-name together', inputs: { 'vmss-id': VMSS_ID }, error: "Input 'vmss-id': is set together with 'vmss-name'." },
  { name: 'resource-group with vmss-id', inputs: { 'vmss-id': VMSS_ID, 'vmss-name': '' }, error: "Input 'resource-group': is not used with 'vmss-id'" },
  { name: 'malformed vmss-id', inputs: { 'vmss-id': 'vmss-web', 'vmss-name': '', 'resource-group': '' }, error: "Input 'vmss-id': 'vmss-web' is not a Microsoft.Compute/virtualMachineScaleSets resource id." },
  { name: 'vmss-id of a VM', inputs: { 'vmss-id': `${RG_ID}/providers/Microsoft.Compute/virtualMachines/vm1`, 'vmss-name': '', 'resource-group': '' }, error: "points to a 'Microsoft.Compute/virtualMachines' resource, not a scale set" },
  { name: 'vmss-id with a bad subscription', inputs: { 'vmss-id': VMSS_ID.replace(SUB, 'my-sub'), 'vmss-name': '', 'resource-group': '' }, error: "has subscription 'my-sub', which is not a GUID." },
  { name: 'vmss-id conflicting with subscription-id', inputs: { 'vmss-id': VMSS_ID, 'vmss-name': '', 'resource-group': '', 'subscription-id': '11111111-2222-4333-8444-555555555555' }, error: "Input 'subscription-id': '11111111-2222-4333-8444-555555555555' conflicts with subscription '0b1f6471-1bf0-4dda-aec3-cb9272f09590' in vmss-id" },
  { name: 'same scale set twice', inputs: { 'vmss-name': 'vmss-web\nVMSS-WEB' }, error: "names the scale set 'VMSS-WEB' twice." },
  { name: 'scale set name with a slash', inputs: { 'vmss-name': 'a/b' }, error: "'a/b' is not a valid scale set name" },
  { name: 'scale set name with ..', inputs: { 'vmss-name': '..' }, error: "'..' contains '..', which is not allowed" },
  { name: 'scale set pattern with a query', inputs: { 'vmss-name': 'web?api-version=1' }, error: "Input 'vmss-name': 'web?api-version=1' is not a valid scale set pattern" },
  { name: 'resource group pattern with a slash', inputs: { 'resource-group': 'rg-*/x' }, error: "Input 'resource-group': 'rg-*/x' is not a valid resource group pattern" },
  { name: 'tag line without a name', inputs: { 'vmss-tags': '=web' }, error: "Input 'vmss-tags': '=web' is not 'key=value' or 'key'" },
  { name: 'tag named twice', inputs: { 'vmss-tags': 'role=web\nROLE=api' }, error: "Input 'vmss-tags': names the tag 'ROLE' twice" },
  { name: 'vmss-tags with vmss-id', inputs: { 'vmss-id': VMSS_ID, 'vmss-name': '', 'resource-group': '', 'vmss-tags': 'role=web' }, error: "Input 'vmss-id': is set together with 'vmss-tags'." },
  { name: 'allow-no-match without a pattern', inputs: { 'allow-no-match': 'true' }, error: "Input 'allow-no-match': is only for scale sets chosen by pattern or tag" },
  { name: 'remove-missing-identities with show', inputs: { operation: 'show', 'identity-type': '', 'remove-missing-identities': 'true' }, error: "Input 'remove-missing-identities': is set but operation 'show' only reads." },
  { name: 'subscription listed twice', inputs: { 'vmss-name': 'web-*', 'subscription-id': '0b1f6471-1bf0-4dda-aec3-cb9272f09590\n0B1F6471-1BF0-4DDA-AEC3-CB9272F09590' }, error: "Input 'subscription-id': lists a subscription twice." },
  { name: 'scale set name with #', inputs: { 'vmss-name': 'web#frag' }, error: "contains '#', which is not allowed" },
  { name: 'scale set name with %2F', inputs: { 'vmss-name': 'web%2Fother' }, error: "contains '%', which is not allowed" },
  { name: 'scale set name with inner whitespace', inputs: { 'vmss-name': 'vmss web' }, error: "'vmss web' contains whitespace." },
  { name: 'scale set name too long', inputs: { 'vmss-name': 'v'.repeat(65) }, error: 'is not a valid scale set name: use 1-64' },
  { name: 'resource group ending in a dot', inputs: { 'resource-group': 'rg.' }, error: "'rg.' is not a valid resource group name" },
  { name: 'subscription not a GUID', inputs: { 'subscription-id': 'production' }, error: "Input 'subscription-id': 'production' is not a GUID." },
  { name: 'client-id not a GUID', inputs: { 'client-id': 'my-app' }, error: "Input 'client-id': 'my-app' is not a GUID." },
  { name: 'tenant-id invalid', inputs: { 'tenant-id': 'not a tenant' }, error: "Input 'tenant-id': 'not a tenant' is neither a GUID nor a domain name." },
  { name: 'unknown environment', inputs: { environment: 'AzureGermanCloud' }, error: "Input 'environment': 'AzureGermanCloud' is not supported. Use one of: AzureCloud, AzureUSGovernment, AzureChinaCloud" },
  { name: 'http resource-manager-endpoint', inputs: { 'resource-manager-endpoint': 'http://127.0.0.1:1' }, error: "Input 'resource-manager-endpoint': 'http://127.0.0.1:1' must use https" },
  { name: 'resource-manager-endpoint with credentials', inputs: { 'resource-manager-endpoint': 'https://management.azure.com@127.0.0.1:8443' }, error: "has credentials before '@'" },
  { name: 'resource-manager-endpoint with a query', inputs: { 'resource-manager-endpoint': 'https://arm.example/?x=1' }, error: 'has a query or fragment' },
  { name: 'authority-host with a fragment', inputs: { 'authority-host': 'https://login.example/#x' }, error: "Input 'authority-host': 'https://login.example/#x' has a query or fragment" },
  { name: 'http authority-host', inputs: { 'authority-host': 'http://login.example' }, error: "Input 'authority-host': 'http://login.example' must use https" },
  { name: 'built-in audience for a custom cloud', inputs: { 'resource-manager-endpoint': 'https://arm.example', 'resource-manager-audience': 'https://management.azure.com' }, error: "is AzureCloud's Azure Resource Manager audience" },
  { name: 'resource-manager-audience for a built-in cloud', inputs: { 'resource-manager-audience': 'https://arm.example/x' }, error: "Input 'resource-manager-audience': is only for a custom resource-manager-endpoint" },
  { name: 'Microsoft GitHub audience to a foreign login host', inputs: { 'authority-host': 'https://login.example', audience: 'api://AzureADTokenExchange' }, error: "Input 'audience': 'api://AzureADTokenExchange' is what AzureCloud's Entra ID accepts" },
  { name: 'audience with a newline and a workflow command', inputs: { audience: 'api://x\n::error::injected' }, error: "Input 'audience': 'api://x\\n::error::injected' contains a control character" },
  { name: 'audience too long', inputs: { audience: 'a'.repeat(601) }, error: "Input 'audience': is 601 characters long; at most 600" },
  { name: 'audience with a space', inputs: { audience: 'api://x y' }, error: "Input 'audience': 'api://x y' contains whitespace" },
  { name: 'role name too long', inputs: { 'role-assignments': `${'R'.repeat(513)} at ${RG_ID}` }, error: 'is not a role name: use at most 512 characters' },
  { name: 'role name with a quote', inputs: { 'role-assignments': `Reader' or roleName eq 'Owner at ${RG_ID}` }, error: 'without quotes or angle brackets' },
  { name: 'escape character in a list input', inputs: { 'vmss-name': 'vmss-web\n\u001b[31mred' }, error: "Input 'vmss-name': 'vmss-web\\n\\u001b[31mred' contains a control character other than a line break" },
  { name: 'authority-host not a URL', inputs: { 'authority-host': 'login' }, error: "Input 'authority-host': 'login' is not a URL." },
  { name: 'identity id with wrong provider', inputs: { 'identity-type': 'UserAssigned', 'user-assigned-ids': `${RG_ID}/providers/Microsoft.Compute/virtualMachines/id-app` }, error: "points to a 'Microsoft.Compute/virtualMachines' resource, not a user-assigned identity" },
  { name: 'identity id with wrong type segment', inputs: { 'identity-type': 'UserAssigned', 'user-assigned-ids': `${RG_ID}/providers/Microsoft.ManagedIdentity/identities/id-app` }, error: "points to a 'Microsoft.ManagedIdentity/identities' resource" },
  { name: 'identity id truncated', inputs: { 'identity-type': 'UserAssigned', 'user-assigned-ids': `${RG_ID}/providers/Microsoft.ManagedIdentity/userAssignedIdentities` }, error: 'is not a Microsoft.ManagedIdentity/userAssignedIdentities resource id' },
  { name: 'identity id from another cloud path', inputs: { 'identity-type': 'UserAssigned', 'user-assigned-ids': 'https://management.azure.com' + UAI('id-app') }, error: "is neither a full resource id (starting with /subscriptions/) nor a bare identity name." },
  { name: 'identity listed twice differing in case', inputs: { 'identity-type': 'UserAssigned', 'user-assigned-ids': `${UAI('id-app')}\n${UAI('ID-APP')}` }, error: "(also as '" },
  { name: 'identity listed twice', inputs: { 'identity-type': 'UserAssigned', 'user-assigned-ids': 'id-app, id-app' }, error: "lists 'id-app' twice." },
  { name: 'identity name too short', inputs: { 'identity-type': 'UserAssigned', 'user-assigned-ids': 'ab' }, error: "'ab' is not a valid user-assigned identity name: use 3-128" },
  { name: 'identity name starting with a hyphen', inputs: { 'identity-type': 'UserAssigned', 'user-assigned-ids': '-app' }, error: "'-app' is not a valid user-assigned identity name" },
  { name: 'identity name with a dot', inputs: { 'identity-type': 'UserAssigned', 'user-assigned-ids': 'id.app' }, error: "'id.app' is not a valid user-assigned identity name" },
  { name: 'identity id with .. segment', inputs: { 'identity-type': 'UserAssigned', 'user-assigned-ids': `${RG_ID}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/../id-app` }, error: "contains '..'" },
  { name: 'identity id with encoded slash', inputs: { 'identity-type': 'UserAssigned', 'user-assigned-ids': UAI('id%2Fapp') }, error: "contains '%'" },
  { name: 'identity id with a bad subscription', inputs: { 'identity-type': 'UserAssigned', 'user-assigned-ids': UAI('id-app').replace(SUB, 'x') }, error: "has subscription 'x', which is not a GUID." },
  { name: 'role assignment without a scope', inputs: { 'role-assignments': 'Reader' }, error: "Input 'role-assignments': 'Reader' is not 'ROLE at SCOPE'" },
  { name: 'role assignment with a bad scope', inputs: { 'role-assignments': 'Reader at /subscriptions/x/../y' }, error: "Input 'role-assignments': '/subscriptions/x/../y' is not a scope" },
  { name: 'role assignment listed twice', inputs: { 'role-assignments': `Reader at ${RG_ID}\nreader at ${RG_ID.toLowerCase()}` }, error: "lists 'reader at " },
  { name: 'role-assignee without role-assignments', inputs: { 'role-assignee': 'id-app' }, error: "Input 'role-assignee': is set but role-assignments is empty." },
  { name: 'role assignments for a system identity being removed', inputs: { operation: 'set', 'identity-type': 'None', 'role-assignments': `Reader at ${RG_ID}` }, error: 'needs the system-assigned identity, which this step removes.' },
  { name: 'role-assignee not kept by set', inputs: { operation: 'set', 'identity-type': 'UserAssigned', 'user-assigned-ids': 'id-logs', 'role-assignments': `Reader at ${RG_ID}`, 'role-assignee': 'id-app' }, error: "Input 'role-assignee': 'id-app' is not in user-assigned-ids, and operation 'set' leaves scale set 'vmss-web' with exactly those." },
  { name: 'role-assignee under set without user-assigned identities', inputs: { operation: 'set', 'role-assignments': `Reader at ${RG_ID}`, 'role-assignee': 'id-app' }, error: "leaves the scale set without user-assigned identities" },
  { name: 'bare name and full id of the same identity', inputs: { 'identity-type': 'UserAssigned', 'user-assigned-ids': `id-app\n${UAI('ID-APP')}` }, error: "names the same identity twice for scale set 'vmss-web': 'id-app' and" },
  { name: 'role-assignee being removed', inputs: { operation: 'remove', 'identity-type': '', 'user-assigned-ids': 'id-app', 'role-assignments': `Reader at ${RG_ID}`, 'role-assignee': 'id-app' }, error: "Input 'role-assignee': names 'id-app', which this step removes." },
  { name: 'non-boolean remove-legacy-extension', inputs: { 'remove-legacy-extension': 'maybe' }, error: "Input 'remove-legacy-extension': 'maybe' is not a boolean." },
];
