const UNPRINTABLE = '[a thrown value that cannot be shown as text]';

/**
 * Reports an error that has nowhere else to go (a throwing event listener, an `onComplete` callback
 * that threw after the response was sent) without crashing the process: a Node process warning
 * named `PortcullisWarning`, whose `code` names the place (`PORTCULLIS_EVENT_LISTENER`),
 * whose message is the error's and whose `cause` is the value thrown; where there is no
 * `process.emitWarning`, `reportError`, otherwise `console.error`.
 *
 * @example
 * ```ts
 * import { reportUnhandled } from '@portcullis/core';
 *
 * process.on('warning', (w) => {
 *   if (w.name === 'PortcullisWarning') console.log((w as { code?: string }).code, w.cause);
 * });
 * try {
 *   listener(event);
 * } catch (error) {
 *   reportUnhandled(error, 'event listener');
 * }
 * ```
 */
export function reportUnhandled(error: unknown, where: string): void {
  const g = globalThis as {
    process?: { emitWarning?: (warning: Error | string) => void };
  };
  const emitWarning = g.process?.emitWarning;
  if (typeof emitWarning === 'function') {
    // Node takes `type` and `code` from its options only for a string warning; an Error is emitted
    // as it is. So the warning is an Error of its own, named and coded, holding the value thrown.
    const warning = new Error(isError(error) ? messageOf(error) : printable(error), { cause: error });
    warning.name = 'PortcullisWarning';
    (warning as Error & { code: string }).code = `PORTCULLIS_${where.toUpperCase().replace(/\W+/g, '_')}`;
    emitWarning.call(g.process, warning);
    return;
  }
  const reporter = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (typeof reporter === 'function') reporter(error);
  else console.error(`[portcullis] error in ${where}:`, error);
}

/** An Error's message, or a stand-in when reading it throws (a hostile getter). */
function messageOf(error: Error): string {
  try {
    return printable(error.message);
  } catch {
    return UNPRINTABLE;
  }
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
    return UNPRINTABLE;
  }
}
