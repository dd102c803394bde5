import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface OpenConnections {
  /**
   * Ends every connection that has no request in flight: keep-alive connections idle after their
   * last answer, and connections that have not sent a whole request head (or nothing at all).
   */
  closeWithoutRequest(): void;
}

/**
 * Node's own `closeIdleConnections()` counts a connection that has sent nothing yet as active, so
 * a client's spare connection (opened, never used) held shutdown until Node's header timeout
 * (60 s, checked every 30 s). This tracks, per connection, the last response it carries: one
 * WeakMap write per request, nothing more on the hot path.
 */
export function trackOpenConnections(server: Server): OpenConnections {
  const open = new Set<Socket>();
  const lastResponse = new WeakMap<Socket, ServerResponse>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  server.on('request', (request, response: ServerResponse) => lastResponse.set(request.socket, response));
  return {
    closeWithoutRequest() {
      for (const socket of open) {
        const response = lastResponse.get(socket);
        if (response === undefined || response.writableFinished) socket.destroy();
      }
    },
  };
}
