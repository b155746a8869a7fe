// A second subgraph, written for the federation test: loyalty cards for the gateway's customers. It knows
// people only by the caller's own id, which is a Polar customer's externalId and a Voucherify customer's
// sourceId, and references both entity types of the gateway by that key:
// - Customer @key(externalId): it adds loyaltyPoints;
// - VoucherifyCustomer @key(sourceId): it adds loyaltyCardNumber;
// - each card names its holder (a Customer) and its member (the same person as a VoucherifyCustomer), so the
//   router resolves the rest of both through the gateway's _entities.
import { ApolloServer } from '@apollo/server';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';

export const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])

  type Customer @key(fields: "externalId") {
    externalId: String
    "Points earned, a stable number derived from the external id; null for a customer without one."
    loyaltyPoints: Int
  }

  type VoucherifyCustomer @key(fields: "sourceId") {
    sourceId: String
    "The number of this person's loyalty card; null when no card was issued to their sourceId."
    loyaltyCardNumber: String
  }

  type LoyaltyCard {
    number: String!
    "The holder in billing (Polar), by externalId."
    holder: Customer!
    "The holder in Voucherify, by sourceId (the same id); null when Voucherify has no such customer."
    member: VoucherifyCustomer
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

export function cardNumber(index) {
  return `LC-${String(index + 1).padStart(4, '0')}`;
}

export function loyaltySubgraph(holderExternalIds) {
  const cards = new Map(holderExternalIds.map((externalId, index) => [externalId, cardNumber(index)]));
  const resolvers = {
    Query: {
      loyaltyCards: () =>
        holderExternalIds.map((externalId, index) => ({
          number: cardNumber(index),
          holder: { __typename: 'Customer', externalId },
          member: { __typename: 'VoucherifyCustomer', sourceId: externalId },
        })),
    },
    Customer: {
      __resolveReference: (reference) => reference,
      loyaltyPoints: (customer) => pointsOf(customer.externalId),
    },
    VoucherifyCustomer: {
      __resolveReference: (reference) => reference,
      loyaltyCardNumber: (customer) => (customer.sourceId == null ? null : cards.get(customer.sourceId) ?? null),
    },
  };
  return new ApolloServer({ schema: buildSubgraphSchema([{ typeDefs, resolvers }]) });
}
