import type { Server } from 'node:http';

/** Starts `server` listening; rejects with the listen error (a port in use, an address not here). */
export function listenOn(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Stops `server`: no new connections, idle ones closed now, and what is still open after
 * `graceMs` cut, so a slow client cannot hold the shutdown. `afterClose` runs once close() has
 * begun, for connections close() would otherwise wait on (upgraded sockets).
 */
export function closeServer(server: Server, graceMs: number, afterClose?: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    afterClose?.();
    setTimeout(() => server.closeAllConnections(), graceMs).unref();
  });
}
