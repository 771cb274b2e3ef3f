import type { Guard } from '../src/guard.js';
import type { GatewayRequest } from '../src/request.js';
import type { Outcome, Verdict } from '../src/verdict.js';

/** An `onComplete` that records every outcome it is given. */
export function recordOutcomes(): { outcomes: Outcome[]; onComplete: (outcome: Outcome) => void } {
  const outcomes: Outcome[] = [];
  return { outcomes, onComplete: (outcome) => void outcomes.push(outcome) };
}

/** How a guard answers: at once, or through a promise that settles on a later tick. */
export interface Mode {
  readonly name: 'sync' | 'async';
  wrap(guard: Guard): Guard;
}

export const MODES: readonly Mode[] = [
  { name: 'sync', wrap: (guard) => guard },
  {
    name: 'async',
    wrap: (guard) =>
      async function asyncGuard(req: GatewayRequest): Promise<Verdict> {
        await new Promise((resolve) => setImmediate(resolve));
        return guard(req);
      },
  },
];

/** A guard that lets everything through and remembers the requests it saw. */
export function spyGuard(verdict: (req: GatewayRequest) => Verdict = () => ({ action: 'continue' })): {
  guard: Guard;
  seen: GatewayRequest[];
} {
  const seen: GatewayRequest[] = [];
  return {
    seen,
    guard: (req) => {
      seen.push(req);
      return verdict(req);
    },
  };
}
