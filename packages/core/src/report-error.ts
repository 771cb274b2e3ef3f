/**
 * Reports an error that has nowhere else to go (a throwing event listener, an `onComplete` callback
 * that threw after the response was sent) without crashing the process: `reportError` where the
 * runtime has it, otherwise a Node process warning, otherwise `console.error`.
 *
 * @example
 * ```ts
 * import { reportUnhandled } from '@portcullis/core';
 *
 * try {
 *   listener(event);
 * } catch (error) {
 *   reportUnhandled(error, 'event listener');
 * }
 * ```
 */
export function reportUnhandled(error: unknown, where: string): void {
  const g = globalThis as {
    process?: { emitWarning?: (warning: Error | string, options?: { type?: string; code?: string }) => void };
  };
  const emitWarning = g.process?.emitWarning;
  if (typeof emitWarning === 'function') {
    const warning = isError(error) ? error : new Error(printable(error));
    emitWarning.call(g.process, warning, {
      type: 'PortcullisWarning',
      code: `PORTCULLIS_UNHANDLED_${where.toUpperCase().replace(/\W+/g, '_')}`,
    });
    return;
  }
  const reporter = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (typeof reporter === 'function') reporter(error);
  else console.error(`[portcullis] error in ${where}:`, error);
}

/** `instanceof Error`, false when asking throws (a Proxy whose prototype trap throws). */
function isError(value: unknown): value is Error {
  try {
    return value instanceof Error;
  } catch {
    return false;
  }
}

/**
 * `String(value)`, or a stand-in when that throws (`Object.create(null)` has no `toString`; a
 * hostile value's may throw): reporting an error must never throw one of its own.
 */
function printable(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '[a thrown value that cannot be shown as text]';
  }
}
