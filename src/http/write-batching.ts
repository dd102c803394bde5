import type { Server } from 'node:http';
import type { Socket } from 'node:net';

type WriteCallback = (error?: Error | null) => void;
/** The methods through which a socket hands its bytes to the kernel and closes (stream implementers' API). */
interface SocketInternals {
  _write(chunk: unknown, encoding: BufferEncoding, callback: WriteCallback): void;
  _writev(chunks: unknown, callback: WriteCallback): void;
  _destroy(error: Error | null, callback: (error?: Error | null) => void): void;
  _final(callback: (error?: Error | null) => void): void;
  /** Bytes libuv holds for the kernel: the send buffer is full (a slow reader). */
  _handle: { writeQueueSize?: number } | null;
}

/** Writes up to this size are reported sent at once and sent at the end of the turn; larger ones wait there with their callback. */
const smallWriteBytes = 16 * 1024;

function byteSize(chunks: readonly { chunk: unknown }[]): number {
  let bytes = 0;
  // A string's UTF-8 is at most 3 bytes per UTF-16 unit: an upper bound without reading it.
  for (const { chunk } of chunks) bytes += typeof chunk === 'string' ? chunk.length * 3 : (chunk as Uint8Array).byteLength;
  return bytes;
}

/**
 * Sends the answers written during one turn of the event loop together, at the end of that turn
 * (the check phase, right after the I/O callbacks that wrote them), instead of one by one as each
 * is written.
 *
 * Why: each send over loopback (a load generator, the reverse proxy on the same host) wakes the
 * reading process if it sleeps, inside our send, and on a virtual machine that wake-up costs more
 * than the rest of the send. One by one, a busy server writes an answer, the client wakes, reads
 * it, sends its next request and sleeps again before the next answer: every answer pays the
 * wake-up. Sent together, the first wakes the client and the others arrive while it runs. Measured
 * on cached reads at 50 connections, one build with and without (README → Benchmark, stop 23).
 *
 * A small write is reported done to its stream at once and handed to the kernel at the end of the
 * turn. Holding the stream's callback instead (the first version) kept every answered request's
 * objects alive until then, and the garbage collector's scavenges, copying them, cost more than the
 * wake-ups saved. Large writes, and writes while the kernel's send buffer is full (a slow reader),
 * keep their callback until really sent, so back-pressure holds. Per socket nothing is reordered:
 * its writes, then its end (FIN), go out in the order made. A socket destroyed with writes held
 * sends them first: code that writes and destroys at once (Node's and our answer to a request the
 * parser refuses, connections closed at shutdown) relies on the write having gone out. TLS sockets
 * are left alone (their writes encrypt first and go through the socket underneath).
 * `NOVA_BATCH_WRITES=0` turns it off.
 */
export function batchWrites(server: Server): void {
  // Per socket, in order: its held writes, then its end (a FIN) if one was asked for meanwhile.
  let held = new Map<Socket, Array<() => void>>();
  const sendHeld = () => {
    const sending = held;
    // Writes made while these are sent go out in the next turn.
    held = new Map();
    for (const sends of sending.values()) for (const send of sends) send();
  };
  const holdUntilEndOfTurn = (socket: Socket, send: () => void) => {
    if (held.size === 0) setImmediate(sendHeld);
    const sends = held.get(socket);
    if (sends) sends.push(send);
    else held.set(socket, [send]);
  };
  server.on('connection', (socket: Socket) => {
    if ('encrypted' in socket) return;
    const internals = socket as unknown as SocketInternals;
    const { _write: write, _writev: writev, _destroy: destroy, _final: final } = internals;
    // A write reported done at once that then fails ends the socket, as the stream would have.
    const failed = (error?: Error | null) => {
      if (error) socket.destroy(error);
    };
    // Small, and the kernel takes what it is given: done for the stream now, sent at the end of
    // the turn. Otherwise (a large write, a slow reader) the stream waits for the real send, so
    // its back-pressure holds.
    const reportedAtOnce = (bytes: number) => bytes <= smallWriteBytes && !internals._handle?.writeQueueSize;
    internals._write = function (chunk, encoding, callback) {
      if (!reportedAtOnce(byteSize([{ chunk }]))) return holdUntilEndOfTurn(socket, () => write.call(this, chunk, encoding, callback));
      holdUntilEndOfTurn(socket, () => write.call(this, chunk, encoding, failed));
      callback();
    };
    internals._writev = function (chunks, callback) {
      if (!reportedAtOnce(byteSize(chunks as { chunk: unknown }[]))) return holdUntilEndOfTurn(socket, () => writev.call(this, chunks, callback));
      holdUntilEndOfTurn(socket, () => writev.call(this, chunks, failed));
      callback();
    };
    // The end of the stream goes out after the writes held before it.
    internals._final = function (callback) {
      if (held.has(socket)) holdUntilEndOfTurn(socket, () => final.call(this, callback));
      else final.call(this, callback);
    };
    // Destroyed with writes held: sent now, while the socket is still open.
    internals._destroy = function (error, callback) {
      const sends = held.get(socket);
      if (sends) {
        held.delete(socket);
        for (const send of sends) send();
      }
      destroy.call(this, error, callback);
    };
  });
}
