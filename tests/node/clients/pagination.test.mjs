// Pagination as an app pages the gateway's Relay connections: relayStylePagination on an InMemoryCache, and
// fetchMore to the end, forwards (first/after) and backwards (last/before). The merged list in the cache must
// hold every Demo customer exactly once, in the connection's order, each a normalized Customer entry.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NetworkStatus } from '@apollo/client';
import { CountingFetch, Watch, allCustomerIds, appClient, doc, env } from './lib.mjs';

const PAGE = 25;
const CUSTOMERS_PAGE = doc('CustomersPage');

/** A result of the watched query that is complete, settled (no fetch in flight) and shows `edges` customers. */
const settled = (edges) => (result) =>
  result.dataState === 'complete' && result.networkStatus === NetworkStatus.ready
  && result.data.customers.edges.length === edges;

/** Watches the first page, then fetchMore until `more(pageInfo)` is false. After each page the cache holds
 * the merged list (read at once), and the watched query shows it; the merged connection and pages fetched. */
async function pageThrough(client, firstVariables, nextVariables, more) {
  const observable = client.watchQuery({ query: CUSTOMERS_PAGE, variables: firstVariables });
  const watch = new Watch(observable);
  try {
    let current = await watch.until((result) => result.dataState === 'complete', 'the first page');
    let fetches = 1;
    while (more(current.data.customers.pageInfo)) {
      const shown = current.data.customers.edges.length;
      const page = await observable.fetchMore({ variables: nextVariables(current.data.customers.pageInfo) });
      fetches += 1;
      const merged = shown + page.data.customers.edges.length;
      const cached = client.readQuery({ query: CUSTOMERS_PAGE, variables: firstVariables });
      assert.equal(cached.customers.edges.length, merged, `page ${fetches} was not merged into the cached list`);
      current = await watch.until(settled(merged), `the watched query showing ${merged} customers`);
    }
    return { connection: current.data.customers, fetches };
  } finally {
    watch.stop();
  }
}

function assertEveryCustomerOnce(client, connection, expected) {
  const ids = connection.edges.map((edge) => edge.node.id);
  assert.equal(new Set(ids).size, ids.length, 'a customer came twice');
  assert.deepEqual(ids, expected, 'the merged list is not the connection, in order');
  assert.equal(connection.totalCount, expected.length);
  const cache = client.cache.extract();
  for (const id of expected) {
    assert.equal(cache[`Customer:${id}`]?.id, id, `Customer:${id} is not a normalized entry of the cache`);
  }
  // The root field holds references to the normalized entries, not copies.
  const root = Object.entries(cache.ROOT_QUERY).filter(([key]) => key.startsWith('customers'));
  assert.equal(root.length, 1, `one cached customers list, whatever the page arguments: ${root.map(([key]) => key)}`);
  const refs = root[0][1].edges.map((edge) => edge.node.__ref);
  assert.deepEqual(refs, expected.map((id) => `Customer:${id}`));
}

test('fetchMore with first/after to the end holds every customer once, in order, in the normalized cache', async () => {
  const expected = await allCustomerIds();
  assert.equal(expected.length, Number(env('FRONTEND_DEMO_CUSTOMERS')), "not the sandbox seed's Demo customers");
  const counting = new CountingFetch();
  const client = appClient({ fetch: counting.fetch });
  const { connection, fetches } = await pageThrough(
    client,
    { first: PAGE },
    (pageInfo) => ({ first: PAGE, after: pageInfo.endCursor }),
    (pageInfo) => pageInfo.hasNextPage,
  );
  assert.equal(fetches, Math.ceil(expected.length / PAGE));
  assert.equal(counting.count, fetches, 'one request a page');
  assert.equal(connection.pageInfo.hasNextPage, false);
  assert.equal(connection.pageInfo.hasPreviousPage, false);
  assertEveryCustomerOnce(client, connection, expected);
  client.stop();
});

test('fetchMore with last/before to the start holds every customer once, in order, in the normalized cache', async () => {
  const expected = await allCustomerIds();
  const counting = new CountingFetch();
  const client = appClient({ fetch: counting.fetch });
  const { connection, fetches } = await pageThrough(
    client,
    { last: PAGE },
    (pageInfo) => ({ last: PAGE, before: pageInfo.startCursor }),
    (pageInfo) => pageInfo.hasPreviousPage,
  );
  assert.equal(fetches, Math.ceil(expected.length / PAGE));
  assert.equal(counting.count, fetches, 'one request a page');
  assert.equal(connection.pageInfo.hasPreviousPage, false);
  assert.equal(connection.pageInfo.hasNextPage, false);
  assertEveryCustomerOnce(client, connection, expected);
  client.stop();
});
