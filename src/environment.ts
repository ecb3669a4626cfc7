// A closed environment. Any earlier step of the job can set environment variables for the rest
// of it (GITHUB_ENV), and the Azure SDK, MSAL and the libraries under them read some of those to
// decide where a sign-in goes, which credential to use or what to print. Before any of that code
// is loaded, every such variable the action does not support is removed from process.env, so
// nothing later can read it. The table below is the whole list: every variable the bundle reads
// is in it (__tests__/repo/environment.test.ts checks dist/), and SECURITY.md lists the same
// supported and removed ones.

/**
 * - supported: kept; what it chooses is the workflow's to choose (SECURITY.md says why).
 * - removed: deleted before the SDK loads, with a warning when it was set.
 * - harmless: kept; read by a bundled library, but it sends nothing anywhere and prints nothing.
 */
export type Verdict = 'supported' | 'removed' | 'harmless';

export interface Variable {
  /** The exact name, or a prefix ending in `*`. */
  name: string;
  verdict: Verdict;
  why: string;
}

const ids = 'only carries an id, used when the matching input is left out: it can make a sign-in fail, not send a token elsewhere';
const proxy = "the runner's proxy, which the workflow chooses for every tool (SECURITY.md: what the model does not cover)";
const colour = 'decides the colours of debug output, which stays off (DEBUG is removed)';
const windows = 'a Windows folder: where `az` is started on Windows, or the unused browser sign-in; PATH decides which `az` runs anyway';
const msi = 'a managed identity endpoint or secret: the action never signs in with a managed identity, so this can only point a sign-in somewhere else';

export const ENVIRONMENT: readonly Variable[] = [
  { name: 'INPUT_*', verdict: 'supported', why: "the step's inputs" },
  { name: 'GITHUB_*', verdict: 'supported', why: "set by the runner: file commands (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_STATE), the repository and ref named in messages, the run's link in the plan; with pull-request-comment, the event and its payload file, the workflow, job and step that name the comment, and GITHUB_API_URL, the one host github-token is sent to (githubRun below)" },
  { name: 'RUNNER_*', verdict: 'supported', why: 'set by the runner; RUNNER_DEBUG=1 (debug logging) turns the SDK log on at info' },
  { name: 'ACTIONS_ID_TOKEN_REQUEST_URL', verdict: 'supported', why: "the runner's OIDC token service (id-token: write)" },
  { name: 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', verdict: 'supported', why: "the runner's bearer for its OIDC token service" },
  { name: 'ACTIONS_ORCHESTRATION_ID', verdict: 'harmless', why: "appended to @actions/core's user agent, with anything but letters, digits, _ . - replaced" },
  { name: 'AZURE_CLIENT_ID', verdict: 'supported', why: ids },
  { name: 'AZURE_TENANT_ID', verdict: 'supported', why: ids },
  { name: 'AZURE_SUBSCRIPTION_ID', verdict: 'supported', why: ids },
  { name: 'AZURE_LOG_LEVEL', verdict: 'supported', why: "the SDK's log level (verbose, info, warning, error); every line goes through the action's writer, which redacts every token; any other value is removed" },
  { name: 'HTTPS_PROXY', verdict: 'supported', why: proxy },
  { name: 'HTTP_PROXY', verdict: 'supported', why: proxy },
  { name: 'ALL_PROXY', verdict: 'supported', why: proxy },
  { name: 'NO_PROXY', verdict: 'supported', why: proxy },
  { name: 'https_proxy', verdict: 'supported', why: proxy },
  { name: 'http_proxy', verdict: 'supported', why: proxy },
  { name: 'all_proxy', verdict: 'supported', why: proxy },
  { name: 'no_proxy', verdict: 'supported', why: proxy },
  { name: 'NODE_EXTRA_CA_CERTS', verdict: 'supported', why: "the runner's extra certificate authorities (a proxy's), read by Node before the action starts" },
  { name: 'AZURE_AUTHORITY_HOST', verdict: 'removed', why: 'would move the sign-in, with the GitHub token, to another login host; use the authority-host input' },
  { name: 'AZURE_REGIONAL_AUTHORITY_NAME', verdict: 'removed', why: 'MSAL puts it in front of the login host, so it can send the token request, with the GitHub token, to any host' },
  { name: 'MSAL_FORCE_REGION', verdict: 'removed', why: 'the same as AZURE_REGIONAL_AUTHORITY_NAME, read by MSAL itself' },
  { name: 'REGION_NAME', verdict: 'removed', why: "MSAL's region discovery takes the region from it, which becomes part of the login host" },
  { name: 'AZURE_IDENTITY_DISABLE_MULTITENANTAUTH', verdict: 'removed', why: 'changes which tenants the credential may get tokens for; the action decides that (subscriptions in other tenants)' },
  { name: 'AZURE_RESOURCE_MANAGER_ENDPOINT', verdict: 'removed', why: 'version 1 sent the ARM token wherever it pointed; use the resource-manager-endpoint input' },
  { name: 'AZURE_POD_IDENTITY_AUTHORITY_HOST', verdict: 'removed', why: msi },
  { name: 'IDENTITY_ENDPOINT', verdict: 'removed', why: msi },
  { name: 'IDENTITY_HEADER', verdict: 'removed', why: msi },
  { name: 'IDENTITY_SERVER_THUMBPRINT', verdict: 'removed', why: msi },
  { name: 'IMDS_ENDPOINT', verdict: 'removed', why: msi },
  { name: 'MSI_ENDPOINT', verdict: 'removed', why: msi },
  { name: 'MSI_SECRET', verdict: 'removed', why: msi },
  { name: 'AZURE_FEDERATED_TOKEN_FILE', verdict: 'removed', why: 'a credential the action does not use (workload identity): it signs in only with the GitHub OIDC token or the Azure CLI' },
  { name: 'AZURE_CLIENT_SECRET', verdict: 'removed', why: 'a credential the action does not use: it signs in only with the GitHub OIDC token or the Azure CLI' },
  { name: 'AZURE_CLIENT_CERTIFICATE_PATH', verdict: 'removed', why: 'a credential the action does not use' },
  { name: 'AZURE_CLIENT_CERTIFICATE_PASSWORD', verdict: 'removed', why: 'a credential the action does not use' },
  { name: 'AZURE_CLIENT_SEND_CERTIFICATE_CHAIN', verdict: 'removed', why: 'an option of a credential the action does not use' },
  { name: 'AZURE_USERNAME', verdict: 'removed', why: 'a credential the action does not use' },
  { name: 'AZURE_PASSWORD', verdict: 'removed', why: 'a credential the action does not use' },
  { name: 'AZURE_TOKEN_CREDENTIALS', verdict: 'removed', why: 'chooses among the SDK credentials; the action chooses its own' },
  { name: 'AZURE_ADDITIONALLY_ALLOWED_TENANTS', verdict: 'removed', why: 'changes which tenants the credential may get tokens for' },
  { name: 'NODE_TLS_REJECT_UNAUTHORIZED', verdict: 'removed', why: '0 turns off certificate checks, so any host could answer as Entra ID or ARM and take the tokens; trust a proxy with NODE_EXTRA_CA_CERTS instead' },
  { name: 'TYPESPEC_RUNTIME_LOG_LEVEL', verdict: 'removed', why: "turns on a second SDK logger whose lines would reach stderr past the action's writer" },
  { name: 'DEBUG', verdict: 'removed', why: "turns on debug logs (the SDK's and the proxy agents', which print the proxy URL with its password) that reach stderr past the action's writer" },
  { name: 'NODE_DEBUG', verdict: 'removed', why: "turns on debug lines of bundled libraries (tunnel, semver) that reach stderr past the action's writer; Node's own sections are fixed before the action starts" },
  { name: 'DEBUG_*', verdict: 'harmless', why: 'formatting options of the debug package, whose output stays off (DEBUG is removed)' },
  { name: 'TERM', verdict: 'harmless', why: colour },
  { name: 'COLORTERM', verdict: 'harmless', why: colour },
  { name: 'FORCE_COLOR', verdict: 'harmless', why: colour },
  { name: 'TERM_PROGRAM', verdict: 'harmless', why: colour },
  { name: 'TERM_PROGRAM_VERSION', verdict: 'harmless', why: colour },
  { name: 'CI', verdict: 'harmless', why: colour },
  { name: 'CI_NAME', verdict: 'harmless', why: colour },
  { name: 'TEAMCITY_VERSION', verdict: 'harmless', why: colour },
  { name: 'TRAVIS', verdict: 'harmless', why: colour },
  { name: 'CIRCLECI', verdict: 'harmless', why: colour },
  { name: 'APPVEYOR', verdict: 'harmless', why: colour },
  { name: 'GITLAB_CI', verdict: 'harmless', why: colour },
  { name: 'BUILDKITE', verdict: 'harmless', why: colour },
  { name: 'SystemRoot', verdict: 'harmless', why: windows },
  { name: 'SYSTEMROOT', verdict: 'harmless', why: windows },
  { name: 'windir', verdict: 'harmless', why: windows },
  { name: 'ProgramData', verdict: 'harmless', why: windows },
  { name: 'ProgramFiles', verdict: 'harmless', why: windows },
  { name: '__IS_WSL_TEST__', verdict: 'harmless', why: 'a test switch of the is-wsl package (the unused browser sign-in): whether to detect WSL again on each call' },
];

/** The levels @azure/logger accepts; any other value would be echoed by it, unescaped, to stderr. */
export const SDK_LOG_LEVELS = ['verbose', 'info', 'warning', 'error'] as const;

/** The table's entry for a name: an exact entry first, else the longest matching prefix. */
export function variableFor(name: string): Variable | undefined {
  const exact = ENVIRONMENT.find((v) => v.name === name);
  if (exact) return exact;
  const prefixes = ENVIRONMENT.filter((v) => v.name.endsWith('*') && name.startsWith(v.name.slice(0, -1)));
  return prefixes.sort((a, b) => b.name.length - a.name.length)[0];
}

export interface Removal {
  name: string;
  /** The table's reason, or why the value itself was refused. */
  why: string;
}

/**
 * Deletes from `env` every variable the table removes, and an AZURE_LOG_LEVEL the SDK would not
 * accept. Returns what was set (names only: the values are never echoed).
 */
export function closeEnvironment(env: NodeJS.ProcessEnv = process.env): Removal[] {
  const removals: Removal[] = [];
  for (const variable of ENVIRONMENT) {
    if (variable.verdict !== 'removed' || env[variable.name] === undefined) continue;
    delete env[variable.name];
    removals.push({ name: variable.name, why: variable.why });
  }
  const level = env['AZURE_LOG_LEVEL'];
  if (level !== undefined && !(SDK_LOG_LEVELS as readonly string[]).includes(level)) {
    delete env['AZURE_LOG_LEVEL'];
    removals.push({ name: 'AZURE_LOG_LEVEL', why: `its value is not one of ${SDK_LOG_LEVELS.join(', ')}, so the SDK log stays off` });
  }
  return removals;
}

/** The warning for one removed variable: its name and why, never its value. */
export function removalWarning(removal: Removal): string {
  return `The environment variable ${removal.name} is set (by the workflow, or by an earlier step through GITHUB_ENV). The action removed it from its environment before loading the Azure SDK: ${removal.why}.`;
}

/** What the runner says of this run: the plan's link, and where and as what the pull-request comment goes. */
export interface GithubRun {
  /** GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT: the run's page. */
  serverUrl: string;
  repository: string;
  runId: string;
  runAttempt: string;
  /** GITHUB_API_URL (GitHub Enterprise Server sets its own): the only host github-token is sent to. */
  apiUrl: string;
  /** GITHUB_EVENT_NAME and GITHUB_EVENT_PATH (the event's payload, a JSON file the runner writes). */
  eventName: string;
  eventPath: string;
  /** GITHUB_WORKFLOW, GITHUB_JOB, GITHUB_ACTION: the step whose comment this is. */
  workflow: string;
  job: string;
  action: string;
}

/** The GITHUB_* values above, '' when unset (read here so the table's reasons stay next to the reads). */
export function githubRun(env: NodeJS.ProcessEnv): GithubRun {
  const get = (name: string) => (env[name] ?? '').trim();
  return {
    serverUrl: get('GITHUB_SERVER_URL') || 'https://github.com',
    repository: get('GITHUB_REPOSITORY'),
    runId: get('GITHUB_RUN_ID'),
    runAttempt: get('GITHUB_RUN_ATTEMPT'),
    apiUrl: get('GITHUB_API_URL') || 'https://api.github.com',
    eventName: get('GITHUB_EVENT_NAME'),
    eventPath: get('GITHUB_EVENT_PATH'),
    workflow: get('GITHUB_WORKFLOW'),
    job: get('GITHUB_JOB'),
    action: get('GITHUB_ACTION'),
  };
}
