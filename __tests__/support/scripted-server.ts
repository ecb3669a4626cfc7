// A small HTTPS server on 127.0.0.1 that answers from a script and records every request:
// a capture server standing in as a hostile endpoint, or an ARM that answers what the real
// one sometimes does (empty bodies, HTML pages from a gateway).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTlsMaterial } from '../../emulator/tls.ts';
import type { Emulator } from '../../emulator/server.ts';

export interface Captured {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface Answer {
  status: number;
  body?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface ScriptedServer {
  origin: string;
  requests: Captured[];
  /** A CA bundle that trusts both this server and the emulator, for NODE_EXTRA_CA_CERTS. */
  caBundle: string;
  stop(): Promise<void>;
}

export const json = (status: number, value: unknown): Answer => ({ status, body: JSON.stringify(value), contentType: 'application/json; charset=utf-8' });

export async function startScripted(em: Emulator, script: (req: Captured, origin: string) => Answer): Promise<ScriptedServer> {
  const tls = await makeTlsMaterial();
  const dir = mkdtempSync(join(tmpdir(), 'scripted-'));
  const caBundle = join(dir, 'ca.pem');
  writeFileSync(caBundle, `${readFileSync(em.caPath, 'utf8')}\n${tls.caPem}`);
  const requests: Captured[] = [];
  const server = createServer({ cert: tls.certPem, key: tls.keyPem });
  let origin = '';
  server.on('request', (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const captured: Captured = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
      requests.push(captured);
      const answer = script(captured, origin);
      res.writeHead(answer.status, { ...(answer.contentType ? { 'content-type': answer.contentType } : {}), ...(answer.headers ?? {}) });
      res.end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    caBundle,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The claims of a JWT, unverified: to see what a captured token or assertion was meant for. */
export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}
