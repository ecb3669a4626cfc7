// @actions/http-client imports ProxyAgent from undici at the top of its module, for
// HttpClient#getAgentDispatcher (Octokit's fetch behind a proxy). @actions/github (loaded only
// when a pull-request comment is due) imports fetch from it. Bundling real undici costs ~400 KB
// of minified JavaScript parsed on every run, and Node already ships it as its global fetch.
// ProxyAgent is never built without a proxy; behind one it fails loudly rather than send a
// request some other way (the comment is then skipped with a warning).
export class ProxyAgent {
  constructor() {
    throw new Error('undici is not bundled with this action (stubs/README.md): HttpClient#getAgentDispatcher is not supported here.');
  }
}

/** Node's own fetch (undici inside Node): what @actions/github calls when no proxy applies. */
export const fetch = (input, init) => globalThis.fetch(input, init);
