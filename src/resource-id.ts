// ARM resource ids of scale sets and user-assigned identities: parsed strictly, with
// errors that say which part is wrong, before anything is sent to Azure.
import { InputError } from './errors.ts';
import type { ScaleSetRef } from './settings.ts';
import { q } from './text.ts';

export type { ScaleSetRef };

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Azure's rules: resource groups 1-90 of letters, digits, _ ( ) - . (not ending in .);
// scale sets 1-64 of letters, digits, _ - . starting with a letter or digit, ending with a letter, digit or _;
// user-assigned identities 3-128 of letters, digits, - _ starting with a letter or digit.
const RESOURCE_GROUP = /^[\p{L}\p{N}_().-]{1,90}$/u;
const SCALE_SET_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?$/;
const IDENTITY_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$/;

export const isGuid = (value: string): boolean => GUID.test(value);

export function scaleSetId(ref: ScaleSetRef): string {
  return `/subscriptions/${ref.subscriptionId}/resourceGroups/${ref.resourceGroup}/providers/Microsoft.Compute/virtualMachineScaleSets/${ref.name}`;
}

export function identityId(subscriptionId: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
}

/** Characters that would change the meaning of a URL path if they reached one. */
function rejectPathTricks(input: string, value: string): void {
  if (/\s/.test(value)) throw new InputError(input, `${q(value)} contains whitespace. Resource ids and names never do; remove it.`);
  const trick = ['..', '?', '#', '%', '\\'].find((t) => value.includes(t));
  if (trick) throw new InputError(input, `${q(value)} contains ${q(trick)}, which is not allowed in an Azure resource id or name.`);
}

export function checkResourceGroup(input: string, name: string): void {
  rejectPathTricks(input, name);
  if (!RESOURCE_GROUP.test(name) || name.endsWith('.')) {
    throw new InputError(input, `${q(name)} is not a valid resource group name: use 1-90 letters, digits, '_', '-', '.', '(' or ')', not ending in '.'.`);
  }
}

export function checkScaleSetName(input: string, name: string): void {
  rejectPathTricks(input, name);
  if (!SCALE_SET_NAME.test(name)) {
    throw new InputError(input, `${q(name)} is not a valid scale set name: use 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit and ending with a letter, digit or '_'.`);
  }
}

export function checkIdentityName(input: string, name: string): void {
  rejectPathTricks(input, name);
  if (!IDENTITY_NAME.test(name)) {
    throw new InputError(input, `${q(name)} is not a valid user-assigned identity name: use 3-128 letters, digits, '-' or '_', starting with a letter or digit.`);
  }
}

function checkSubscription(input: string, value: string, id: string): void {
  if (!isGuid(value)) throw new InputError(input, `${q(id)} has subscription ${q(value)}, which is not a GUID.`);
}

/** Splits `/subscriptions/S/resourceGroups/G/providers/NS/TYPE/NAME` into its parts. */
function split(input: string, id: string, expected: string): { sub: string; rg: string; provider: string; name: string } {
  rejectPathTricks(input, id);
  const parts = id.split('/');
  const ok = parts.length === 9 && parts[0] === '' && parts[1]?.toLowerCase() === 'subscriptions'
    && parts[3]?.toLowerCase() === 'resourcegroups' && parts[5]?.toLowerCase() === 'providers';
  if (!ok) {
    throw new InputError(input, `${q(id)} is not a ${expected} resource id. Expected /subscriptions/{subscription-id}/resourceGroups/{resource-group}/providers/${expected}/{name}.`);
  }
  const [, , sub = '', , rg = '', , ns = '', type = '', name = ''] = parts;
  return { sub, rg, provider: `${ns}/${type}`, name };
}

export function parseScaleSetId(input: string, id: string): ScaleSetRef {
  const expected = 'Microsoft.Compute/virtualMachineScaleSets';
  const p = split(input, id, expected);
  if (p.provider.toLowerCase() !== expected.toLowerCase()) {
    throw new InputError(input, `${q(id)} points to a ${q(p.provider)} resource, not a scale set (${expected}).`);
  }
  checkSubscription(input, p.sub, id);
  checkResourceGroup(input, p.rg);
  checkScaleSetName(input, p.name);
  return { subscriptionId: p.sub, resourceGroup: p.rg, name: p.name };
}

export function parseIdentityId(input: string, id: string): string {
  const expected = 'Microsoft.ManagedIdentity/userAssignedIdentities';
  const p = split(input, id, expected);
  if (p.provider.toLowerCase() !== expected.toLowerCase()) {
    throw new InputError(input, `${q(id)} points to a ${q(p.provider)} resource, not a user-assigned identity (${expected}).`);
  }
  checkSubscription(input, p.sub, id);
  checkResourceGroup(input, p.rg);
  checkIdentityName(input, p.name);
  return id;
}

/** ARM ids compare case-insensitively. */
export const sameId = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
