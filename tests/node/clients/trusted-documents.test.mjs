// Trusted documents: the gateway runs with GATEWAY_TRUSTED_DOCUMENTS set to the manifest that Apollo's own
// tool (@apollo/generate-persisted-query-manifest) made from documents/*.graphql in this run, and
// GATEWAY_TRUSTED_DOCUMENTS_ONLY=true. A client whose PersistedQueryLink takes its ids from that manifest
// (generatePersistedQueryIdsFromManifest) sends ids only and is served; a document not in the manifest is
// refused with DOCUMENT_NOT_TRUSTED, whether it comes as text or as an unknown hash.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ApolloClient, ApolloLink, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { generatePersistedQueryIdsFromManifest } from '@apollo/persisted-query-lists';
import { isSubscriptionOperation } from '@apollo/client/utilities';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  CountingFetch, POLAR_TOKEN, Watch, allCustomerIds, appCache, appClient, doc, env, errorCodes, httpLink, metric,
  untilMetric,
} from './lib.mjs';

// Apollo Client 4.3's GraphQLWsLink reads the global WebSocket when the server answers a subscription with an
// error; Node 20 has none (Node 22 has), so without this an `error` message becomes a ReferenceError.
globalThis.WebSocket ??= WebSocket;

const manifest = () => JSON.parse(readFileSync(env('FRONTEND_TRUSTED_MANIFEST'), 'utf8'));
const uri = () => env('FRONTEND_TRUSTED_GATEWAY_URL');
const AD_HOC = gql('query AdHoc { customers(first: 1) { totalCount } }');

/** An app built with the manifest: ids instead of documents over HTTP, and (with `wsClient`) subscriptions
 * over graphql-ws, which sends the document's text: the gateway finds it in the manifest by its text. */
function manifestClient(fetch, wsClient) {
  const ids = generatePersistedQueryIdsFromManifest({ loadManifest: manifest });
  const http = new PersistedQueryLink({ ...ids, useGETForHashedQueries: true })
    .concat(httpLink({ uri: uri(), token: POLAR_TOKEN(), fetch }));
  const link = wsClient === undefined
    ? http : ApolloLink.split(({ query }) => isSubscriptionOperation(query), new GraphQLWsLink(wsClient), http);
  return new ApolloClient({ link, cache: appCache() });
}

/** Whether a request carried a document's text (in the body or in the URL's query parameter). */
function carriedText(request) {
  if (request.method === 'GET') return new URL(request.url).searchParams.has('query');
  return typeof JSON.parse(request.body).query === 'string';
}

test("the manifest is Apollo's, made from the suite's documents", () => {
  const { format, version, operations } = manifest();
  assert.equal(format, 'apollo-persisted-query-manifest');
  assert.equal(version, 1);
  const byName = Object.fromEntries(operations.map((operation) => [operation.name, operation]));
  for (const [name, type] of [['CustomersPage', 'query'], ['CustomerRename', 'mutation'], ['CustomerFollow', 'subscription']]) {
    assert.equal(byName[name]?.type, type, `${name} is not in the manifest as a ${type}`);
    assert.equal(byName[name].id, createHash('sha256').update(byName[name].body).digest('hex'));
  }
  assert.equal(byName.AdHoc, undefined);
});

test("a client sending the manifest's ids is served: queries over GET, mutations over POST, one request each", async () => {
  const counting = new CountingFetch();
  const client = manifestClient(counting.fetch);
  const ids = Object.fromEntries(manifest().operations.map((operation) => [operation.name, operation.id]));

  const { data } = await client.query({ query: doc('CustomersPage'), variables: { first: 5 } });
  assert.equal(data.customers.totalCount, Number(env('FRONTEND_DEMO_CUSTOMERS')));
  const [id] = data.customers.edges.map((edge) => edge.node.id);
  const name = `Trusted ${process.pid}-${Date.now()}`;
  const renamed = await client.mutate({ mutation: doc('CustomerRename'), variables: { id, name } });
  assert.deepEqual(renamed.data.customerUpdate.userErrors, []);
  assert.equal(client.cache.extract()[`Customer:${id}`].name, name);

  assert.deepEqual(counting.requests.map((request) => [request.method, request.status]), [['GET', 200], ['POST', 200]]);
  assert.ok(counting.requests.every((request) => !carriedText(request)), 'a document went as text');
  const sentIds = counting.requests.map((request) => (request.method === 'GET'
    ? JSON.parse(new URL(request.url).searchParams.get('extensions')) : JSON.parse(request.body).extensions)
    .persistedQuery.sha256Hash);
  assert.deepEqual(sentIds, [ids.CustomersPage, ids.CustomerRename]);
  client.stop();
});

test("a manifest document sent as text is served: the tool's body is the text Apollo Client sends", async () => {
  const counting = new CountingFetch();
  const client = appClient({ uri: uri(), fetch: counting.fetch });
  const { data } = await client.query({ query: doc('CustomersPage'), variables: { first: 3 } });
  assert.deepEqual(data.customers.edges.map((edge) => edge.node.id), (await allCustomerIds()).slice(0, 3));
  assert.ok(carriedText(counting.requests[0]));
  client.stop();
});

test('an ad-hoc document sent as text is refused with DOCUMENT_NOT_TRUSTED', async () => {
  const client = appClient({ uri: uri() });
  await assert.rejects(client.query({ query: AD_HOC }), (error) => {
    assert.deepEqual(errorCodes(error), ['DOCUMENT_NOT_TRUSTED']);
    return true;
  });
  client.stop();
});

test('an ad-hoc document sent as an APQ hash is refused with DOCUMENT_NOT_TRUSTED, and not registered', async () => {
  const counting = new CountingFetch();
  const sha256 = (text) => createHash('sha256').update(text).digest('hex');
  const link = new PersistedQueryLink({ sha256, useGETForHashedQueries: true })
    .concat(httpLink({ uri: uri(), token: POLAR_TOKEN(), fetch: counting.fetch }));
  const client = new ApolloClient({ link, cache: appCache() });
  await assert.rejects(client.query({ query: AD_HOC }), (error) => {
    assert.deepEqual(errorCodes(error), ['DOCUMENT_NOT_TRUSTED']);
    return true;
  });
  // Refused, not "not found": the link has nothing to retry with the document, so one request went.
  assert.deepEqual(counting.requests.map((request) => request.method), ['GET']);
  client.stop();
});

test('subscriptions: a manifest subscription runs and gets the change; an ad-hoc one is refused', async () => {
  const wsClient = createClient({
    url: uri().replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${POLAR_TOKEN()}` },
    retryAttempts: 0,
  });
  const client = manifestClient(new CountingFetch().fetch, wsClient);
  let follow;
  try {
    const adHoc = new Watch(client.subscribe({ query: gql('subscription AdHoc { customersChanged { type customerId } }') }));
    const refused = await adHoc.until((result) => result.error !== undefined, 'the ad-hoc subscription refused');
    assert.deepEqual(errorCodes(refused.error), ['DOCUMENT_NOT_TRUSTED']);

    const [id] = await allCustomerIds();
    const subscribers = await metric('gateway_live_subscribers', {}, uri());
    follow = new Watch(client.subscribe({ query: doc('CustomerFollow'), variables: { id } }));
    await untilMetric('gateway_live_subscribers', {}, (value) => value >= subscribers + 1, uri());
    const name = `Trusted live ${process.pid}-${Date.now()}`;
    const renamed = await client.mutate({ mutation: doc('CustomerRename'), variables: { id, name } });
    assert.deepEqual(renamed.data.customerUpdate.userErrors, []);
    const event = await follow.until((result) => result.data?.customerChanged.customer?.name === name,
      `an event with the name ${name}`);
    assert.equal(event.data.customerChanged.customerId, id);
  } finally {
    follow?.stop();
    client.stop();
    await wsClient.dispose();
  }
});
