/**
 * The route table's matching engine: a tree with one level per path segment. A node has static
 * children by exact segment, at most one `:param` child and at most one `*` (the rest of the path);
 * routes end at a node (or at its `*`) in a leaf that holds them per method, best first.
 *
 * Written here rather than on find-my-way (which the table used first): a segment-level tree lets
 * the canonical path be matched as it is split, a whole static path be found with one hash lookup,
 * conditions be tested only at the leaves they guard, and a miss know every allowed method from the
 * leaves its walk reached (the chooser is told each leaf). Measured in the guide ("Benchmarks").
 *
 * Matching is a depth-first walk, static before param before wildcard at each segment (the
 * documented precedence). A node sits at one depth, so the walk enters it at most once: the work
 * is bounded by the tree's size whatever the path, and by the path's segment count.
 */

/** One route as the tree holds it. `C` is the table's own candidate type. */
export interface TreeCandidate {
  /** The methods it answers; `undefined` for every method. */
  readonly methods: readonly string[] | undefined;
  /** Whether it has conditions (host, headers...): whether it answers depends on more than the method. */
  readonly conditional: boolean;
}

/**
 * What a walk asks of each leaf it reaches: the first of `leaf.forMethod(method)` whose conditions
 * hold, or `undefined`. A walk that ends without a candidate has asked every leaf the path reaches.
 */
export type Chooser<C extends TreeCandidate> = (leaf: Leaf<C>, method: number) => C | undefined;

/** The candidates of one path shape, per method, in precedence order (the table sorts them). */
export class Leaf<C extends TreeCandidate> {
  readonly candidates: C[] = [];
  /** `byMethod[id]`: the candidates for the method with that id (see {@link SegmentTree.methodId}). */
  #byMethod: (readonly C[])[] = [];
  #anyMethod: readonly C[] = [];
  /**
   * Every method the leaf's candidates name, `HEAD` added with `GET`, sorted: the leaf's part of
   * `Allow`. Shared between requests, so frozen.
   */
  allow: readonly string[] = [];
  /** Whether some candidate has conditions: then `allow` holds only for requests that meet them all. */
  conditional = false;
  /**
   * For the leaf of a static pattern: whether the walk for its path reaches no other leaf (no
   * param or wildcard pattern matches it too). A request for that path the leaf does not answer
   * then needs no walk: its 404 or 405 is the leaf's alone.
   */
  alone = false;

  /** Builds the per-method lists; `order` sorts a list best first, `methods[id]` names each id. */
  seal(order: (a: C, b: C) => number, methods: readonly string[]): void {
    const sorted = [...this.candidates].sort(order);
    this.#anyMethod = sorted.filter((c) => c.methods === undefined);
    // One list per method id, for every id (not only this leaf's): a read is an index, never a miss.
    this.#byMethod = methods.map((method) =>
      sorted.filter((c) => c.methods === undefined || c.methods.includes(method)),
    );
    this.allow = Object.freeze(allowList(sorted.flatMap((c) => c.methods ?? [])));
    this.conditional = sorted.some((c) => c.conditional);
  }

  /** The candidates for the method `id` (-1: a method no route names), best first. */
  forMethod(id: number): readonly C[] {
    return id < 0 ? this.#anyMethod : (this.#byMethod[id] as readonly C[]);
  }
}

/** `Allow` for these methods: each once, `HEAD` wherever `GET` is (GET routes answer HEAD), sorted. */
export function allowList(methods: Iterable<string>): string[] {
  const allow = new Set(methods);
  if (allow.has('GET')) allow.add('HEAD');
  return [...allow].sort();
}

/** Ids of the methods most requests carry, fixed so that most lookups are a few comparisons. */
const COMMON_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/** The id of a common method, or -1. Interned method strings compare by pointer. */
function commonMethodId(method: string): number {
  switch (method) {
    case 'GET':
      return 0;
    case 'HEAD':
      return 1;
    case 'POST':
      return 2;
    case 'PUT':
      return 3;
    case 'DELETE':
      return 4;
    case 'PATCH':
      return 5;
    case 'OPTIONS':
      return 6;
    default:
      return -1;
  }
}

/** A node's static children, found by segment without slicing the path (no allocation, no hashing). */
class StaticChildren<C extends TreeCandidate> {
  readonly #keys: string[] = [];
  readonly #nodes: TreeNode<C>[] = [];
  /**
   * With many children: `byFirst[code]` lists the indexes of those whose segment starts with the
   * character `code` (ASCII: a canonical segment has no other), `byFirst[128]` the empty segment.
   */
  #byFirst: (number[] | undefined)[] | undefined;

  get(segment: string): TreeNode<C> | undefined {
    const i = this.#keys.indexOf(segment);
    return i === -1 ? undefined : this.#nodes[i];
  }

  add(segment: string, node: TreeNode<C>): void {
    this.#keys.push(segment);
    this.#nodes.push(node);
    if (this.#keys.length > LINEAR_CHILDREN) {
      const byFirst: (number[] | undefined)[] = new Array<number[] | undefined>(EMPTY_SEGMENT + 1).fill(undefined);
      this.#keys.forEach((key, i) => {
        const first = key.length === 0 ? EMPTY_SEGMENT : key.charCodeAt(0);
        (byFirst[first] ??= []).push(i);
      });
      this.#byFirst = byFirst;
    }
  }

  /**
   * The child whose segment is the one starting at `start`: its key is at `start` and followed by
   * a `/` or the path's end. The path is never scanned for the segment's end: a key either matches
   * there or fails on its first differing character. Keys are distinct and none holds a `/`, so
   * at most one matches.
   */
  find(path: string, start: number): TreeNode<C> | undefined {
    const keys = this.#keys;
    if (this.#byFirst === undefined) {
      for (let i = 0; i < keys.length; i++) if (endsSegment(path, start, keys[i] as string)) return this.#nodes[i];
      return undefined;
    }
    const first = start === path.length ? EMPTY_SEGMENT : path.charCodeAt(start);
    const bucket =
      first === 47 ? this.#byFirst[EMPTY_SEGMENT] : first < EMPTY_SEGMENT ? this.#byFirst[first] : undefined;
    if (bucket === undefined) return undefined;
    for (let j = 0; j < bucket.length; j++) {
      const i = bucket[j] as number;
      if (endsSegment(path, start, keys[i] as string)) return this.#nodes[i];
    }
    return undefined;
  }
}

/** Whether `key` is the whole segment of `path` that starts at `start`. */
function endsSegment(path: string, start: number, key: string): boolean {
  const end = start + key.length;
  return (end === path.length || (end < path.length && path.charCodeAt(end) === 47)) && path.startsWith(key, start);
}

/** The `byFirst` slot of the empty segment (after the 128 ASCII codes). */
const EMPTY_SEGMENT = 128;

/** Up to this many static children are compared one by one; more are bucketed by first character. */
const LINEAR_CHILDREN = 6;

class TreeNode<C extends TreeCandidate> {
  /** The length of the static segment that leads here (0 for the root and param nodes). */
  readonly segmentLength: number;
  statics: StaticChildren<C> | undefined;
  param: TreeNode<C> | undefined;
  /** Routes ending at this node: the path has exactly this node's depth in segments. */
  leaf: Leaf<C> | undefined;
  /** Routes with a `*` at this depth: the path has more segments than this node's depth. */
  wildcard: Leaf<C> | undefined;

  constructor(segmentLength = 0) {
    this.segmentLength = segmentLength;
  }
}

/** How many nodes walks entered (for the linear-work test; a plain counter costs nothing). */
let steps = 0;

/**
 * The number of tree nodes walks have entered since the last call, for tests of the work bound.
 *
 * @internal
 */
export function takeSteps(): number {
  const taken = steps;
  steps = 0;
  return taken;
}

/**
 * A route table's tree. Patterns are given as their segments (`/users/:id` → `['users', ':id']`;
 * a param's name is not the tree's business, any `:` segment is the one param child).
 */
export class SegmentTree<C extends TreeCandidate> {
  readonly #root = new TreeNode<C>();
  /** Leaves of patterns without params or wildcard, by the path they match exactly. */
  readonly #statics = new Map<string, Leaf<C>>();
  /**
   * Which (length, last character) pairs static paths have, one bit each: most paths with params
   * have none in common with a static path, and this read answers them before the map has to hash
   * the whole path (a new string on every request) only to miss.
   */
  readonly #staticShapes = new Uint32Array(SHAPE_LENGTHS * 4);
  readonly #leaves: Leaf<C>[] = [];
  /** Ids of the methods routes name beyond the common ones (7, 8...). */
  readonly #otherMethodIds = new Map<string, number>();

  /**
   * The id the leaves know `method` by, or -1 when no route names it: asked once per request, so
   * that each leaf on the walk reads its list by index instead of hashing the method again.
   */
  methodId(method: string): number {
    const id = commonMethodId(method);
    return id !== -1 ? id : (this.#otherMethodIds.get(method) ?? -1);
  }

  /** Adds `candidate` at the pattern `path` (canonical, validated by the table). */
  add(path: string, candidate: C): void {
    const segments = path.split('/');
    let node = this.#root;
    let leaf: Leaf<C> | undefined;
    for (let i = 1; i < segments.length; i++) {
      const segment = segments[i] as string;
      if (segment === '*') {
        leaf = node.wildcard ??= this.#newLeaf();
        break;
      }
      if (segment.startsWith(':')) {
        node = node.param ??= new TreeNode<C>();
      } else {
        node.statics ??= new StaticChildren<C>();
        let child = node.statics.get(segment);
        if (child === undefined) node.statics.add(segment, (child = new TreeNode<C>(segment.length)));
        node = child;
      }
    }
    if (leaf === undefined) {
      leaf = node.leaf ??= this.#newLeaf();
      if (!path.includes('/:')) {
        this.#statics.set(path, leaf);
        const bit = shapeBit(path);
        if (bit !== -1) this.#staticShapes[bit >>> 5] = (this.#staticShapes[bit >>> 5] as number) | (1 << (bit & 31));
      }
    }
    leaf.candidates.push(candidate);
    for (const method of candidate.methods ?? [])
      if (commonMethodId(method) === -1 && !this.#otherMethodIds.has(method))
        this.#otherMethodIds.set(method, COMMON_METHODS.length + this.#otherMethodIds.size);
  }

  /** Orders every leaf's candidates; call once, after the last `add`. */
  seal(order: (a: C, b: C) => number): void {
    const methods: string[] = [...COMMON_METHODS, ...this.#otherMethodIds.keys()];
    for (const leaf of this.#leaves) leaf.seal(order, methods);
    for (const [path, leaf] of this.#statics) {
      // A chooser that never chooses makes the walk reach every leaf the path can reach.
      const reached = new Set<Leaf<C>>();
      walk(this.#root, path, 1, 1, [], -1, (other: Leaf<C>) => {
        reached.add(other);
        return undefined;
      });
      leaf.alone = reached.size === 1 && reached.has(leaf);
    }
  }

  /**
   * The best candidate for `method` among the routes whose pattern is exactly `path` (canonical,
   * static: no param, no wildcard), or `undefined`. When there is one, it is also what {@link find}
   * answers: a static pattern wins at every segment. One hash lookup, no split of the path.
   */
  findStatic(method: number, path: string, choose: Chooser<C>): C | undefined {
    const bit = shapeBit(path);
    if (bit !== -1 && ((this.#staticShapes[bit >>> 5] as number) & (1 << (bit & 31))) === 0) return undefined;
    const leaf = this.#statics.get(path);
    return leaf === undefined ? undefined : choose(leaf, method);
  }

  /**
   * The best candidate for `method` on a canonical `path`: the walk, static before param before
   * wildcard at each segment; `choose` picks among a leaf's candidates. `starts[d]` is set to the
   * offset of segment `d` (1 for the first) for every segment the walk reached: a match's params
   * and wildcard rest are read from there, without the path ever being split.
   */
  find(method: number, path: string, starts: number[], choose: Chooser<C>): C | undefined {
    return walk(this.#root, path, 1, 1, starts, method, choose);
  }

  #newLeaf(): Leaf<C> {
    const leaf = new Leaf<C>();
    this.#leaves.push(leaf);
    return leaf;
  }
}

/** Where the segment starting at `start` ends: the next `/` or the path's end. */
/** Paths this long or longer always ask the static map. */
const SHAPE_LENGTHS = 256;

/** The bit of `path`'s (length, last character mod 128) in the static shapes, or -1 when too long. */
function shapeBit(path: string): number {
  const length = path.length;
  if (length >= SHAPE_LENGTHS) return -1;
  // An empty path reads NaN, which `& 127` makes 0: one bit like any other.
  return length * 128 + (path.charCodeAt(length - 1) & 127);
}

function segmentEnd(path: string, start: number): number {
  const end = path.indexOf('/', start);
  return end === -1 ? path.length : end;
}

function walk<C extends TreeCandidate>(
  node: TreeNode<C>,
  path: string,
  start: number,
  depth: number,
  starts: number[],
  method: number,
  choose: Chooser<C>,
): C | undefined {
  steps++;
  // Past the last segment: the path ends at this node.
  if (start > path.length) return node.leaf === undefined ? undefined : choose(node.leaf, method);
  starts[depth] = start;
  if (node.statics !== undefined) {
    const child = node.statics.find(path, start);
    if (child !== undefined) {
      const found = walk(child, path, start + child.segmentLength + 1, depth + 1, starts, method, choose);
      if (found !== undefined) return found;
    }
  }
  if (node.param !== undefined) {
    const found = walk(node.param, path, segmentEnd(path, start) + 1, depth + 1, starts, method, choose);
    if (found !== undefined) return found;
  }
  return node.wildcard === undefined ? undefined : choose(node.wildcard, method);
}
