import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createChangesById } from '../../../src/events/changes-by-id.ts';
import { createLongPoll } from '../../../src/events/long-poll.ts';
import { activationChannel, createInProcessPubSub } from '../../../src/events/pubsub.ts';

/**
 * Found in CI: a change message about a change the wait's first read already showed (the
 * instance hearing its own publish of the activation's creation over Redis, just after a
 * `?wait=` poll opened) woke the wait, which read again and answered at once with nothing
 * changed. A wake that brings no change must let the wait go on; a real change still ends it.
 */
describe('long-poll woken by a change it had already seen', () => {
  function setup() {
    const pubsub = createInProcessPubSub();
    const changes = createChangesById(pubsub, activationChannel, 'activationId');
    const longPoll = createLongPoll(changes);
    let state = { status: 'waiting', code: null as string | null };
    let reads = 0;
    const wait = (seconds: number) =>
      longPoll.wait({
        id: 7,
        seconds,
        signal: new AbortController().signal,
        read: async () => {
          reads++;
          return { ...state };
        },
        settled: (snapshot) => snapshot.code !== null,
      });
    const announce = () => pubsub.publish(activationChannel, JSON.stringify({ activationId: 7 }));
    return { changes, wait, announce, reads: () => reads, set: (next: typeof state) => (state = next) };
  }

  it('keeps waiting after a message that changed nothing, and answers the real change at once', async () => {
    const { changes, wait, announce, reads, set } = setup();
    await changes.ready;
    const started = Date.now();
    let answeredAt = 0;
    const polling = wait(5).then((snapshot) => {
      answeredAt = Date.now();
      return snapshot;
    });
    await sleep(50);
    await announce(); // the echo: nothing changed since the first read
    await sleep(300);
    assert.equal(answeredAt, 0, 'the echo did not end the wait');
    assert.ok(reads() >= 2, 'the wake was read (and found unchanged)');

    set({ status: 'sms_received', code: '12345' });
    await announce();
    const snapshot = await polling;
    assert.deepEqual(snapshot, { status: 'sms_received', code: '12345' });
    assert.ok(answeredAt - started < 1000, `answered ${answeredAt - started} ms after it opened, right after the change`);
  });

  it('answers a change that leaves the wait unsettled (an SMS without a code) at once', async () => {
    const { changes, wait, announce, set } = setup();
    await changes.ready;
    const polling = wait(5);
    await sleep(50);
    set({ status: 'sms_received', code: null });
    await announce();
    const started = Date.now();
    assert.deepEqual(await polling, { status: 'sms_received', code: null });
    assert.ok(Date.now() - started < 1000);
  });

  it('still answers at the end of the wait after an echo, with the state unchanged', async () => {
    const { changes, wait, announce } = setup();
    await changes.ready;
    const started = Date.now();
    const polling = wait(1);
    await sleep(50);
    await announce();
    assert.deepEqual(await polling, { status: 'waiting', code: null });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 990 && elapsed < 2500, `took ${elapsed} ms for wait=1`);
  });
});
