/**
 * The map's promise for `key` (any case), made once; a failed one is forgotten so a later call
 * asks again. What one run reads of Azure once and shares: role definitions, assignment lists,
 * permissions, scopes.
 */
export function once<T>(map: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  const k = key.toLowerCase();
  let found = map.get(k);
  if (!found) {
    found = make();
    found.catch(() => map.delete(k));
    map.set(k, found);
  }
  return found;
}
