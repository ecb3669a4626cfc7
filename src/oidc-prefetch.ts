// The GitHub OIDC token request leaves before the Azure SDK (most of the bundle) is loaded,
// so the network round trip overlaps with loading the code that needs it. Best effort: on any
// failure the sign-in asks again through @actions/core, with its retries and messages.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface Prefetch {
  audience: string;
  /** Settles once the request is on the wire (or has failed). */
  sent: Promise<void>;
  token: Promise<string | undefined>;
}

const PROXY_VARIABLES = ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'];

export function prefetchIdToken(audience: string, env: NodeJS.ProcessEnv): Prefetch | undefined {
  const url = env['ACTIONS_ID_TOKEN_REQUEST_URL'];
  const bearer = env['ACTIONS_ID_TOKEN_REQUEST_TOKEN'];
  // Node's own https client ignores proxies; @actions/core's honours them, so leave it to that.
  if (!url || !bearer || PROXY_VARIABLES.some((v) => env[v])) return undefined;
  let markSent: () => void = () => undefined;
  const sent = new Promise<void>((resolve) => (markSent = resolve));
  const token = new Promise<string | undefined>((resolve) => {
    const fail = () => {
      markSent();
      resolve(undefined);
    };
    try {
      const target = `${url}&audience=${encodeURIComponent(audience)}`;
      const request = target.startsWith('http:') ? httpRequest : httpsRequest;
      const req = request(target, { headers: { authorization: `Bearer ${bearer}`, accept: 'application/json' }, timeout: 10_000 }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        res.on('end', () => {
          try {
            const value = res.statusCode === 200 ? (JSON.parse(body) as { value?: unknown }).value : undefined;
            resolve(typeof value === 'string' ? value : undefined);
          } catch {
            resolve(undefined);
          }
        });
        res.on('error', fail);
      });
      req.on('finish', markSent);
      req.on('timeout', () => req.destroy());
      req.on('error', fail);
      req.end();
    } catch {
      fail();
    }
  });
  return { audience, sent, token };
}
