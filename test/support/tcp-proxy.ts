import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of the shared RabbitMQ (127.0.0.1:5672) that a test stops (every socket
 * cut, port closed) to stand for a lost node, without ever touching the shared broker; or
 * blackholes (the open connections stay up but carry nothing, as after a NAT or firewall drops
 * their state) to stand for a half-open connection.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Sockets whose traffic is dropped (see {@link blackhole}). */
  private readonly holed = new WeakSet<Socket>();
  port = 0;

  constructor(private readonly upstreamPort = 5672) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = createConnection({ host: '127.0.0.1', port: this.upstreamPort });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => {
          this.sockets.delete(s);
          client.destroy();
          upstream.destroy();
        });
      }
      const relay = (from: Socket, to: Socket): void => {
        from.on('data', (chunk: Buffer) => {
          if (!this.holed.has(from)) to.write(chunk);
        });
      };
      relay(client, upstream);
      relay(upstream, client);
    });
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', r));
    const addr = server.address();
    if (addr && typeof addr === 'object') this.port = addr.port;
    this.server = server;
  }

  /**
   * Drop every byte of the connections open now, both ways, without closing them; connections
   * made later pass (the way to the server works again, the old sockets are dead).
   */
  blackhole(): void {
    for (const x of this.sockets) this.holed.add(x);
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const x of this.sockets) x.destroy();
    if (s) await new Promise((r) => s.close(r));
  }
}
