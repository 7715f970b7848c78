import { createServer } from 'node:net';

/**
 * Whether nothing on this host listens on `port` at 127.0.0.1, where workstations publish
 * their VNC and CDP ports: we try to bind it, and let go at once.
 */
export async function isLocalPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}
