// A second subgraph, written for the federation test: loyalty cards and points for the gateway's customers.
// It knows customers by their externalId only (the id in "your system"): it adds loyaltyPoints to Customer,
// and its cards name their holders by externalId, so the router resolves the rest of a holder (id, email,
// state) through the gateway's _entities with the externalId key.
import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';

const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

  type Customer @key(fields: "externalId") {
    externalId: String
    "Points earned, a stable number derived from the external id; null for a customer without one."
    loyaltyPoints: Int
  }

  type LoyaltyCard {
    number: String!
    holder: Customer!
  }

  type Query {
    loyaltyCards: [LoyaltyCard!]!
  }
`);

export function pointsOf(externalId) {
  if (!externalId) return null;
  let points = 0;
  for (const character of externalId) points = (points * 31 + character.charCodeAt(0)) % 10007;
  return points;
}

export function loyaltySubgraph(holderExternalIds) {
  const resolvers = {
    Query: {
      loyaltyCards: () =>
        holderExternalIds.map((externalId, index) => ({
          number: `LC-${String(index + 1).padStart(4, '0')}`,
          holder: { __typename: 'Customer', externalId },
        })),
    },
    Customer: {
      __resolveReference: (reference) => reference,
      loyaltyPoints: (customer) => pointsOf(customer.externalId),
    },
  };
  return new ApolloServer({ schema: buildSubgraphSchema([{ typeDefs, resolvers }]) });
}
