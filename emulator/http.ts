// Small HTTP helpers shared by the services: the exchange, answers with Azure's request-id
// headers, ARM's error envelope and body parsing.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';

/** Which face of the emulator a request reached: its own origin, or a host through the proxy. */
export type Site =
  | { kind: 'origin' }
  | { kind: 'proxied'; host: string };

export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  method: string;
  body: string;
  /** The origin clients see for this request, used in URLs the emulator hands out. */
  base: string;
  site: Site;
  /** Route name used by the request log and fault rules, e.g. `arm.vmss.patch`. */
  route: string;
  /** Who called: app object id for ARM, client id for Entra, `runner` for GitHub. */
  caller?: string;
  /** Extra delay before the answer leaves, set by a fault rule. */
  delayAfterMs: number;
  /** Carry the request out but drop the connection instead of answering (a fault rule). */
  loseResponse?: boolean;
  status?: number;
  /** Rate-limit headers every answer to this request carries (set by ARM's front door). */
  limitHeaders?: Headers;
  /** Changes the answer before it leaves (a `rewrite` fault rule). */
  rewrite?: { body?: (body: unknown) => unknown; headers?: Headers };
  /** The budget that refused this request with a 429, for the log. */
  throttled?: string;
}

export type Headers = Record<string, string>;

/** Bodies above this size are refused: the emulator is not a load target. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Azure's tracing headers: a fresh request id per answer; ARM keeps the caller's correlation id
 * (or makes one) and echoes x-ms-client-request-id; Entra echoes client-request-id.
 */
function tracingHeaders(x: Exchange): Headers {
  const requestId = randomUUID();
  const clientRequestId = header(x.req, 'x-ms-client-request-id');
  const entraClientRequestId = header(x.req, 'client-request-id');
  return {
    'x-ms-request-id': requestId,
    'x-ms-correlation-request-id': header(x.req, 'x-ms-correlation-request-id') ?? randomUUID(),
    'x-ms-routing-request-id': `WESTEUROPE:${new Date().toISOString().replace(/[-:]|\.\d+/g, '')}:${requestId}`,
    ...(clientRequestId ? { 'x-ms-client-request-id': clientRequestId } : {}),
    ...(entraClientRequestId ? { 'client-request-id': entraClientRequestId } : {}),
  };
}

function rewritten(x: Exchange, body: unknown): unknown {
  const edit = x.rewrite?.body;
  if (!edit) return body;
  if (typeof body !== 'string') return edit(body === undefined ? undefined : JSON.parse(JSON.stringify(body)));
  try {
    return edit(JSON.parse(body));
  } catch {
    return edit(body);
  }
}

export async function send(x: Exchange, status: number, original: unknown, own: Headers = {}): Promise<void> {
  const body = rewritten(x, original);
  const headers = { ...own, ...(x.rewrite?.headers ?? {}) };
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const all: Headers = {
    'cache-control': 'no-cache',
    ...tracingHeaders(x),
    ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}),
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
    ...(x.limitHeaders ?? {}),
  };
  if (x.delayAfterMs > 0) await new Promise((r) => setTimeout(r, x.delayAfterMs));
  x.status = x.loseResponse ? 0 : status;
  if (x.loseResponse) {
    x.req.socket.destroy();
    return;
  }
  if (x.res.destroyed || x.res.headersSent) return;
  x.res.writeHead(status, all);
  x.res.end(text);
}

/** ARM's error envelope. */
export function armError(x: Exchange, status: number, code: string, message: string, extra: Record<string, unknown> = {}, headers: Headers = {}) {
  return send(x, status, { error: { code, message, ...extra } }, headers);
}

export function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(h);
  return m?.[1]?.trim();
}

export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text || '{}') as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return undefined;
}
