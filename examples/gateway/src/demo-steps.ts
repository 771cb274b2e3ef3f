/** One thing to try with the running gateway: shell commands to run in order, and what they show. */
export interface DemoStep {
  /** A short name (`token`, `burst it`…). */
  readonly label: string;
  /** Shell lines (bash), run in order in one shell; an end-to-end test runs exactly these. */
  readonly run: readonly string[];
  /** What to look for, in words. */
  readonly says?: readonly string[];
}

/**
 * The commands the gateway prints at start: one list, so that what users read and what the
 * end-to-end test (test/demo-steps.test.ts) runs cannot drift apart.
 *
 * @example
 * ```ts
 * console.log(formatDemoSteps(demoSteps('http://127.0.0.1:8080')));
 * ```
 */
export function demoSteps(address: string): DemoStep[] {
  const a = address;
  return [
    {
      label: 'token',
      run: [
        `TOKEN=$(curl -s -X POST '${a}/demo/token?user=alice&tier=pro' | node -pe 'JSON.parse(require("fs").readFileSync(0)).token')`,
        `curl -s ${a}/api/users/1 -H "authorization: Bearer $TOKEN" -H 'x-portcullis-user: mallory'`,
      ],
      says: ['the upstream sees alice (from the token), never the spoofed header'],
    },
    {
      label: 'rotate',
      run: [`curl -s -X POST ${a}/demo/rotate`],
      says: [
        '(the next key is published ahead: it signs at once if the gateway has fetched it, else after',
        'its next JWKS refresh, within 30 s; old tokens keep verifying)',
      ],
    },
    { label: 'api key', run: [`curl -i ${a}/api/users -H 'x-api-key: demo-free'`] },
    {
      label: 'a body',
      run: [
        `curl -s ${a}/api/orders -H 'x-api-key: demo-pro' -H 'content-type: application/json' -d '{"items":["p1"]}'`,
      ],
    },
    { label: 'head', run: [`curl -I ${a}/api/products -H 'x-api-key: demo-pro'`] },
    {
      label: 'usage',
      run: [`curl -s ${a}/api/quota -H 'x-api-key: demo-pro'`],
      says: ['(not charged; 503 if Redis is down)'],
    },
    {
      label: 'burst it',
      run: [
        `for i in $(seq 8); do curl -s -o /dev/null -w '%{http_code} ' ${a}/api/products -H 'x-api-key: demo-free'; done`,
      ],
      says: ['five 200s, then 429s with Retry-After'],
    },
    {
      label: 'balance',
      run: [
        `for i in $(seq 30); do curl -s -o /dev/null -D - ${a}/api/users -H 'x-api-key: demo-enterprise' | grep -i x-portcullis-instance; done | sort | uniq -c`,
      ],
      says: ['requests spread over the users instances (least-request: two drawn at random, the less busy one wins)'],
    },
    {
      label: 'eject',
      run: [
        `curl -s -X POST '${a}/demo/upstream?service=users&instance=2&failing=true'`,
        `for i in $(seq 30); do curl -s -o /dev/null -w '%{http_code} ' ${a}/api/users -H 'x-api-key: demo-enterprise'; done`,
        `curl -s ${a}/demo/pools`,
        `curl -s -X POST '${a}/demo/upstream?service=users&instance=2&failing=false'`,
      ],
      says: [
        'every read still answers 200 (a failed attempt is retried on another instance); users-2 is',
        'ejected (see /demo/pools) and gets none; healed (the last line), it returns after its',
        'ejection (10 s) or two passed health checks',
      ],
    },
    {
      label: 'all down',
      run: [
        `curl -s -o /dev/null ${a}/api/products/p1 -H 'x-api-key: demo-enterprise'`,
        `curl -s -X POST '${a}/demo/upstream?service=products&failing=true'`,
        `for i in $(seq 8); do curl -s -o /dev/null -w '%{http_code} ' ${a}/api/products/p1 -H 'x-api-key: demo-enterprise'; done`,
        `curl -s -i ${a}/api/products/p2 -H 'x-api-key: demo-enterprise'`,
        `curl -s -X POST '${a}/demo/upstream?service=products&failing=false'`,
      ],
      says: [
        'a read you made before comes from your own cache (x-portcullis-served-by: cache), every',
        "instance's breaker opens, an unseen path gets a fast 503 with Retry-After; ?failing=false",
        'and they close again',
      ],
    },
    {
      label: 'canary',
      run: [
        `curl -s ${a}/api/orders -H 'x-api-key: demo-enterprise' -H 'x-canary: always'`,
        `curl -s ${a}/demo/canary`,
      ],
      says: [
        'x-canary: always reaches v2 ("never": v1); v2 has 10 % of customers, sticky, and steps up',
        'every 10 s interval in which it is no worse than v1, with at least 20 requests on each side',
      ],
    },
    {
      label: 'rollback',
      run: [
        `curl -s -X POST '${a}/demo/canary?errorRate=0.5'`,
        `end=$((SECONDS+25)); while [ $SECONDS -lt $end ]; do for side in always never; do curl -s -o /dev/null ${a}/api/orders -H 'x-api-key: demo-enterprise' -H "x-canary: $side"; done; done`,
        `curl -s ${a}/demo/canary`,
        `curl -s -X POST '${a}/demo/canary?errorRate=0&restart=true'`,
      ],
      says: [
        'v2 fails half its requests: within two 10 s intervals the controller rolls it back to 0 %',
        '(/demo/canary says why); the last line starts the release over',
      ],
    },
    {
      label: 'cors',
      run: [
        `curl -i -X OPTIONS ${a}/api/users -H 'origin: https://app.example.com' -H 'access-control-request-method: POST'`,
      ],
    },
    {
      label: 'health',
      run: [`curl -s ${a}/health`, `curl -s '${a}/health?verbose' -H 'authorization: Bearer demo-health-token'`],
      says: [
        'the public sees the status alone (pass, or warn while a service has instances out); with the',
        "health token, every check: each service's instances available, the canary, Redis, the event loop",
        '(also /health/live, /health/ready, /health/ready/<check>)',
      ],
    },
    {
      label: 'metrics',
      run: [
        `curl -s ${a}/metrics | grep -E '^portcullis_(ratelimit_decisions_total|canary_weight_ratio|pool_endpoint_breaker_state.*state="open")'`,
      ],
      says: [
        `a few of the Prometheus metrics at /metrics: the limiter's decisions (the 429s of "burst it"`,
        `are limited_by="perSecond"), the canary's share of customers, and 1 for each instance whose`,
        `breaker is open; every metric: curl -s ${a}/metrics`,
      ],
    },
  ];
}

/** The steps as the gateway prints them: a label, its commands, then what they show. */
export function formatDemoSteps(steps: readonly DemoStep[]): string {
  const indent = ' '.repeat(14);
  return steps
    .map((step) => {
      const lines = [...step.run, ...(step.says ?? []).map((line) => `# ${line}`)];
      return lines
        .map((line, i) => (i === 0 ? `  ${`${step.label}:`.padEnd(12)}${line}` : `${indent}${line}`))
        .join('\n');
    })
    .join('\n');
}
