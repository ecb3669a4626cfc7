// Small HTTP helpers shared by the three services.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  method: string;
  body: string;
  /** Route name used by the request log and fault rules, e.g. `arm.vmss.patch`. */
  route: string;
  /** Who called: app object id for ARM, client id for Entra, `runner` for GitHub. */
  caller?: string;
  /** Extra delay before the answer leaves, set by a fault rule. */
  delayAfterMs: number;
  /** Carry the request out but drop the connection instead of answering (a fault rule). */
  loseResponse?: boolean;
  status?: number;
}

export type Headers = Record<string, string>;

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function send(x: Exchange, status: number, body: unknown, headers: Headers = {}): Promise<void> {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const all: Headers = {
    'cache-control': 'no-cache',
    'x-ms-request-id': crypto.randomUUID(),
    ...(text ? { 'content-type': 'application/json; charset=utf-8' } : {}),
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  };
  if (x.delayAfterMs > 0) await new Promise((r) => setTimeout(r, x.delayAfterMs));
  x.status = x.loseResponse ? 0 : status;
  if (x.loseResponse) {
    x.req.socket.destroy();
    return;
  }
  if (x.res.destroyed) return;
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
