// How many of the other endpoints' keys move when one of n endpoints leaves a Maglev table: the
// distribution over random cases (n from 2 to 128, random endpoint names, a random endpoint
// removed), at the smallest table (the next prime >= 100 n) and at the default 65,537 slots. The
// bounds in packages/router/src/balancers/maglev.test.ts and the figures in docs/router.md come
// from here.
//
//   cd bench && node --conditions=@portcullis/source --import tsx src/maglev-disruption.ts [cases]
import { createMaglev } from '@portcullis/router';

const cases = Number(process.argv[2] ?? 4_000);
const KEYS = 10_000;
const NAME_CHARACTERS = 'abcdefghij/_>3v';

function isPrime(x: number): boolean {
  if (x < 2) return false;
  for (let d = 2; d * d <= x; d++) if (x % d === 0) return false;
  return true;
}

function nextPrime(x: number): number {
  let p = x;
  while (!isPrime(p)) p++;
  return p;
}

// A fixed-seed generator: the same cases on every run, so a quoted figure reproduces.
let state = 12_345;
const random = (): number => {
  state = (state * 1_103_515_245 + 12_345) & 0x7fffffff;
  return state / 0x7fffffff;
};
const below = (n: number): number => Math.floor(random() * n);

const shares: Record<'smallest' | 'default', number[]> = { smallest: [], default: [] };
for (let c = 0; c < cases; c++) {
  const n = 2 + below(127);
  const table = c % 4 === 0 ? 'default' : 'smallest';
  let prefix = '';
  for (let i = 1 + below(5); i > 0; i--) prefix += NAME_CHARACTERS.charAt(below(NAME_CHARACTERS.length));
  const endpoints = Array.from({ length: n }, (_, i) => `${prefix}${String(i)}`);
  const removed = endpoints[below(n)] as string;
  const tableSize = table === 'default' ? 65_537 : nextPrime(100 * n);
  const all = createMaglev({ endpoints, tableSize });
  const fewer = createMaglev({ endpoints: endpoints.filter((e) => e !== removed), tableSize });
  let movedOthers = 0;
  for (let i = 0; i < KEYS; i++) {
    const key = `user-${String(i)}`;
    const before = all.pick(key);
    if (before !== removed && before !== fewer.pick(key)) movedOthers++;
  }
  shares[table].push(movedOthers / KEYS);
}

const percent = (x: number): string => `${(100 * x).toFixed(2)} %`;
for (const [table, values] of Object.entries(shares)) {
  values.sort((a, b) => a - b);
  const at = (q: number): number => values[Math.min(values.length - 1, Math.floor(q * values.length))] as number;
  console.log(
    `${table === 'default' ? 'M = 65,537' : 'M = next prime >= 100 n'}: ${String(values.length)} cases; ` +
      `others' keys moved: median ${percent(at(0.5))}, p99 ${percent(at(0.99))}, ` +
      `p99.9 ${percent(at(0.999))}, max ${percent(values[values.length - 1] as number)}`,
  );
}
