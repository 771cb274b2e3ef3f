/**
 * The BFF example, one command: starts the three demo services and the GraphQL BFF in front of
 * them, and prints queries to try.
 *
 *     npx -y pnpm@10 --filter ./examples/bff start      # PORT=4000 by default
 */
import { startBff } from './bff.js';
import { startServices } from './services.js';

const port = Number(process.env['PORT'] ?? 4000);
const services = await startServices();
const bff = await startBff({ urls: services.urls, port });

const nested = '{ user(id: \\"u1\\") { name orders { status items { quantity product { name price } } } } }';
console.log(`GraphQL BFF on ${bff.url} (services: ${Object.values(services.urls).join(', ')})

Try:
  curl -s ${bff.url} -H 'content-type: application/json' -d '{"query":"${nested}"}'
  (1 user, 5 orders, 20 items, 20 products: 4 batched calls instead of 46; again within 5 min: none)

  a query deeper than 5 levels is refused:
  curl -s ${bff.url} -H 'content-type: application/json' -d '{"query":"{ user(id: \\"u1\\") { orders { items { product { variants { options } } } } } }"}'

  50,000 products in one query are refused before any service call:
  node -e "console.log(JSON.stringify({ query: '{ products(ids: [' + Array.from({ length: 50000 }, (_, i) => JSON.stringify('p' + (i + 1))).join(',') + ']) { name } }' }))" | curl -s ${bff.url} -H 'content-type: application/json' --data-binary @-

Ctrl-C stops it.`);

function stop(): void {
  void Promise.all([bff.close(), services.close()]).then(() => process.exit(0));
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
