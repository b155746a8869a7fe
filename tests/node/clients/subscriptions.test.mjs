// Subscriptions as apps run them: one client, links split by operation type (HTTP for queries and mutations,
// GraphQLWsLink over graphql-ws for subscriptions, the token in connectionParams). A change that another
// client makes reaches this one through customerChanged, and its normalized cache takes it: the watched
// query shows the new name with no HTTP request of this client.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApolloClient, ApolloLink } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getMainDefinition } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  CountingFetch, POLAR_TOKEN, Watch, allCustomerIds, appCache, doc, env, httpLink, metric, plainGraphQL, untilMetric,
} from './lib.mjs';

const CUSTOMER = doc('Customer');
const FOLLOW = doc('CustomerFollow');
const RENAME_TEXT = 'mutation Rename($id: ID!, $name: String!) { customerUpdate(id: $id, input: {name: $name}) '
  + '{ customer { id name } userErrors { field message code } } }';
const SUBSCRIBERS = 'gateway_live_subscribers';

/** The app's link: subscriptions over the WebSocket, the rest over HTTP. */
function splitLink({ uri, token, fetch, wsClient }) {
  return ApolloLink.split(
    ({ query }) => {
      const definition = getMainDefinition(query);
      return definition.kind === 'OperationDefinition' && definition.operation === 'subscription';
    },
    new GraphQLWsLink(wsClient),
    httpLink({ uri, token, fetch }),
  );
}

test('a change made by a mutation elsewhere reaches the watching client through the subscription and its cache', async () => {
  const uri = env('FRONTEND_GATEWAY_URL');
  const [id] = await allCustomerIds();
  const connections = [];
  const wsClient = createClient({
    url: uri.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${POLAR_TOKEN()}` },
    on: { connected: () => connections.push('connected') },
    retryAttempts: 0,
  });
  const counting = new CountingFetch();
  const client = new ApolloClient({ link: splitLink({ uri, token: POLAR_TOKEN(), fetch: counting.fetch, wsClient }), cache: appCache() });
  const watched = new Watch(client.watchQuery({ query: CUSTOMER, variables: { id } }));
  let events;
  try {
    const before = await watched.until((result) => result.dataState === 'complete', 'the customer');
    const subscribers = await metric(SUBSCRIBERS, {}, uri);
    events = new Watch(client.subscribe({ query: FOLLOW, variables: { id } }));
    // Events published once the gateway counts the subscription reach it: wait for that, not for a time.
    await untilMetric(SUBSCRIBERS, {}, (value) => value >= subscribers + 1, uri);
    assert.deepEqual(connections, ['connected']);
    const requests = counting.count;
    assert.deepEqual(counting.requests.map((request) => request.method), ['POST'], 'the subscription went over HTTP');

    const name = `Live ${process.pid}-${Date.now()}`;
    assert.notEqual(before.data.customer.name, name);
    const renamed = await plainGraphQL(RENAME_TEXT, { id, name }); // another client: nothing of this one's cache
    assert.deepEqual(renamed.customerUpdate.userErrors, []);

    const event = await events.until((result) => result.data?.customerChanged.customer?.name === name,
      `an event with the name ${name}`);
    assert.equal(event.data.customerChanged.customerId, id);
    assert.equal(event.data.customerChanged.customer.id, id);
    const shown = await watched.until((result) => result.data?.customer?.name === name,
      `the watched customer named ${name}`);
    assert.equal(shown.data.customer.id, id);
    assert.equal(client.cache.extract()[`Customer:${id}`].name, name);
    assert.equal(counting.count, requests, 'the watched query was not refetched: the subscription updated the cache');
  } finally {
    events?.stop();
    watched.stop();
    client.stop();
    await wsClient.dispose();
  }
});
