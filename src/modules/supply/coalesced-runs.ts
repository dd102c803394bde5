/**
 * Runs `task(key)` for callers that each need a run that starts after they ask, one run per key at
 * a time: a caller that comes while a run is on waits for the next one, and every caller that comes
 * meanwhile shares that same next run. Under load, N callers of one key cost two runs, not N.
 */
export function coalescedRuns<K>(task: (key: K) => Promise<void>): (key: K) => Promise<void> {
  const byKey = new Map<K, { running: Promise<void>; next: Promise<void> | null }>();

  function start(key: K): Promise<void> {
    const running = task(key).catch(() => {});
    const entry = { running, next: null as Promise<void> | null };
    byKey.set(key, entry);
    void running.then(() => {
      // The queued run (if any) takes the key over; otherwise nothing is left to run.
      if (entry.next === null && byKey.get(key) === entry) byKey.delete(key);
    });
    return running;
  }

  return (key) => {
    const entry = byKey.get(key);
    if (!entry) return start(key);
    // A run that started before this caller may have read too early: queue one more, shared.
    entry.next ??= entry.running.then(() => start(key));
    return entry.next;
  };
}
