import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface EventStream {
  send(event: string, data: unknown, id?: number): void;
  /** Runs once when the client goes away or the stream is ended. */
  onClose(callback: () => void): void;
  end(): void;
}

const heartbeatMs = 20_000;

/**
 * Turns the response into a server-sent event stream. The request then holds no database
 * connection: it waits on pub/sub and answers from there.
 */
export function openEventStream(request: FastifyRequest, reply: FastifyReply, open: Set<EventStream>): EventStream {
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    // What hooks set on the reply (X-Request-Id, security headers): hijack() would drop them.
    ...(reply.getHeaders() as OutgoingHttpHeaders),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  // HEAD has no body: Node would keep the headers back until the end, so the client would wait
  // forever on a stream that never starts. Answer the headers and end.
  // (Already closed: what the caller registers to clean up runs at once.)
  if (request.method === 'HEAD') {
    raw.end();
    return { send() {}, onClose: (callback) => callback(), end() {} };
  }
  // Tells the browser how long to wait before reconnecting, and flushes the headers.
  raw.write('retry: 3000\n\n');
  const callbacks: (() => void)[] = [];
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    open.delete(stream);
    for (const callback of callbacks) callback();
  };
  const heartbeat = setInterval(() => raw.write(': ping\n\n'), heartbeatMs);
  heartbeat.unref();
  request.raw.on('close', close);
  const stream: EventStream = {
    send(event, data, id) {
      if (closed) return;
      raw.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    onClose(callback) {
      callbacks.push(callback);
    },
    end() {
      close();
      raw.end();
    },
  };
  open.add(stream);
  return stream;
}
