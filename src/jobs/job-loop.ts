import type { FastifyBaseLogger } from 'fastify';

export interface RunningJob {
  name: string;
  /** Runs one pass now (tests use it instead of waiting for the timer). */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
  /**
   * Calls `observer` after every pass from now on, timer-driven or runOnce (metrics: job lag,
   * pass duration). Absent on a stand-in that runs no passes (the email sender without SMTP).
   */
  observe?(observer: JobPassObserver): void;
}

/** How one pass of a job went. */
export interface JobPass {
  job: string;
  succeeded: boolean;
  durationSeconds: number;
  /** When it ended, in wall-clock milliseconds (Date.now()): lag is about real time, not the injected clock. */
  endedAt: number;
}

export type JobPassObserver = (pass: JobPass) => void;

/**
 * Runs `pass` every `intervalMs`, never two passes of one job at once in this process. A failed
 * pass is logged and the loop goes on: a database hiccup must not stop expiry for good.
 */
export function startJobLoop(name: string, intervalMs: number, pass: () => Promise<number>, log: FastifyBaseLogger): RunningJob {
  let running: Promise<number> | null = null;
  let stopped = false;
  const observers: JobPassObserver[] = [];

  const report = (succeeded: boolean, startedAt: number) => {
    const endedAt = Date.now();
    const durationSeconds = (performance.now() - startedAt) / 1000;
    for (const observer of observers) {
      try {
        observer({ job: name, succeeded, durationSeconds, endedAt });
      } catch {
        // Watching a job must never break it.
      }
    }
  };

  const runOnce = async () => {
    while (running) await running.catch(() => 0);
    const startedAt = performance.now();
    running = pass();
    try {
      const count = await running;
      report(true, startedAt);
      return count;
    } catch (error) {
      report(false, startedAt);
      throw error;
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
    observe(observer) {
      observers.push(observer);
    },
  };
}
