/**
 * The route table's matching engine: a tree with one level per path segment. A node has static
 * children by exact segment, at most one `:param` child and at most one `*` (the rest of the path);
 * routes end at a node (or at its `*`) in a leaf that holds them per method, best first.
 *
 * Written here rather than on find-my-way (which the table used first): a segment-level tree lets
 * the canonical path be matched as it is split, a whole static path be found with one hash lookup,
 * conditions be tested only at the leaves they guard, and a miss find every allowed method in the
 * same walk. Measured in the guide ("Benchmarks").
 *
 * Matching is a depth-first walk, static before param before wildcard at each segment (the
 * documented precedence). A node sits at one depth, so the walk enters it at most once: the work
 * is bounded by the tree's size whatever the path, and by the path's segment count.
 */

/** One route as the tree holds it. `C` is the table's own candidate type. */
export interface TreeCandidate {
  /** The methods it answers; `undefined` for every method. */
  readonly methods: readonly string[] | undefined;
}

/** What a walk asks of a leaf: the first candidate for the method whose conditions hold. */
export type Chooser<C> = (candidates: readonly C[]) => C | undefined;

/** The candidates of one path shape, per method, in precedence order (the table sorts them). */
export class Leaf<C extends TreeCandidate> {
  readonly candidates: C[] = [];
  #byMethod = new Map<string, readonly C[]>();
  #anyMethod: readonly C[] = [];

  /** Builds the per-method lists; `order` sorts a list best first. */
  seal(order: (a: C, b: C) => number): void {
    const sorted = [...this.candidates].sort(order);
    this.#anyMethod = sorted.filter((c) => c.methods === undefined);
    const methods = new Set(sorted.flatMap((c) => c.methods ?? []));
    for (const method of methods)
      this.#byMethod.set(
        method,
        sorted.filter((c) => c.methods === undefined || c.methods.includes(method)),
      );
  }

  /** The candidates for `method`, best first. */
  forMethod(method: string): readonly C[] {
    return this.#byMethod.get(method) ?? this.#anyMethod;
  }
}

/** A node's static children, found by segment without slicing the path (no allocation, no hashing). */
class StaticChildren<C extends TreeCandidate> {
  readonly #keys: string[] = [];
  readonly #nodes: TreeNode<C>[] = [];
  /** With many children: the indexes of those whose segment starts with a character, by its code. */
  #byFirst: Map<number, number[]> | undefined;

  get(segment: string): TreeNode<C> | undefined {
    const i = this.#keys.indexOf(segment);
    return i === -1 ? undefined : this.#nodes[i];
  }

  add(segment: string, node: TreeNode<C>): void {
    this.#keys.push(segment);
    this.#nodes.push(node);
    if (this.#keys.length > LINEAR_CHILDREN) {
      this.#byFirst = new Map();
      this.#keys.forEach((key, i) => {
        const first = key.length === 0 ? -1 : key.charCodeAt(0);
        const list = this.#byFirst?.get(first) ?? [];
        list.push(i);
        this.#byFirst?.set(first, list);
      });
    }
  }

  /** The child for the segment `path[start, end)`. */
  find(path: string, start: number, end: number): TreeNode<C> | undefined {
    const length = end - start;
    const keys = this.#keys;
    if (this.#byFirst === undefined) {
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        if (key.length === length && path.startsWith(key, start)) return this.#nodes[i];
      }
      return undefined;
    }
    const bucket = this.#byFirst.get(length === 0 ? -1 : path.charCodeAt(start));
    if (bucket === undefined) return undefined;
    for (let j = 0; j < bucket.length; j++) {
      const i = bucket[j] as number;
      const key = keys[i] as string;
      if (key.length === length && path.startsWith(key, start)) return this.#nodes[i];
    }
    return undefined;
  }
}

/** Up to this many static children are compared one by one; more are bucketed by first character. */
const LINEAR_CHILDREN = 6;

class TreeNode<C extends TreeCandidate> {
  statics: StaticChildren<C> | undefined;
  param: TreeNode<C> | undefined;
  /** Routes ending at this node: the path has exactly this node's depth in segments. */
  leaf: Leaf<C> | undefined;
  /** Routes with a `*` at this depth: the path has more segments than this node's depth. */
  wildcard: Leaf<C> | undefined;
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
  readonly #leaves: Leaf<C>[] = [];

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
        if (child === undefined) node.statics.add(segment, (child = new TreeNode<C>()));
        node = child;
      }
    }
    if (leaf === undefined) {
      leaf = node.leaf ??= this.#newLeaf();
      if (!path.includes('/:')) this.#statics.set(path, leaf);
    }
    leaf.candidates.push(candidate);
  }

  /** Orders every leaf's candidates; call once, after the last `add`. */
  seal(order: (a: C, b: C) => number): void {
    for (const leaf of this.#leaves) leaf.seal(order);
  }

  /**
   * The best candidate for `method` among the routes whose pattern is exactly `path` (canonical,
   * static: no param, no wildcard), or `undefined`. When there is one, it is also what {@link find}
   * answers: a static pattern wins at every segment. One hash lookup, no split of the path.
   */
  findStatic(method: string, path: string, choose: Chooser<C>): C | undefined {
    const leaf = this.#statics.get(path);
    return leaf === undefined ? undefined : choose(leaf.forMethod(method));
  }

  /**
   * The best candidate for `method` on a canonical `path`: the walk, static before param before
   * wildcard at each segment; `choose` picks among a leaf's candidates. `starts[d]` is set to the
   * offset of segment `d` (1 for the first) for every segment the walk reached: a match's params
   * and wildcard rest are read from there, without the path ever being split.
   */
  find(method: string, path: string, starts: number[], choose: Chooser<C>): C | undefined {
    return walk(this.#root, path, 1, 1, starts, method, choose);
  }

  /**
   * Every method some candidate on `path` answers with its conditions holding (`holds`), in one
   * walk of every branch the path can take: what `Allow` lists when `method` matched nothing.
   */
  allowed(path: string, holds: (candidate: C) => boolean): Set<string> {
    const methods = new Set<string>();
    collect(this.#root, path, 1, holds, methods);
    return methods;
  }

  #newLeaf(): Leaf<C> {
    const leaf = new Leaf<C>();
    this.#leaves.push(leaf);
    return leaf;
  }
}

/** Where the segment starting at `start` ends: the next `/` or the path's end. */
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
  method: string,
  choose: Chooser<C>,
): C | undefined {
  steps++;
  // Past the last segment: the path ends at this node.
  if (start > path.length) return node.leaf === undefined ? undefined : choose(node.leaf.forMethod(method));
  starts[depth] = start;
  const end = segmentEnd(path, start);
  if (node.statics !== undefined) {
    const child = node.statics.find(path, start, end);
    if (child !== undefined) {
      const found = walk(child, path, end + 1, depth + 1, starts, method, choose);
      if (found !== undefined) return found;
    }
  }
  if (node.param !== undefined) {
    const found = walk(node.param, path, end + 1, depth + 1, starts, method, choose);
    if (found !== undefined) return found;
  }
  return node.wildcard === undefined ? undefined : choose(node.wildcard.forMethod(method));
}

function collect<C extends TreeCandidate>(
  node: TreeNode<C>,
  path: string,
  start: number,
  holds: (candidate: C) => boolean,
  methods: Set<string>,
): void {
  steps++;
  if (start > path.length) {
    addAllowed(node.leaf, holds, methods);
    return;
  }
  const end = segmentEnd(path, start);
  const child = node.statics?.find(path, start, end);
  if (child !== undefined) collect(child, path, end + 1, holds, methods);
  if (node.param !== undefined) collect(node.param, path, end + 1, holds, methods);
  addAllowed(node.wildcard, holds, methods);
}

function addAllowed<C extends TreeCandidate>(
  leaf: Leaf<C> | undefined,
  holds: (candidate: C) => boolean,
  methods: Set<string>,
): void {
  if (leaf === undefined) return;
  for (const candidate of leaf.candidates)
    if (candidate.methods !== undefined && holds(candidate)) for (const m of candidate.methods) methods.add(m);
}
