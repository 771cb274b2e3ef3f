/**
 * Runs `create` with V8's stack capture switched off, so an error built inside costs an object
 * allocation rather than a walk of the stack. Used for the errors a policy throws in bulk when it
 * sheds load (an open breaker, a full bulkhead): their stack would only show the policy's own
 * frames, and capturing it is what makes rejection expensive under a storm.
 */
export function withoutStack<T>(create: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return create();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
