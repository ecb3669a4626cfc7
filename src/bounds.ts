// How much one step takes on. Every list input, every listing and the fleet itself is bounded,
// so neither the inputs nor Azure's answers can hold the action busy or fill its memory before
// the deadline starts. SECURITY.md ("Bounds") lists them with the tests that hold them.

/** Entries in any list input (vmss-name, vmss-id, resource-group, subscription-id, vmss-tags, role-assignments). */
export const MAX_LIST_ENTRIES = 2000;
/** ARM refuses a request that assigns more ("User Assigned Identities Number '151' Assign exceed limit '150' in one request"). */
export const MAX_USER_ASSIGNED_IDS = 150;
/** Scale sets one step checks and changes, a query's matches included. */
export const MAX_TARGETS = 10_000;
/** ARM list pages hold at most 1,000 items ($top's maximum); a page with more is not ARM's. */
export const MAX_PAGE_ITEMS = 1000;
/** Pages one listing may take: the whole fleet even at 10 scale sets a page (Compute sends 50). */
export const MAX_LIST_PAGES = MAX_TARGETS / 10;
/** Listings one query makes (subscriptions × named resource groups). */
export const MAX_LISTINGS = MAX_TARGETS;
/**
 * Bytes one list page may take, read as it arrives and given up past this: a page holds at most
 * MAX_PAGE_ITEMS scale sets and a real scale set's JSON is a few KB to tens of KB (extensions,
 * custom data), so even a full page of large ones stays under it. Parsing is what it still
 * costs: a few times the size for ARM's JSON, up to ~18 times for a hostile page of empty
 * objects (64 MiB of `{}` took 1.2 GB of heap and seconds, measured), within a runner's default heap.
 */
export const MAX_PAGE_BYTES = 64 * 1024 * 1024;

/** A cloud metadata document or a GitHub token answer is a few KB: one of a megabyte is not one. */
export const MAX_METADATA_BYTES = 1024 * 1024;

/** The event payload the runner writes (GITHUB_EVENT_PATH), read for a pull request's number: a real one is tens of KB. */
export const MAX_EVENT_PAYLOAD_BYTES = 4 * 1024 * 1024;
