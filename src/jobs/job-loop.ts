import type { FastifyBaseLogger } from 'fastify';

export interface RunningJob {
  name: string;
  /** Runs one pass now (tests use it instead of waiting for the timer). */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Runs `pass` every `intervalMs`, never two passes of one job at once in this process. A failed
 * pass is logged and the loop goes on: a database hiccup must not stop expiry for good.
 */
export function startJobLoop(name: string, intervalMs: number, pass: () => Promise<number>, log: FastifyBaseLogger): RunningJob {
  let running: Promise<number> | null = null;
  let stopped = false;

  const runOnce = async () => {
    while (running) await running.catch(() => 0);
    running = pass();
    try {
      return await running;
    } finally {
      running = null;
    }
  };

  const timer = setInterval(() => {
    if (stopped || running) return;
    runOnce()
      .then((count) => {
        if (count > 0) log.debug({ job: name, count }, 'job pass done');
      })
      .catch((error) => log.error({ err: error, job: name }, 'job pass failed'));
  }, intervalMs);
  timer.unref();

  return {
    name,
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => 0);
    },
  };
}
