// The proxy mode: an HTTP proxy on 127.0.0.1 that accepts CONNECT only for the host names the
// emulator stands in for, and hands those tunnels to the emulator's own TLS server (whose
// certificate names them). Every other CONNECT, and every plain-HTTP proxy request, is refused
// with 403 and logged, so a client can never reach the real Azure by mistake.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Server as TlsServer } from 'node:https';

export interface Proxy {
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startProxy(target: TlsServer, accepts: (host: string) => boolean, refused: (target: string) => void): Promise<Proxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    refused(`${req.method ?? 'GET'} ${req.url ?? ''}`);
    res.writeHead(403, { 'content-type': 'text/plain' }).end('The emulator proxy only tunnels (CONNECT) to the hosts it emulates.\n');
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req, socket: Socket, head: Buffer) => {
    const authority = req.url ?? '';
    const [host = '', port = '443'] = authority.split(':');
    socket.on('error', () => socket.destroy());
    if (port !== '443' || !accepts(host.toLowerCase())) {
      refused(authority);
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) socket.unshift(head);
    target.emit('connection', socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
