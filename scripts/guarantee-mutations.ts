// One mutation per guarantee: where the promise lives in the source, the smallest break of it,
// and the tests that claim to hold it. `find` must occur exactly once in `file`, so a
// mutation that no longer applies fails loudly instead of passing quietly.
export interface Mutation {
  /** The promise, as README/SECURITY.md state it. */
  guarantee: string;
  name: string;
  what: string;
  file: string;
  find: string;
  replace: string;
  /** Further edits of the same break, where the promise is kept in more than one place. */
  also?: { file: string; find: string; replace: string }[];
  /** Test files, relative to the repo. */
  tests: string[];
  /** Only the tests whose name matches (a regular expression). */
  testName?: string;
}

export const MUTATIONS: Mutation[] = [
  {
    guarantee: 'A concurrent change is never overwritten',
    name: 'no-if-match',
    what: 'the PATCH is sent without If-Match',
    file: 'src/azure/scale-sets.ts',
    find: "headers: etag ? { 'if-match': etag } : {},",
    replace: 'headers: etag ? {} : {},',
    tests: ['__tests__/e2e/concurrency.test.ts'],
  },
  {
    guarantee: 'A deadline or cancel is honoured within 2 s, also during sign-in',
    name: 'sign-in-ignores-abort',
    what: 'the sign-in is awaited without the abort signal',
    file: 'src/main.ts',
    find: 'const token = await abortable(signedIn, signal);',
    replace: 'const token = await signedIn;',
    tests: ['__tests__/e2e/edges.test.ts'],
    testName: 'hangs',
  },
  {
    guarantee: 'No text from outside can form a workflow command',
    name: 'raw-log-lines',
    what: 'log lines are printed without breaking up :: and ##[',
    file: 'src/writer.ts',
    find: "core.info(neutralise(message));",
    replace: 'core.info(message);',
    tests: ['__tests__/e2e/injection.test.ts'],
  },
  {
    guarantee: 'No text from outside can form summary markup',
    name: 'raw-summary-text',
    what: 'outside text goes into the summary unescaped',
    file: 'src/writer.ts',
    find: "const text = v instanceof Html ? v.text : Array.isArray(v) ? v.map((h) => h.text).join('') : escapeHtml(String(v));",
    replace: "const text = v instanceof Html ? v.text : Array.isArray(v) ? v.map((h) => h.text).join('') : String(v);",
    tests: ['__tests__/e2e/injection.test.ts'],
  },
  {
    guarantee: 'The summary stays under 1 MiB, whatever the fleet',
    name: 'unbounded-summary',
    what: 'every section is written, however large',
    file: 'src/writer.ts',
    find: 'if (this.left > 0 || this.bytes + size > SUMMARY_LIMIT - 4096) {',
    replace: 'if (this.left > 0 && this.bytes + size > SUMMARY_LIMIT - 4096) {',
    tests: ['__tests__/scale/summary-size.test.ts'],
  },
  {
    guarantee: 'Tokens never reach the log, outputs or summary',
    name: 'no-redaction',
    what: 'the writer stops replacing secrets by ***',
    file: 'src/writer.ts',
    find: "for (const s of secrets) if (out.includes(s)) out = out.split(s).join('***');",
    replace: 'void secrets;',
    tests: ['__tests__/e2e/secrets.test.ts'],
  },
  {
    guarantee: 'A token goes only to its cloud: no nextLink is followed off the ARM host',
    name: 'follow-off-host-next-link',
    what: 'a list answer\'s nextLink is followed wherever it points',
    file: 'src/azure/scale-sets.ts',
    find: "this.onOwnHost(url, 'a list answer\\'s next page');",
    replace: '',
    tests: ['__tests__/e2e/edges.test.ts'],
    testName: 'nextLink',
  },
  {
    guarantee: 'Every scale set is checked before any is written',
    name: 'write-before-check',
    what: 'targets are written even when another one failed the check phase',
    file: 'src/main.ts',
    find: 'if (invalid.length) {',
    replace: 'if (invalid.length < 0) {',
    tests: ['__tests__/e2e/fleet.test.ts'],
    testName: 'checked before any is written',
  },
  {
    guarantee: 'Outputs are written on every path, failures included',
    name: 'no-outputs-on-failure',
    what: 'outputs are skipped when a target failed',
    file: 'src/main.ts',
    find: "writeOutputs(results, settings.signIn.kind === 'oidc' ? settings.signIn.tenantId : '');",
    replace: "if (!results.some((r) => r.error)) writeOutputs(results, settings.signIn.kind === 'oidc' ? settings.signIn.tenantId : '');",
    tests: ['__tests__/e2e/edges.test.ts'],
    testName: 'outputs written|results carry',
  },
  {
    guarantee: '`changed` says what was written, not what was planned',
    name: 'changed-from-plan',
    what: '`changed` is reported from the plan',
    file: 'src/report.ts',
    find: 'r.changed || r.removedExtensions.length > 0',
    replace: '(r.plan?.changed ?? false) || r.removedExtensions.length > 0',
    tests: ['__tests__/e2e/edges.test.ts', '__tests__/e2e/operations.test.ts', '__tests__/e2e/errors.test.ts'],
    testName: 'changed|writes once|dry-run|403 on the scale set',
  },
  {
    guarantee: 'Nothing in the environment redirects sign-in',
    name: 'open-environment',
    what: 'variables the table removes are left in place',
    file: 'src/environment.ts',
    find: '    delete env[variable.name];',
    replace: '    void env;',
    tests: ['__tests__/e2e/environment.test.ts'],
  },
  {
    guarantee: 'SDK logging cannot print secrets',
    name: 'sdk-log-raw',
    what: 'SDK log lines skip the reduction and redaction',
    file: 'src/sdk-log.ts',
    find: 'const line = redact(withoutRequestInternals(formatArguments(args)));',
    replace: 'const line = args.map(String).join(\' \'); void redact; void withoutRequestInternals; void formatArguments;',
    tests: ['__tests__/e2e/sdk-log.test.ts'],
  },
  {
    guarantee: 'A custom cloud gets no token for a Microsoft first-party resource',
    name: 'first-party-audience',
    what: 'a custom audience on a Microsoft host passes the policy',
    file: 'src/audience-policy.ts',
    find: 'const domain = microsoftDomainOf(url.hostname);',
    replace: 'const domain: string | undefined = url.hostname === \'\' ? microsoftDomainOf(url.hostname) : undefined;',
    tests: ['__tests__/e2e/cloud-hosts.test.ts'],
  },
  {
    guarantee: "The sign-in's requests go only to the login endpoint's hosts",
    name: 'sign-in-any-host',
    what: 'the credential follows a discovery document to any host',
    file: 'src/azure/sign-in.ts',
    find: 'if (allowed.includes(target.origin.toLowerCase())) return next(request);',
    replace: 'if (allowed.length >= 0) return next(request);',
    tests: ['__tests__/e2e/cloud-hosts.test.ts'],
  },
  {
    guarantee: 'At most one status poll a second per operation, whatever Retry-After says',
    name: 'no-poll-floor',
    what: 'a Retry-After of 0 is honoured as given',
    file: 'src/backoff.ts',
    find: 'return asked === undefined ? undefined : Math.max(MIN_RETRY_AFTER_MS, asked);',
    replace: 'return asked === undefined ? undefined : Math.max(MIN_RETRY_AFTER_MS * 0, asked);',
    tests: ['__tests__/e2e/deadlines.test.ts'],
    testName: 'Retry-After|retry-after',
  },
  {
    guarantee: 'Every wait obeys the deadline, the early metadata read included',
    name: 'prefetch-ignores-abort',
    what: 'the entry point waits for its early requests without the abort signal',
    file: 'src/index.ts',
    find: 'await abortable(Promise.all([prefetch?.sent, metadataSent]), stop.signal).catch(() => undefined);',
    replace: 'await Promise.all([prefetch?.sent, metadataSent]).catch(() => abortable);',
    also: [
      { file: 'src/oidc-prefetch.ts', find: 'timeout: GIVE_UP_MS, signal }', replace: 'timeout: GIVE_UP_MS, signal: signal.aborted ? undefined : undefined }' },
      { file: 'src/azure/cloud-metadata.ts', find: 'const prefetched = await abortable(takePrefetchedMetadata(endpoint) ?? Promise.resolve(undefined), signal);', replace: 'const prefetched = await (takePrefetchedMetadata(endpoint) ?? abortable(Promise.resolve(undefined), signal));' },
    ],
    tests: ['__tests__/e2e/deadlines.test.ts'],
    testName: 'stalled TLS|connection is held|deadline',
  },
  {
    guarantee: 'Outputs hold only validated values: Azure answers are parsed, not trusted',
    name: 'unchecked-ids',
    what: 'a principal, tenant or client id from Azure is used without the GUID check',
    file: 'src/azure/answers.ts',
    find: "return typeof value === 'string' && isGuid(value) ? value : invalid(what, target, value);",
    replace: "return typeof value === 'string' && (isGuid(value) || value.length > 0) ? value : invalid(what, target, value);",
    tests: ['__tests__/e2e/answers.test.ts', '__tests__/e2e/injection.test.ts'],
  },
];
