import { InvalidOptionError } from '@portcullis/core';

/**
 * How a route's path becomes the upstream's, applied to the canonical path (never the raw one):
 *
 * - `{ stripPrefix: '/api' }`: `/api/users/7` → `/users/7` (`/api` itself → `/`); a path outside
 *   the prefix goes unchanged. With `addPrefix: '/v2'` too: `/api/users/7` → `/v2/users/7`.
 * - `{ template: '/v2/accounts/:id/*' }`: a path built from the route's params, `:name` for a
 *   param (percent-encoded again) and a final `*` for the wildcard rest (each segment encoded).
 *
 * The query string goes along unchanged either way.
 *
 * @example
 * ```ts
 * import type { PathRewrite } from '@portcullis/router';
 *
 * const strip: PathRewrite = { stripPrefix: '/api', addPrefix: '/internal' };
 * const template: PathRewrite = { template: '/users/:id/profile' };
 * ```
 */
export type PathRewrite =
  | { readonly stripPrefix: string; readonly addPrefix?: string | undefined; readonly template?: never }
  | { readonly template: string; readonly stripPrefix?: never; readonly addPrefix?: never };

/** A compiled rewrite: canonical path and params in, upstream path out. */
export interface CompiledRewrite {
  /** The params the rewrite reads (a template's), so a route can be checked against them once. */
  readonly params: readonly string[];
  readonly rewrite: (canonicalPath: string, params: Readonly<Record<string, string>>) => string;
}

/** Validates a {@link PathRewrite} once (throws `InvalidOptionError` naming `option`). */
export function compileRewrite(value: PathRewrite, option: string): CompiledRewrite {
  if (typeof value !== 'object' || (value as unknown) === null) {
    throw new InvalidOptionError(option, value, '{ stripPrefix, addPrefix? } or { template }');
  }
  if (value.template !== undefined) {
    const loose = value as { stripPrefix?: unknown; addPrefix?: unknown };
    if (loose.stripPrefix !== undefined || loose.addPrefix !== undefined) {
      throw new InvalidOptionError(option, value, 'either a template or stripPrefix/addPrefix, not both');
    }
    return compileTemplate(value.template, `${option}.template`);
  }
  const strip = prefixOption(value.stripPrefix, `${option}.stripPrefix`);
  const add = value.addPrefix === undefined ? '' : prefixOption(value.addPrefix, `${option}.addPrefix`);
  return {
    params: [],
    rewrite: function stripAndAddPrefix(path: string): string {
      let rest = path;
      if (strip !== '' && path.startsWith(strip)) {
        if (path.length === strip.length) rest = '';
        else if (path.charCodeAt(strip.length) === SLASH) rest = path.slice(strip.length);
      }
      const out = add + rest;
      return out === '' ? '/' : out;
    },
  };
}

const SLASH = 47;

/** `/a/b` or `/`; kept without a trailing slash (`/` becomes the empty prefix). */
function prefixOption(value: unknown, option: string): string {
  if (typeof value !== 'string' || !value.startsWith('/') || /[?#\s]/.test(value) || value.length > 1024) {
    throw new InvalidOptionError(option, value, "a path starting with '/', without query or spaces");
  }
  return value.endsWith('/') ? value.slice(0, -1) : value;
}

const PARAM_NAME = /^[A-Za-z_$][\w$]*$/;

function compileTemplate(template: unknown, option: string): CompiledRewrite {
  if (typeof template !== 'string' || !template.startsWith('/') || /[?#\s]/.test(template)) {
    throw new InvalidOptionError(option, template, "a path starting with '/' (':name' params, a final '*')");
  }
  const parts = template.split('/');
  // Static text stays as written; each param slot is an index into `parts`, filled per request.
  const slots: { readonly at: number; readonly name: string }[] = [];
  parts.forEach((part, i) => {
    if (part === '*') {
      if (i !== parts.length - 1) throw new InvalidOptionError(option, template, "'*' only as the last segment");
      slots.push({ at: i, name: '*' });
    } else if (part.startsWith(':')) {
      const name = part.slice(1);
      if (!PARAM_NAME.test(name)) throw new InvalidOptionError(option, template, `a valid param name, not '${part}'`);
      slots.push({ at: i, name });
    }
  });
  const params = slots.map((slot) => slot.name);
  return {
    params,
    rewrite: function fillTemplate(_path: string, values: Readonly<Record<string, string>>): string {
      if (slots.length === 0) return template;
      const out = parts.slice();
      for (const { at, name } of slots) {
        const value = Object.hasOwn(values, name) ? (values[name] as string) : '';
        out[at] = name === '*' ? value.split('/').map(encodeURIComponent).join('/') : encodeURIComponent(value);
      }
      return out.join('/');
    },
  };
}
