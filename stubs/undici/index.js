// @actions/http-client imports ProxyAgent from undici at the top of its module, for
// HttpClient#getAgentDispatcher (Octokit's fetch behind a proxy). This action never calls it:
// @actions/core's getIDToken sends through HttpClient's own agents (tunnel for proxies).
// Bundling real undici costs ~400 KB of minified JavaScript parsed on every run. If a future
// dependency does reach this, fail loudly rather than send a request some other way.
export class ProxyAgent {
  constructor() {
    throw new Error('undici is not bundled with this action (stubs/README.md): HttpClient#getAgentDispatcher is not supported here.');
  }
}
