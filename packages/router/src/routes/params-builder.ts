/** Builds a match's params object from its values, in the order of the route's param names. */
export type ParamsBuilder = (values: readonly string[]) => Record<string, string>;

/**
 * A {@link ParamsBuilder} for one route pattern. Filling `{}` with `params[name] = value` for names
 * that differ from route to route makes every such store megamorphic: about 400 instructions per
 * matched request with params (callgrind, the router's benchmark). An object literal with the
 * names written in it is built from one shape per route instead, so the builder is generated
 * from the names when the table is built. The names are route-definition input, not request
 * input, checked as identifiers (or `*`) before they get here, and quoted with `JSON.stringify`;
 * keys are computed (`["name"]`) so that no name can mean the literal's `__proto__` setter.
 * Where code generation from strings is disallowed (`--disallow-code-generation-from-strings`),
 * the store loop is used.
 *
 * @example
 * ```ts
 * paramsBuilder(['id', 'cid'])(['7', '9']); // { id: '7', cid: '9' }
 * ```
 */
export function paramsBuilder(names: readonly string[], generate = true): ParamsBuilder {
  const fields = names.map((name, i) => `[${JSON.stringify(name)}]: v[${String(i)}]`).join(', ');
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- see above: names are checked identifiers, quoted.
    if (generate) return new Function('v', `'use strict'; return { ${fields} };`) as ParamsBuilder;
  } catch {
    // Code generation is disallowed: the store loop below.
  }
  return function storeParams(values: readonly string[]): Record<string, string> {
    const params: Record<string, string> = {};
    for (let i = 0; i < names.length; i++) params[names[i] as string] = values[i] as string;
    return params;
  };
}
