// Serves a federated supergraph for the test: the gateway (as subgraph "customers", at CUSTOMERS_URL) and the
// loyalty subgraph, composed by @apollo/gateway's IntrospectAndCompose and served by Apollo Server.
// The caller's Authorization header is passed on to the customers subgraph. Prints one JSON line with the
// router's address and the composed supergraph SDL, then serves until it is killed (or stdin closes).
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import { loyaltySubgraph } from './loyalty-subgraph.mjs';

const customersUrl = process.env.CUSTOMERS_URL;
const holders = JSON.parse(process.env.LOYALTY_HOLDERS ?? '[]');
if (!customersUrl) {
  console.error('CUSTOMERS_URL is required');
  process.exit(2);
}

const loyalty = loyaltySubgraph(holders);
const { url: loyaltyUrl } = await startStandaloneServer(loyalty, { listen: { host: '127.0.0.1', port: 0 } });

let supergraphSdl = '';
const gateway = new ApolloGateway({
  supergraphSdl: new IntrospectAndCompose({
    subgraphs: [
      { name: 'customers', url: customersUrl },
      { name: 'loyalty', url: loyaltyUrl },
    ],
  }),
  buildService: ({ url }) =>
    new RemoteGraphQLDataSource({
      url,
      willSendRequest({ request, context }) {
        if (context.authorization) request.http.headers.set('authorization', context.authorization);
      },
    }),
});
gateway.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
  supergraphSdl = coreSupergraphSdl;
});

const router = new ApolloServer({ gateway });
const { url: routerUrl } = await startStandaloneServer(router, {
  listen: { host: '127.0.0.1', port: 0 },
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});
console.log(JSON.stringify({ router: routerUrl, loyalty: loyaltyUrl, supergraphSdl }));

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
