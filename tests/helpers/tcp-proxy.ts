import { connect, createServer, type Socket } from 'node:net';
import { LOOPBACK } from '../../local/sqs.ts';

/** A TCP proxy on loopback in front of a local service, which a test can take down and bring back. */
export interface TcpProxy {
  /** http://127.0.0.1:<port>: give it to a client in place of the service's endpoint. */
  endpoint: string;
  /** Down: open connections are reset, and every new one is reset as soon as it is accepted. */
  down(): void;
  up(): void;
  /** Connections accepted so far, refused ones included. */
  readonly connections: number;
  stop(): Promise<void>;
}

/**
 * Starts a proxy to `target` (http://127.0.0.1:<port>). While down it behaves as a service that went away:
 * the client's connections, kept alive ones included, end with a reset (ECONNRESET), as fast as a real outage
 * is detected at best, so a test does not wait for the client's timeouts.
 */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  let isUp = true;
  let connections = 0;
  const track = (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => {});
  };
  const server = createServer((client) => {
    connections += 1;
    track(client);
    if (!isUp) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(Number(port), hostname);
    track(upstream);
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  const address = server.address();
  const proxyPort = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://${LOOPBACK}:${proxyPort}`,
    down() {
      isUp = false;
      for (const socket of open) socket.resetAndDestroy();
    },
    up() {
      isUp = true;
    },
    get connections() {
      return connections;
    },
    async stop() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
