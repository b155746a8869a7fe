// Serves a federated supergraph for the test: the gateway (as subgraph "customers", at CUSTOMERS_URL) and the
// loyalty subgraph, behind the router ROUTER names:
// - "apollo" (the default): @apollo/gateway's IntrospectAndCompose composes, Apollo Server serves;
// - "hive": Hive Gateway's composer (@theguild/federation-composition, the copy @graphql-hive/gateway
//   composes with) composes the SDLs the subgraphs serve (`_service { sdl }`), Hive Gateway's runtime serves.
// The caller's Authorization and Voucherify server keys are passed on to the customers subgraph only.
// Prints one JSON line with the router's address and the composed supergraph SDL (or, when composition
// fails, the composer's errors, and exits 1), then serves until it is killed (or stdin closes).
import { createServer } from 'node:http';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import { parse } from 'graphql';
import { loyaltySubgraph } from './loyalty-subgraph.mjs';

// What the gateway reads from a caller: its Polar token and its Voucherify server keys.
const PROPAGATED = ['authorization', 'x-voucherify-app-id', 'x-voucherify-app-token'];
const CUSTOMERS = 'customers';

const customersUrl = process.env.CUSTOMERS_URL;
const holders = JSON.parse(process.env.LOYALTY_HOLDERS ?? '[]');
const routerKind = process.env.ROUTER ?? 'apollo';
if (!customersUrl) {
  console.error('CUSTOMERS_URL is required');
  process.exit(2);
}

const loyalty = loyaltySubgraph(holders);
const { url: loyaltyUrl } = await startStandaloneServer(loyalty, { listen: { host: '127.0.0.1', port: 0 } });
const subgraphs = [
  { name: CUSTOMERS, url: customersUrl },
  { name: 'loyalty', url: loyaltyUrl },
];

function propagated(get) {
  const headers = {};
  for (const name of PROPAGATED) {
    const value = get(name);
    if (value) headers[name] = value;
  }
  return headers;
}

async function apolloRouter() {
  let supergraphSdl = '';
  const gateway = new ApolloGateway({
    supergraphSdl: new IntrospectAndCompose({ subgraphs }),
    buildService: ({ name, url }) =>
      new RemoteGraphQLDataSource({
        url,
        willSendRequest({ request, context }) {
          if (name !== CUSTOMERS) return;
          for (const [header, value] of Object.entries(context.headers ?? {})) request.http.headers.set(header, value);
        },
      }),
  });
  gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
    supergraphSdl = coreSupergraphSdl;
  });
  const server = new ApolloServer({ gateway });
  const { url } = await startStandaloneServer(server, {
    listen: { host: '127.0.0.1', port: 0 },
    context: async ({ req }) => ({ headers: propagated((name) => req.headers[name]) }),
  });
  return { url, supergraphSdl };
}

async function servedSdl(url) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ _service { sdl } }' }),
    signal: AbortSignal.timeout(20000),
  });
  const body = await response.json();
  if (!body.data?._service?.sdl) throw new Error(`${url} served no SDL: ${JSON.stringify(body)}`);
  return body.data._service.sdl;
}

async function hiveRouter() {
  const { composeServices, compositionHasErrors } = await import('@theguild/federation-composition');
  const { createGatewayRuntime } = await import('@graphql-hive/gateway');
  const services = await Promise.all(
    subgraphs.map(async ({ name, url }) => ({ name, url, typeDefs: parse(await servedSdl(url)) })),
  );
  const composed = composeServices(services);
  if (compositionHasErrors(composed)) {
    const errors = composed.errors.map((error) => ({ message: error.message, code: error.extensions?.code }));
    console.log(JSON.stringify({ compositionErrors: errors }));
    process.exit(1);
  }
  const runtime = createGatewayRuntime({
    supergraph: composed.supergraphSdl,
    logging: 'error',
    propagateHeaders: {
      fromClientToSubgraphs: ({ request, subgraphName }) =>
        subgraphName.toLowerCase() === CUSTOMERS ? propagated((name) => request.headers.get(name)) : {},
    },
  });
  const server = createServer(runtime);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/graphql`, supergraphSdl: composed.supergraphSdl };
}

const routers = { apollo: apolloRouter, hive: hiveRouter };
if (!routers[routerKind]) {
  console.error(`ROUTER must be one of ${Object.keys(routers).join(', ')}`);
  process.exit(2);
}
const { url: routerUrl, supergraphSdl } = await routers[routerKind]();
console.log(JSON.stringify({ router: routerUrl, kind: routerKind, loyalty: loyaltyUrl, supergraphSdl }));

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
