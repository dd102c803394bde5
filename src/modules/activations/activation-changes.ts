import { type ChangesById, createChangesById } from '../../events/changes-by-id.ts';
import { activationChannel, type PubSub } from '../../events/pubsub.ts';

/**
 * This instance's one ear on the committed activation changes of every instance
 * (`activationChannel`, published by the activation events' after-commit listener), routed by
 * activation id to the read cache and to waiting long-polls.
 */
export type ActivationChanges = ChangesById;

export function createActivationChanges(pubsub: PubSub): ActivationChanges {
  return createChangesById(pubsub, activationChannel, 'activationId');
}
