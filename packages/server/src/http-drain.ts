// Closing the server: requests in flight are answered in full, and then no connection is held open for a next one.
import type { Socket } from 'node:net';
import { Server as TlsServer } from 'node:tls';
import type { FastifyInstance } from 'fastify';

/**
 * Once `close()` has begun, lets go of every connection that no longer carries a request, so that `close()` (which
 * waits for all of them) ends with the last response rather than the keep-alive timeout (72 s). Node 20's
 * `server.close()` closes only the connections idle between requests at that instant, and Fastify answers requests
 * that arrive afterwards with 503 and `Connection: close`. That leaves two kinds open:
 * - a keep-alive connection whose request was in flight: it is answered normally and then idles;
 * - a connection that has not sent a byte yet (HTTP clients and browsers open them ahead of need): Node 20 counts it
 *   as busy, not idle (nodejs/node#63452, fixed upstream later).
 */
export function drainConnectionsOnClose(app: FastifyInstance): void {
  let closing = false;
  const open = openConnections(app);
  endConnectionsWhenAnswered(app, () => closing);
  app.addHook('preClose', (done) => {
    closing = true;
    for (const socket of open) if (socket.bytesRead === 0) socket.destroy(); // nothing received, nothing to answer
    done();
  });
}

/**
 * While `closing()`, ends a connection as soon as every request on it has been answered: a request pipelined behind
 * the one in flight is answered too. Not `server.closeIdleConnections()` after each response: it also destroys a
 * connection whose response is ended but still being written out (a large response to a slow reader), cutting it short.
 */
function endConnectionsWhenAnswered(app: FastifyInstance, closing: () => boolean): void {
  const unanswered = new WeakMap<Socket, number>();
  app.server.on('request', (request, response) => {
    const socket = request.socket;
    unanswered.set(socket, (unanswered.get(socket) ?? 0) + 1);
    // 'close' comes once the response's last byte has been handed to the OS, or once the connection is gone.
    response.once('close', () => {
      const left = unanswered.get(socket)! - 1;
      unanswered.set(socket, left);
      // As Node does after a `Connection: close` response: FIN once the bytes written are out, then let go.
      if (closing() && left === 0 && socket.writable) socket.end(() => socket.destroy());
    });
  });
}

/** The server's open connections; with TLS, from the completed handshake on, so that `bytesRead` counts HTTP bytes. */
function openConnections(app: FastifyInstance): Set<Socket> {
  const open = new Set<Socket>();
  app.server.on(app.server instanceof TlsServer ? 'secureConnection' : 'connection', (socket: Socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  return open;
}
