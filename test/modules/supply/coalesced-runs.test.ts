import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coalescedRuns } from '../../../src/modules/supply/coalesced-runs.ts';

/**
 * The provider check after finishes without SMS runs through coalescedRuns: under load, every
 * finish must still be covered by a check that started after it committed (else a provider that
 * just crossed its limit could stay on sale), while N finishes of one provider cost two checks.
 */
describe('coalesced runs', () => {
  /** A task whose runs end when the test says so; it records when each run started. */
  function controlledTask() {
    const runs: { key: string; startedAt: number; finish: (error?: Error) => void }[] = [];
    let clock = 0;
    const task = (key: string) =>
      new Promise<void>((resolve, reject) => {
        runs.push({ key, startedAt: ++clock, finish: (error) => (error ? reject(error) : resolve()) });
      });
    return { runs, task, tick: () => ++clock };
  }
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  it('gives every caller a run that starts after it asked, shared by all who came during one run', async () => {
    const { runs, task, tick } = controlledTask();
    const check = coalescedRuns(task);

    const first = check('provider-1');
    assert.equal(runs.length, 1);
    // Five callers while the first run is on: none of them may count on it (it may have read too early).
    const askedAt = tick();
    const during = Array.from({ length: 5 }, () => check('provider-1'));
    assert.equal(runs.length, 1, 'one run per key at a time');
    let duringDone = 0;
    for (const promise of during) void promise.then(() => duringDone++);

    runs[0]!.finish();
    await first;
    await settle();
    assert.equal(runs.length, 2, 'the callers who came during the first run share one second run');
    assert.ok(runs[1]!.startedAt > askedAt, 'and it started after they asked');
    assert.equal(duringDone, 0, 'they are answered only when that run is over');

    runs[1]!.finish();
    await Promise.all(during);
    await settle();
    assert.equal(runs.length, 2, 'nobody asked since: no third run');

    // Idle again: the next caller starts a run at once.
    const later = check('provider-1');
    assert.equal(runs.length, 3);
    runs[2]!.finish();
    await later;
  });

  it('runs different keys side by side, and a failed run neither fails its callers nor blocks the next', async () => {
    const { runs, task } = controlledTask();
    const check = coalescedRuns(task);

    const one = check('provider-1');
    const two = check('provider-2');
    assert.deepEqual(
      runs.map((run) => run.key),
      ['provider-1', 'provider-2'],
    );
    const queued = check('provider-1');
    runs[0]!.finish(new Error('database went away'));
    await one;
    await settle();
    assert.deepEqual(
      runs.map((run) => run.key),
      ['provider-1', 'provider-2', 'provider-1'],
      'the queued run still starts after a failed one',
    );
    runs[2]!.finish();
    runs[1]!.finish();
    await Promise.all([queued, two]);
  });
});
