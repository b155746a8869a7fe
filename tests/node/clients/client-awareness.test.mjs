// Client awareness: an ApolloClient built with `clientAwareness` sends apollographql-client-name and
// apollographql-client-version on every request, and the gateway counts requests by them in
// gateway_client_requests_total{client, version} on GET /metrics. HttpLink sends them by itself; a terminating
// link of another package (apollo-upload-client's) needs ClientAwarenessLink before it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApolloClient } from '@apollo/client';
import { ClientAwarenessLink } from '@apollo/client/link/client-awareness';
import UploadHttpLink from 'apollo-upload-client/UploadHttpLink.mjs';
import { CountingFetch, POLAR_TOKEN, appCache, appClient, doc, env, metric, untilMetric } from './lib.mjs';

const NAME = 'frontend-suite';
const VERSION = '1.2.3';
const METRIC = 'gateway_client_requests_total';

test('clientAwareness headers are sent, and the gateway counts the requests by client and version', async () => {
  const labels = { client: NAME, version: VERSION };
  const before = await metric(METRIC, labels);
  const counting = new CountingFetch();
  const client = appClient({ fetch: counting.fetch, clientAwareness: { name: NAME, version: VERSION } });
  await client.query({ query: doc('CustomersPage'), variables: { first: 2 }, fetchPolicy: 'network-only' });
  await client.query({ query: doc('CustomersPage'), variables: { first: 3 }, fetchPolicy: 'network-only' });
  assert.equal(counting.count, 2);
  for (const request of counting.requests) {
    assert.equal(request.headers['apollographql-client-name'], NAME);
    assert.equal(request.headers['apollographql-client-version'], VERSION);
  }
  const after = await untilMetric(METRIC, labels, (value) => value >= before + counting.count);
  assert.equal(after, before + counting.count, `${METRIC}{client="${NAME}",version="${VERSION}"}`);
  client.stop();
});

test("UploadHttpLink sends no client identity by itself; ClientAwarenessLink before it sends the client's", async () => {
  const labels = { client: NAME, version: VERSION };
  const upload = (fetch) => new UploadHttpLink({ uri: env('FRONTEND_GATEWAY_URL'), fetch, headers: { Authorization: `Bearer ${POLAR_TOKEN()}` } });
  const options = () => ({ cache: appCache(), clientAwareness: { name: NAME, version: VERSION } });

  const bare = new CountingFetch();
  const alone = new ApolloClient({ link: upload(bare.fetch), ...options() });
  await alone.query({ query: doc('CustomersPage'), variables: { first: 1 } });
  assert.equal(bare.requests[0].headers['apollographql-client-name'], undefined);

  const before = await metric(METRIC, labels);
  const aware = new CountingFetch();
  const composed = new ApolloClient({ link: new ClientAwarenessLink().concat(upload(aware.fetch)), ...options() });
  await composed.query({ query: doc('CustomersPage'), variables: { first: 1 } });
  assert.equal(aware.requests[0].headers['apollographql-client-name'], NAME);
  assert.equal(aware.requests[0].headers['apollographql-client-version'], VERSION);
  const after = await untilMetric(METRIC, labels, (value) => value >= before + 1);
  assert.equal(after, before + 1);
  alone.stop();
  composed.stop();
});
