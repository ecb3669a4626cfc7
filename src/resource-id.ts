// ARM resource ids of scale sets and user-assigned identities: parsed strictly, with errors
// that say which part is wrong: in inputs before anything is sent to Azure, and in Azure's answers.
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

/**
 * Builds the error for a value that breaks a rule: an InputError for an input, an error about
 * Azure's answer for a value Azure sent. The same rules hold for both.
 */
export type Complaint = (problem: string) => Error;

const fromInput = (input: string): Complaint => (problem) => new InputError(input, problem);

/** Characters that would change the meaning of a URL path if they reached one. */
function rejectPathTricks(complain: Complaint, value: string): void {
  if (/\s/.test(value)) throw complain(`${q(value)} contains whitespace. Resource ids and names never do; remove it.`);
  const trick = ['..', '?', '#', '%', '\\'].find((t) => value.includes(t));
  if (trick) throw complain(`${q(value)} contains ${q(trick)}, which is not allowed in an Azure resource id or name.`);
}

export function readResourceGroup(name: string, complain: Complaint): string {
  rejectPathTricks(complain, name);
  if (!RESOURCE_GROUP.test(name) || name.endsWith('.')) {
    throw complain(`${q(name)} is not a valid resource group name: use 1-90 letters, digits, '_', '-', '.', '(' or ')', not ending in '.'.`);
  }
  return name;
}

export function readScaleSetName(name: string, complain: Complaint): string {
  rejectPathTricks(complain, name);
  if (!SCALE_SET_NAME.test(name)) {
    throw complain(`${q(name)} is not a valid scale set name: use 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit and ending with a letter, digit or '_'.`);
  }
  return name;
}

function readIdentityName(name: string, complain: Complaint): string {
  rejectPathTricks(complain, name);
  if (!IDENTITY_NAME.test(name)) {
    throw complain(`${q(name)} is not a valid user-assigned identity name: use 3-128 letters, digits, '-' or '_', starting with a letter or digit.`);
  }
  return name;
}

export const checkResourceGroup = (input: string, name: string): void => void readResourceGroup(name, fromInput(input));
export const checkScaleSetName = (input: string, name: string): void => void readScaleSetName(name, fromInput(input));
export const checkIdentityName = (input: string, name: string): void => void readIdentityName(name, fromInput(input));

function checkSubscription(complain: Complaint, value: string, id: string): void {
  if (!isGuid(value)) throw complain(`${q(id)} has subscription ${q(value)}, which is not a GUID.`);
}

/** Splits `/subscriptions/S/resourceGroups/G/providers/NS/TYPE/NAME` into its parts. */
function split(complain: Complaint, id: string, expected: string): { sub: string; rg: string; provider: string; name: string } {
  rejectPathTricks(complain, id);
  const parts = id.split('/');
  const ok = parts.length === 9 && parts[0] === '' && parts[1]?.toLowerCase() === 'subscriptions'
    && parts[3]?.toLowerCase() === 'resourcegroups' && parts[5]?.toLowerCase() === 'providers';
  if (!ok) {
    throw complain(`${q(id)} is not a ${expected} resource id. Expected /subscriptions/{subscription-id}/resourceGroups/{resource-group}/providers/${expected}/{name}.`);
  }
  const [, , sub = '', , rg = '', , ns = '', type = '', name = ''] = parts;
  return { sub, rg, provider: `${ns}/${type}`, name };
}

/** A scale set's id, every part checked; `complain` builds the error. */
export function readScaleSetId(id: string, complain: Complaint): ScaleSetRef {
  const expected = 'Microsoft.Compute/virtualMachineScaleSets';
  const p = split(complain, id, expected);
  if (p.provider.toLowerCase() !== expected.toLowerCase()) {
    throw complain(`${q(id)} points to a ${q(p.provider)} resource, not a scale set (${expected}).`);
  }
  checkSubscription(complain, p.sub, id);
  readResourceGroup(p.rg, complain);
  readScaleSetName(p.name, complain);
  return { subscriptionId: p.sub, resourceGroup: p.rg, name: p.name };
}

/** A user-assigned identity's id, every part checked; `complain` builds the error. */
export function readIdentityId(id: string, complain: Complaint): string {
  const expected = 'Microsoft.ManagedIdentity/userAssignedIdentities';
  const p = split(complain, id, expected);
  if (p.provider.toLowerCase() !== expected.toLowerCase()) {
    throw complain(`${q(id)} points to a ${q(p.provider)} resource, not a user-assigned identity (${expected}).`);
  }
  checkSubscription(complain, p.sub, id);
  readResourceGroup(p.rg, complain);
  readIdentityName(p.name, complain);
  return id;
}

export const parseScaleSetId = (input: string, id: string): ScaleSetRef => readScaleSetId(id, fromInput(input));
export const parseIdentityId = (input: string, id: string): string => readIdentityId(id, fromInput(input));

/** ARM ids compare case-insensitively. */
export const sameId = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
