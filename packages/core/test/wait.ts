/** Polls `condition` every few milliseconds until it holds; fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${String(timeoutMs)} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * Gives anything that might still (wrongly) happen a chance to: used before asserting that
 * something did NOT happen again, never to assert timing.
 */
export function quietPeriod(ms = 50): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
