/**
 * A TCP relay on 127.0.0.1 that forwards to a local port at a set rate in each direction, to
 * play a slow or stalling link. It reads only its budget each tick and leaves the rest unread,
 * so the kernel's buffers fill and the sender feels the link as it would a real slow one.
 */
import net from 'node:net';

const TICK_MS = 20;

export interface RelayRates {
  /** Bytes per second from the client to the target; undefined: as fast as possible, 0: frozen. */
  up?: number;
  /** Bytes per second from the target to the client. */
  down?: number;
}

export class ThrottlingRelay {
  /** Bytes forwarded so far in each direction. */
  readonly forwarded = { up: 0, down: 0 };
  private readonly sockets = new Set<net.Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: net.Server,
    readonly rates: RelayRates,
  ) {}

  static async start(targetPort: number, rates: RelayRates = {}): Promise<ThrottlingRelay> {
    const server = net.createServer();
    const relay = new ThrottlingRelay(server, { ...rates });
    server.on('connection', (client) => relay.connect(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return relay;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private connect(client: net.Socket, targetPort: number): void {
    const target = net.connect(targetPort, '127.0.0.1');
    for (const socket of [client, target]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        target.destroy();
      });
    }
    this.forward(client, target, 'up');
    this.forward(target, client, 'down');
  }

  private forward(from: net.Socket, to: net.Socket, direction: 'up' | 'down'): void {
    from.on('end', () => to.end());
    if (this.rates[direction] === undefined) {
      from.on('data', (chunk: Buffer) => {
        this.forwarded[direction] += chunk.length;
        to.write(chunk);
      });
      return;
    }
    // Paused mode: only what the budget allows is read; the rest waits in the kernel.
    from.on('readable', () => undefined);
    const timer = setInterval(() => {
      let budget = Math.floor(((this.rates[direction] ?? 0) * TICK_MS) / 1000);
      while (budget > 0 && from.readableLength > 0) {
        const chunk = from.read(Math.min(budget, from.readableLength)) as Buffer | null;
        if (!chunk) break;
        budget -= chunk.length;
        this.forwarded[direction] += chunk.length;
        to.write(chunk);
      }
      // Lets a finished stream emit 'end' once it is drained.
      if (from.readableLength === 0) from.read(0);
    }, TICK_MS);
    this.timers.add(timer);
    from.on('close', () => {
      clearInterval(timer);
      this.timers.delete(timer);
    });
  }
}
