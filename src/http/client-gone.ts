import type { FastifyReply } from 'fastify';

/**
 * Runs a long-poll's `wait` with a signal that aborts when the client closes the connection first
 * (nobody is left to answer). The close listener goes once `wait` settles: every answer ends in a
 * 'close', and aborting then would build an AbortError (a stack trace) for nobody.
 */
export async function whileClientWaits<T>(reply: FastifyReply, wait: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const gone = new AbortController();
  const onClose = () => gone.abort();
  reply.raw.once('close', onClose);
  try {
    return await wait(gone.signal);
  } finally {
    reply.raw.off('close', onClose);
  }
}
