// HTTPS through the emulator's proxy mode, as a client with HTTPS_PROXY set does it: CONNECT,
// then TLS to the named host inside the tunnel, trusting only the emulator's CA.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { connect, type TLSSocket } from 'node:tls';
import type { Emulator } from '../../emulator/server.ts';
import type { RawResponse } from './clients.ts';

/** Opens a CONNECT tunnel; resolves with the proxy's status and, on 200, the TLS socket. */
export function tunnel(em: Emulator, host: string): Promise<{ status: number; socket?: TLSSocket }> {
  const proxy = new URL(em.urls.proxy);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: `${host}:443` });
    req.on('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        resolve({ status: res.statusCode ?? 0 });
        return;
      }
      const tls = connect({ socket, servername: host, ca: readFileSync(em.caPath) }, () => resolve({ status: 200, socket: tls }));
      tls.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export async function viaProxy(em: Emulator, method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawResponse & { json: Record<string, unknown> }> {
  const target = new URL(url);
  const { status, socket } = await tunnel(em, target.hostname);
  if (!socket) throw new Error(`CONNECT ${target.hostname} answered ${status}`);
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(target, {
      method,
      createConnection: () => socket,
      headers: { ...(text ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) } : {}), ...headers },
    }, (res) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c.toString()));
      res.on('end', () => {
        socket.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data, json: data.startsWith('{') ? (JSON.parse(data) as Record<string, unknown>) : {} });
      });
    });
    req.on('error', reject);
    req.end(text);
  });
}
