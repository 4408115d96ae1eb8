/**
 * A listening server that stops at once: it keeps its open sockets (keep-alive, hung,
 * mid-upload) and destroys them when it closes. The simulator and the replay listen through it.
 */
import type http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export class Listener {
  private constructor(
    private readonly server: http.Server,
    readonly port: number,
    private readonly sockets: Set<Socket>,
  ) {}

  /** Listens on host:port (port 0: a free one); rejects when it cannot (EADDRINUSE...). */
  static async start(server: http.Server, host: string, port: number): Promise<Listener> {
    const sockets = new Set<Socket>();
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new Listener(server, (server.address() as AddressInfo).port, sockets);
  }

  /** Stops listening and destroys every open socket; resolves when the server is closed. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
  }
}

/** The base URL of a server on host:port (an IPv6 host in brackets). */
export function baseUrl(scheme: 'http' | 'https', host: string, port: number): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
