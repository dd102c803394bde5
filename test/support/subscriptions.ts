/**
 * Counts the long-polls waiting right now on one server instance: they share the instance's one
 * subscription (src/modules/activations/activation-changes.ts), each a watch of its activation.
 */
export function watchLongPolls(server: { services: { activationChanges: { watching(): number } } }): () => number {
  return () => server.services.activationChanges.watching();
}

/** Polls `condition` every few ms until it holds; fails naming `what` after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
