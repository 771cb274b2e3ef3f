import type { GuardContext } from '../request.js';

const EMPTY_CONTEXT: GuardContext = Object.freeze({});

/**
 * The context handlers see after a guard continued: what earlier Portcullis middleware put there,
 * with what this guard added merged over it (a later guard wins per key). Returns an existing
 * object when nothing changes, so the common case allocates nothing.
 */
export function mergeContext(existing: GuardContext | null | undefined, added: GuardContext | undefined): GuardContext {
  if (added === undefined) return existing ?? EMPTY_CONTEXT;
  if (existing === null || existing === undefined || existing === added) return added;
  return { ...existing, ...added };
}
