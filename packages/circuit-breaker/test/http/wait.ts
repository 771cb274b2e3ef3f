/**
 * Polls `condition` every few milliseconds until it holds; fails after `timeoutMs`. For effects
 * that follow a response (refunds run when the server has finished it), never to assert timing.
 */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${String(timeoutMs)} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
