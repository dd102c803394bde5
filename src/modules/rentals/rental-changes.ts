import { type ChangesById, createChangesById } from '../../events/changes-by-id.ts';
import type { DomainEvents } from '../../events/domain-events.ts';
import type { PubSub } from '../../events/pubsub.ts';

/** Channel of committed rental changes: each message is a JSON RentalEvent (at least its `rentalId`). */
export const rentalChannel = 'rentals';

/**
 * This instance's one ear on the committed rental changes of every instance, routed by rental id
 * to the requests waiting for that rental (long-poll, the website's live stream), shaped as the
 * activations' changes are, so the same long-poll drives both. It also publishes this instance's
 * committed rental events on the channel.
 */
export type RentalChanges = ChangesById;

export function createRentalChanges(pubsub: PubSub, events: DomainEvents): RentalChanges {
  const changes = createChangesById(pubsub, rentalChannel, 'rentalId');
  // After commit only: a waiter woken by a change that rolls back would read nothing new.
  // Returned, not dropped: the request that made the change answers once other instances have it.
  events.onCommitted((event) => {
    if ('rentalId' in event) return pubsub.publish(rentalChannel, JSON.stringify(event)).catch(() => {});
  });
  return changes;
}
