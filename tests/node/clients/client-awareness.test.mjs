// Client awareness: an ApolloClient built with `clientAwareness` sends apollographql-client-name and
// apollographql-client-version on every request, and the gateway counts requests by them in
// gateway_client_requests_total{client, version} on GET /metrics.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CountingFetch, appClient, doc, metric, untilMetric } from './lib.mjs';

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
