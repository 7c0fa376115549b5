/**
 * Endpoints that fail slowly, the failures only a client's timeouts end: a server that accepts connections and never
 * answers, and a port whose connections never complete (as a blackholed address: SYNs dropped, the client retrying).
 */
import { spawn } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';

export interface HangingEndpoint {
  endpoint: string;
  /** TCP connections the server accepted (the silent server only). */
  readonly connections: number;
  stop(): Promise<void>;
}

/** A TCP server on loopback that accepts every connection and never writes a byte. */
export async function startSilentServer(): Promise<HangingEndpoint> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get connections() { return connections; },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * A loopback port where a TCP connect never completes: a listener in a stopped process (it never accepts) whose
 * accept queue is filled first, so the kernel drops every further SYN and the client waits, as for an address
 * nothing answers. Stopping it kills the process: connects still pending then fail at once.
 */
export async function startBlackhole(): Promise<HangingEndpoint> {
  const child = spawn(process.execPath, ['-e', `
    const server = require('node:net').createServer();
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => process.stdout.write(server.address().port + '\\n'));
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (data: Buffer) => resolve(Number(data.toString().trim())));
    child.once('error', reject);
  });
  child.kill('SIGSTOP');
  // Fill the accept queue: connects complete until it is full, then hang.
  const fillers: Socket[] = [];
  for (let i = 0; i < 16; i++) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    fillers.push(socket);
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 200);
      socket.once('connect', () => { clearTimeout(timer); resolve(true); });
    });
    if (!connected) break;
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    connections: 0,
    async stop() {
      child.kill('SIGKILL');
      for (const socket of fillers) socket.destroy();
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}
