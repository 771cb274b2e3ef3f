import { isCheckName, isGroupName } from '../check.js';
import type { Health } from '../health.js';

/** What a path under the base path asks for. */
export interface Target {
  /** The group; `undefined` for every check (the base path itself). */
  readonly group: string | undefined;
  /** One check of the group, when its path was given. */
  readonly check: string | undefined;
}

/** A path under the base path that names nothing: answered 404. */
export const NOT_FOUND = 'not-found';

/** Short path segments for the standard groups (the full names work too). */
const ALIASES: ReadonlyMap<string, string> = new Map([
  ['live', 'liveness'],
  ['ready', 'readiness'],
]);

/** Longer paths are not looked at (nothing registered can be that long). */
const MAX_PATH_LENGTH = 1_024;

const ALL: Target = Object.freeze({ group: undefined, check: undefined });

/**
 * Maps a request path (as received: not decoded, no query) to a target, `NOT_FOUND`, or
 * `undefined` when it is not under the base path at all.
 *
 * - `base` and `base/` → every check.
 * - `base/<group>` (`live`, `ready` as short forms) → the group; one trailing `/` allowed.
 * - `base/<group>/<check>` → one check; that segment is percent-decoded once (`redis%3Aping` is
 *   `redis:ping`), and must then be a registered check name of the group. The group segment is
 *   matched as it is.
 * - Anything else (deeper paths, undecodable or unknown names, paths over 1,024 characters) →
 *   `NOT_FOUND`. Nothing of the path is ever echoed.
 */
export function matchTarget(path: string, base: string, health: Health): Target | typeof NOT_FOUND | undefined {
  if (!path.startsWith(base)) return undefined;
  if (path.length === base.length) return ALL;
  if (path.charCodeAt(base.length) !== 47 /* / */) return undefined;
  if (path.length === base.length + 1) return ALL;
  if (path.length > MAX_PATH_LENGTH) return NOT_FOUND;
  const segments = path.slice(base.length + 1).split('/');
  if (segments.length > 1 && segments[segments.length - 1] === '') segments.pop();
  if (segments.length > 2) return NOT_FOUND;
  const [groupSegment = '', checkSegment] = segments;
  const group = ALIASES.get(groupSegment) ?? groupSegment;
  if (!isGroupName(group) || !health.hasGroup(group)) return NOT_FOUND;
  if (checkSegment === undefined) return { group, check: undefined };
  const check = decodeSegment(checkSegment);
  if (check === undefined || !isCheckName(check) || !health.hasCheck(check, group)) return NOT_FOUND;
  return { group, check };
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
