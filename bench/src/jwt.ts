/**
 * JWT verification side by side, for RS256, ES256 and EdDSA tokens: raw `jose.jwtVerify` (key
 * imported once), fast-jwt (uncached and with its token cache), jsonwebtoken + jwks-rsa (its cached
 * key lookup, then `jwt.verify`), and @portcullis/jwt-cache with its cache off, missing (a pool of
 * tokens larger than the cache: every verification a miss) and hitting. Keys for the JWKS-based
 * libraries come from a local JWKS server, fetched once before measuring.
 *
 * Two shapes: sequential (`await` each verification in turn) and 64 verifications in flight (64
 * loops over the same pool). Each case runs for a fixed time per round, rounds rotated; the median
 * of the rounds is reported.
 */
import { createJwtVerifier, type JwtVerifier, type JwtVerifierOptions } from '@portcullis/jwt-cache';
import {
  generateKeyPair,
  startJwksServer,
  type JwksServer,
  type TestKeyAlgorithm,
  type TestKeyPair,
} from '@portcullis/testkit';
import { createVerifier } from 'fast-jwt';
import { importJWK, jwtVerify, SignJWT } from 'jose';
import jwks from 'jwks-rsa';
import jsonwebtoken from 'jsonwebtoken';
import { fixed, int, isMain, log, median, quick, sectionMain, settle, table, times, type Section } from './common.js';

const ISSUER = 'https://idp.bench/';
const AUDIENCE = 'bench-api';
const ALGORITHMS: readonly TestKeyAlgorithm[] = ['RS256', 'ES256', 'EdDSA'];
/** Distinct tokens verified in turn (the cached cases hold them all). */
const POOL = quick ? 200 : 1_000;
/** Tokens cycled through a cache of `MISS_CACHE` entries: every verification misses. */
const MISS_POOL = quick ? 400 : 2_000;
const MISS_CACHE = 100;
const IN_FLIGHT = 64;
const ROUND_MS = quick ? 150 : 1_000;
const ROUNDS = quick ? 2 : 5;

type Verify = (token: string) => unknown;

interface Case {
  readonly name: string;
  readonly group: 'uncached' | 'cached';
  readonly tokens: readonly string[];
  readonly verify: Verify;
}

interface Setup {
  readonly cases: Case[];
  close(): Promise<void>;
}

async function signPool(key: TestKeyPair, count: number): Promise<string[]> {
  const now = Math.floor(Date.now() / 1000);
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    tokens.push(
      await new SignJWT({ sub: `user-${i}`, scope: 'read write', iat: now, exp: now + 7_200 })
        .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .sign(key.privateKey),
    );
  }
  return tokens;
}

function ours(server: JwksServer, cache: JwtVerifierOptions['cache']): JwtVerifier {
  return createJwtVerifier({ cache, issuers: { [ISSUER]: { jwks: server.url, audience: AUDIENCE } } });
}

async function setup(alg: TestKeyAlgorithm): Promise<Setup> {
  const key = generateKeyPair(alg, `bench-${alg}`);
  const server = await startJwksServer({ keys: [key.publicJwk] });
  log(`${alg}: signing ${POOL + MISS_POOL} tokens`);
  const tokens = await signPool(key, POOL);
  const missTokens = await signPool(key, MISS_POOL);
  const pem = key.publicKey.export({ format: 'pem', type: 'spki' }) as string;

  const joseKey = await importJWK(key.publicJwk, alg);
  const joseOptions = { issuer: ISSUER, audience: AUDIENCE, algorithms: [alg] };
  const fastOptions = { key: pem, algorithms: [alg], allowedIss: ISSUER, allowedAud: AUDIENCE };
  const fastUncached = createVerifier(fastOptions);
  const fastCached = createVerifier({ ...fastOptions, cache: POOL * 2 });
  const uncached = ours(server, false);
  const missing = ours(server, { max: MISS_CACHE });
  const cached = ours(server, { max: POOL * 2 });

  const cases: Case[] = [
    {
      name: 'jose.jwtVerify (key imported once)',
      group: 'uncached',
      tokens,
      verify: (t) => jwtVerify(t, joseKey, joseOptions),
    },
    { name: 'fast-jwt, no cache', group: 'uncached', tokens, verify: (t): unknown => fastUncached(t) },
    { name: '**ours, cache off**', group: 'uncached', tokens, verify: (t) => uncached.verify(t) },
    { name: 'ours, cache miss (cold)', group: 'uncached', tokens: missTokens, verify: (t) => missing.verify(t) },
    { name: 'fast-jwt, cache', group: 'cached', tokens, verify: (t): unknown => fastCached(t) },
    { name: '**ours, cache hit: verify()**', group: 'cached', tokens, verify: (t) => cached.verify(t) },
    {
      name: 'ours, cache hit: cached() (what the guard calls)',
      group: 'cached',
      tokens,
      verify: (t) => cached.cached(t),
    },
  ];

  if (alg !== 'EdDSA') {
    // jsonwebtoken has no EdDSA; jwks-rsa's cache keeps keys by kid.
    const client = jwks({ jwksUri: server.url, cache: true, rateLimit: true });
    const kid = key.kid;
    await client.getSigningKey(kid);
    const jwtOptions = { algorithms: [alg], issuer: ISSUER, audience: AUDIENCE };
    cases.splice(2, 0, {
      name: 'jsonwebtoken + jwks-rsa',
      group: 'uncached',
      tokens,
      verify: async (t) => jsonwebtoken.verify(t, (await client.getSigningKey(kid)).getPublicKey(), jwtOptions),
    });
  }

  // Warm up: keys fetched and imported, caches filled, code optimised a little.
  for (const c of cases) for (const t of c.tokens) await c.verify(t);
  log(`${alg}: ready (JWKS fetched ${server.fetchCount} times)`);
  return {
    cases,
    close: async () => {
      for (const v of [uncached, missing, cached]) v.dispose();
      await server.close();
    },
  };
}

/** Verifications per second over about `ROUND_MS`, with `concurrency` loops in flight. */
async function measure(c: Case, concurrency: number): Promise<number> {
  const { tokens, verify } = c;
  let done = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + ROUND_MS;
  async function loop(): Promise<void> {
    while (performance.now() < deadline) {
      for (let i = 0; i < 64; i++) {
        await verify(tokens[next++ % tokens.length] as string);
        done++;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, loop));
  return done / ((performance.now() - started) / 1000);
}

interface Row {
  readonly name: string;
  readonly group: Case['group'];
  readonly sequential: number;
  readonly parallel: number;
  /** Every round's figure, in round order (for ratios paired by round). */
  readonly samples: { readonly seq: readonly number[]; readonly par: readonly number[] };
}

async function runAlgorithm(alg: TestKeyAlgorithm): Promise<Row[]> {
  const setUp = await setup(alg);
  const { cases } = setUp;
  const samples = new Map<string, { seq: number[]; par: number[] }>(cases.map((c) => [c.name, { seq: [], par: [] }]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = cases.map((_, i) => cases[(i + round) % cases.length] as Case);
    for (const c of order) {
      const s = samples.get(c.name) as { seq: number[]; par: number[] };
      s.seq.push(await measure(c, 1));
      await settle();
      s.par.push(await measure(c, IN_FLIGHT));
      await settle();
    }
    log(`${alg}: round ${round + 1}/${ROUNDS}`);
  }
  await setUp.close();
  return cases.map((c) => {
    const s = samples.get(c.name) as { seq: number[]; par: number[] };
    return { name: c.name, group: c.group, sequential: median(s.seq), parallel: median(s.par), samples: s };
  });
}

/**
 * `ours ÷ theirs`, paired by round: the median of each round's ratio. Rounds run every case within
 * seconds of each other, so a machine that speeds up or slows down between rounds moves both sides
 * of a ratio alike; the ratio of two medians taken from different rounds does not cancel that.
 */
function pairedRatio(rows: readonly Row[], ours: string, theirs: string, shape: 'sequential' | 'parallel'): number {
  const key = shape === 'sequential' ? 'seq' : 'par';
  const a = rows.find((r) => r.name === ours)?.samples[key] ?? [];
  const b = rows.find((r) => r.name === theirs)?.samples[key] ?? [];
  const ratios = a.map((x, i) => x / (b[i] ?? Number.NaN));
  return ratios.length === 0 ? Number.NaN : median(ratios);
}

function targets(rows: readonly Row[]): string[][] {
  const out: string[][] = [];
  for (const shape of ['sequential', 'parallel'] as const) {
    const label = shape === 'sequential' ? 'sequential' : `${IN_FLIGHT} in flight`;
    const cached = pairedRatio(rows, '**ours, cache hit: verify()**', 'fast-jwt, cache', shape);
    const guard = pairedRatio(rows, 'ours, cache hit: cached() (what the guard calls)', 'fast-jwt, cache', shape);
    const uncached = pairedRatio(rows, '**ours, cache off**', 'jose.jwtVerify (key imported once)', shape);
    out.push([
      label,
      `${times(cached)} ${cached >= 1.5 ? '✅' : '❌'}`,
      times(guard),
      `${times(uncached)} ${uncached >= 1 / 1.15 ? '✅' : '❌'}`,
    ]);
  }
  return out;
}

/** The whole section: one table per algorithm, then the targets. */
export async function runJwtBench(): Promise<Section> {
  const parts: string[] = [];
  for (const alg of ALGORITHMS) {
    const rows = await runAlgorithm(alg);
    const jose = rows.find((r) => r.name.startsWith('jose'));
    parts.push(
      `### ${alg}`,
      '',
      table(
        ['Verifier', 'Sequential / s', `${IN_FLIGHT} in flight / s`, 'vs jose (seq)', `vs jose (${IN_FLIGHT})`],
        rows.map((r) => [
          r.name,
          int(r.sequential),
          int(r.parallel),
          times(r.sequential / (jose?.sequential ?? Number.NaN)),
          times(r.parallel / (jose?.parallel ?? Number.NaN)),
        ]),
      ),
      '',
      table(
        [
          'Shape',
          'ours cached ÷ fast-jwt cached, paired (target ≥ 1.5×)',
          'guard path cached() ÷ fast-jwt cached, paired',
          'ours cache off ÷ raw jose, paired (target ≥ 0.87×, i.e. within 1.15×)',
        ],
        targets(rows),
      ),
      '',
    );
  }
  return {
    title: 'JWT verification: verifications per second',
    markdown: [
      `Pool of ${int(POOL)} distinct tokens per algorithm (cache-miss case: ${int(MISS_POOL)} tokens through a ${MISS_CACHE}-entry cache), ` +
        `${ROUNDS} rounds of ${fixed(ROUND_MS / 1000, 1)} s per case and shape, median reported. ` +
        'The target tables pair the two sides by round (the median of the rounds’ ratios), so drift in the ' +
        'machine’s speed between rounds cancels out. ' +
        'Every verifier checks the signature, `iss`, `aud` and `exp`; ours also the header rules, the issuer allowlist and the key state.',
      '',
      ...parts,
    ].join('\n'),
  };
}

if (isMain(import.meta.url)) await sectionMain(runJwtBench);
