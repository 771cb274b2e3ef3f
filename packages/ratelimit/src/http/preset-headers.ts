/** A header field as `Headers` iterates it: lower-case name, value. */
export type HeaderPair = [name: string, value: string];

type Entries = ReturnType<Headers['entries']>;

/** `Headers` as methods (its type declares them as function-valued properties, which cannot be overridden). */
interface HeadersMethods {
  append(name: string, value: string): void;
  delete(name: string): void;
  get(name: string): string | null;
  getSetCookie(): string[];
  has(name: string): boolean;
  set(name: string, value: string): void;
  forEach(callback: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void;
  entries(): Entries;
  keys(): ReturnType<Headers['keys']>;
  values(): ReturnType<Headers['values']>;
  [Symbol.iterator](): Entries;
}

const HeadersBase = Headers as unknown as new () => HeadersMethods;

/**
 * A `Headers` whose first fields were built by this package: valid lower-case names, each once, in
 * the order `Headers` iterates them (sorted), with values that need no normalising. Iterating it
 * before any other call yields those fields as they are; any other call (`get`, `set`, `append`…)
 * first adds them to the `Headers` it is, then is `Headers`' own. So it reads and behaves as a
 * `Headers` given the same fields, without the per-field validation, lower-casing and sorting that
 * made the rate-limit headers a large share of the guard's CPU per request (the allowed path only
 * iterates them).
 */
class PresetHeaders extends HeadersBase {
  #preset: HeaderPair[] | undefined;

  /** @param sorted - Unique lower-case valid names in ascending order, valid trimmed values. */
  constructor(sorted: HeaderPair[]) {
    super();
    this.#preset = sorted.length === 0 ? undefined : sorted;
  }

  #settle(): void {
    const preset = this.#preset;
    if (preset === undefined) return;
    this.#preset = undefined;
    for (const [name, value] of preset) super.append(name, value);
  }

  override append(name: string, value: string): void {
    this.#settle();
    super.append(name, value);
  }
  override delete(name: string): void {
    this.#settle();
    super.delete(name);
  }
  override get(name: string): string | null {
    this.#settle();
    return super.get(name);
  }
  override getSetCookie(): string[] {
    this.#settle();
    return super.getSetCookie();
  }
  override has(name: string): boolean {
    this.#settle();
    return super.has(name);
  }
  override set(name: string, value: string): void {
    this.#settle();
    super.set(name, value);
  }
  override forEach(callback: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    this.#settle();
    super.forEach(callback, thisArg);
  }
  override entries(): Entries {
    const preset = this.#preset;
    if (preset === undefined) return super.entries();
    return preset.map((pair): HeaderPair => [pair[0], pair[1]])[Symbol.iterator]();
  }
  override keys(): ReturnType<Headers['keys']> {
    this.#settle();
    return super.keys();
  }
  override values(): ReturnType<Headers['values']> {
    this.#settle();
    return super.values();
  }
  override [Symbol.iterator](): Entries {
    return this.entries();
  }
}

/**
 * A {@link PresetHeaders}: a real `Headers` (a subclass; `instanceof Headers` holds) holding `sorted`.
 *
 * @param sorted - Unique valid lower-case names in ascending order, with valid values.
 */
export function presetHeaders(sorted: HeaderPair[]): Headers {
  // It is built by Headers' constructor (a subclass); the rule cannot see it through HeadersBase,
  // which is typed apart only because `Headers`' declared members cannot be overridden.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
  return new PresetHeaders(sorted);
}
