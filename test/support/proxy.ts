/**
 * A recording HTTP proxy on 127.0.0.1: it notes every request it is asked to carry (absolute-form
 * requests for http, CONNECT for https tunnels) and maps made-up host names to local ports, so a
 * test can proxy to "a device" without any name ever being looked up.
 */
import http from 'node:http';
import net from 'node:net';

export interface ProxiedRequest {
  method: string;
  /** The absolute URL, or host:port for CONNECT. */
  target: string;
  headers: http.IncomingHttpHeaders;
}

export class RecordingProxy {
  readonly seen: ProxiedRequest[] = [];
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: http.Server,
    /** `host:port` as the client names it -> the local port that serves it. */
    readonly routes: Record<string, number>,
    /** When set, requests without this Proxy-Authorization get 407. */
    readonly requireAuthorization?: string,
  ) {}

  static async start(routes: Record<string, number>, requireAuthorization?: string): Promise<RecordingProxy> {
    const server = http.createServer();
    const proxy = new RecordingProxy(server, routes, requireAuthorization);
    server.on('connection', (socket: net.Socket) => {
      proxy.sockets.add(socket);
      socket.on('close', () => proxy.sockets.delete(socket));
    });
    server.on('request', (req, res) => proxy.forward(req, res));
    server.on('connect', (req, socket: net.Socket, head) => proxy.tunnel(req, socket, head));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private allowed(req: http.IncomingMessage, target: string): number | 'unauthorized' | undefined {
    this.seen.push({ method: req.method ?? '', target, headers: req.headers });
    if (this.requireAuthorization && req.headers['proxy-authorization'] !== this.requireAuthorization) return 'unauthorized';
    return this.routes[target.replace(/^https?:\/\//, '').replace(/\/.*$/, '')];
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const port = this.allowed(req, req.url ?? '');
    if (port === 'unauthorized') return void res.writeHead(407, { 'Proxy-Authenticate': 'Basic realm="test"' }).end();
    if (port === undefined) return void res.writeHead(502).end('no route');
    const url = new URL(req.url ?? '/');
    const { 'proxy-authorization': _credentials, ...headers } = req.headers;
    const upstream = http.request({ host: '127.0.0.1', port, method: req.method, path: url.pathname + url.search, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }

  private tunnel(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    socket.on('error', () => undefined);
    const port = this.allowed(req, req.url ?? '');
    if (port === 'unauthorized') return void socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n');
    if (port === undefined) return void socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
    const upstream = net.connect(port, '127.0.0.1', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    this.sockets.add(upstream);
    upstream.on('close', () => (this.sockets.delete(upstream), socket.destroy()));
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
  }
}
