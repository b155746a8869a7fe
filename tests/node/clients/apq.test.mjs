// Automatic persisted queries with Apollo's PersistedQueryLink (sha256 from node:crypto, hashed queries over
// GET): the first request of a document is its hash alone, answered PersistedQueryNotFound; the link sends
// the document then (POST), which registers it. A second client, with a new cache, on a second gateway that
// shares the first one's Redis, sends the same hash alone and is answered at once. Entries belong to the
// token that registered them: another token's client must send the document again.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { ApolloClient, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { addTypenameToDocument, print } from '@apollo/client/utilities';
import { CountingFetch, POLAR_TOKEN, appCache, env, httpLink } from './lib.mjs';

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

/** A document no gateway of this run has seen (an alias made of a nonce), so its first request is its first. */
function freshDocument() {
  const nonce = `${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e9)}`;
  return gql(`
    query ApqCustomers($first: Int!) {
      customers(first: $first) {
        totalCount
        edges { cursor node { id name email } }
        pageInfo { hasNextPage endCursor }
      }
      run_${nonce}: __typename
    }
  `);
}

function apqClient(uri, token, fetch) {
  const link = new PersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(httpLink({ uri, token, fetch }));
  return new ApolloClient({ link, cache: appCache() });
}

/** What a request carried: its method, its status, whether the document's text was in it, the hash sent. */
function described(request) {
  const url = new URL(request.url);
  const sent = request.method === 'GET'
    ? { query: url.searchParams.get('query'), extensions: JSON.parse(url.searchParams.get('extensions') ?? 'null') }
    : JSON.parse(request.body);
  return {
    method: request.method,
    status: request.status,
    withDocument: typeof sent.query === 'string' && sent.query.length > 0,
    hash: sent.extensions?.persistedQuery?.sha256Hash,
  };
}

test('APQ: hash only, not found, then the document; a second gateway on the same Redis knows the hash', async () => {
  const document = freshDocument();
  const hash = sha256(print(addTypenameToDocument(document)));
  const variables = { first: 5 };

  const first = new CountingFetch();
  const clientA = apqClient(env('FRONTEND_GATEWAY_URL'), POLAR_TOKEN(), first.fetch);
  const resultA = await clientA.query({ query: document, variables });
  assert.equal(resultA.data.customers.edges.length, 5);
  assert.deepEqual(first.requests.map(described), [
    { method: 'GET', status: 404, withDocument: false, hash }, // PersistedQueryNotFound, as graphql-response+json
    { method: 'POST', status: 200, withDocument: true, hash }, // the link's retry registers the document
  ]);

  const second = new CountingFetch();
  const clientB = apqClient(env('FRONTEND_GATEWAY_B_URL'), POLAR_TOKEN(), second.fetch);
  const resultB = await clientB.query({ query: document, variables });
  assert.deepEqual(second.requests.map(described), [{ method: 'GET', status: 200, withDocument: false, hash }]);
  assert.deepEqual(resultB.data, resultA.data);

  const [hashOnly, full] = first.requests;
  assert.ok(hashOnly.bytes < full.bytes, `hash-only ${hashOnly.bytes} bytes, full ${full.bytes} bytes`);
  console.log(`APQ counts: ${JSON.stringify({
    firstClient: { requests: first.count, bytes: first.requests.map((request) => request.bytes) },
    secondClient: { requests: second.count, bytes: second.requests.map((request) => request.bytes) },
  })}`);
  clientA.stop();
  clientB.stop();
});

test("APQ entries belong to a token: another organization's client sends the document again", async () => {
  const document = freshDocument();
  const variables = { first: 2 };
  const demo = apqClient(env('FRONTEND_GATEWAY_URL'), POLAR_TOKEN(), new CountingFetch().fetch);
  await demo.query({ query: document, variables }); // registered for the demo token

  const counting = new CountingFetch();
  const other = apqClient(env('FRONTEND_GATEWAY_B_URL'), env('FRONTEND_OTHER_TOKEN'), counting.fetch);
  const result = await other.query({ query: document, variables });
  assert.deepEqual(counting.requests.map((request) => [request.method, request.status]), [['GET', 404], ['POST', 200]]);
  assert.equal(result.data.customers.totalCount, Number(env('FRONTEND_OTHER_CUSTOMERS')));
  demo.stop();
  other.stop();
});
