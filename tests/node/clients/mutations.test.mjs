// Mutations and the normalized cache: a customerUpdate's answer updates the Customer entry that a watched
// query shows, with no request but the mutation's; a user's mistake is data (userErrors), not an exception;
// a missing or refused token is an error with extensions.code UNAUTHENTICATED (CombinedGraphQLErrors).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CountingFetch, Watch, allCustomerIds, appClient, doc, errorCodes } from './lib.mjs';

const CUSTOMER = doc('Customer');
const CUSTOMERS_PAGE = doc('CustomersPage');
const RENAME = doc('CustomerRename');
const EMAIL_CHANGE = doc('CustomerEmailChange');

test("a mutation's answer updates the watched queries through the normalized cache, with no refetch", async () => {
  const [id] = await allCustomerIds();
  const counting = new CountingFetch();
  const client = appClient({ fetch: counting.fetch });
  // Two views of the same customer, as two components of an app: the customer itself and a page of the list.
  const one = new Watch(client.watchQuery({ query: CUSTOMER, variables: { id } }));
  const list = new Watch(client.watchQuery({ query: CUSTOMERS_PAGE, variables: { first: 5 } }));
  try {
    const before = await one.until((result) => result.dataState === 'complete', 'the customer');
    await list.until((result) => result.dataState === 'complete', 'the first page');
    const name = `Renamed ${process.pid}-${Date.now()}`;
    assert.notEqual(before.data.customer.name, name);
    const requestsBefore = counting.count;

    const { data } = await client.mutate({ mutation: RENAME, variables: { id, name } });
    assert.deepEqual(data.customerUpdate.userErrors, []);
    assert.equal(data.customerUpdate.customer.name, name);

    const shown = await one.until((result) => result.data?.customer?.name === name, `the customer named ${name}`);
    assert.equal(shown.data.customer.id, id);
    const listed = await list.until((result) => result.data?.customers.edges[0].node.name === name,
      `the page's first customer named ${name}`);
    assert.equal(listed.data.customers.edges[0].node.id, id);
    assert.equal(client.cache.extract()[`Customer:${id}`].name, name);
    const sent = counting.since(requestsBefore);
    assert.deepEqual(sent.map((request) => JSON.parse(request.body).operationName), ['CustomerRename'],
      'the watched queries were updated from the cache, not refetched');
  } finally {
    one.stop();
    list.stop();
    client.stop();
  }
});

test('a userError (an invalid email) arrives as data, and leaves the cached customer as it was', async () => {
  const [id] = await allCustomerIds();
  const client = appClient();
  const { data: before } = await client.query({ query: CUSTOMER, variables: { id } });
  const result = await client.mutate({ mutation: EMAIL_CHANGE, variables: { id, email: 'not-an-email' } });
  assert.equal(result.error, undefined);
  const payload = result.data.customerUpdate;
  assert.equal(payload.customer, null);
  assert.equal(payload.userErrors.length, 1, JSON.stringify(payload.userErrors));
  const [userError] = payload.userErrors;
  assert.deepEqual(userError.field, ['input', 'email']);
  assert.equal(userError.code, 'INVALID');
  assert.ok(userError.message.length > 0);
  assert.equal(client.cache.extract()[`Customer:${id}`].email, before.customer.email);
  client.stop();
});

for (const [caller, token] of [['no token', null], ['a token Polar refuses', 'polar_oat_not_a_real_token']]) {
  test(`a query with ${caller} fails with extensions.code UNAUTHENTICATED, as CombinedGraphQLErrors`, async () => {
    const client = appClient({ token });
    await assert.rejects(client.query({ query: CUSTOMERS_PAGE, variables: { first: 1 } }), (error) => {
      assert.deepEqual(errorCodes(error), ['UNAUTHENTICATED']);
      assert.deepEqual(error.errors[0].path, ['customers']);
      return true;
    });
    // errorPolicy 'all', as an app that renders what it can: the error beside null data, no exception.
    const result = await client.query({ query: CUSTOMERS_PAGE, variables: { first: 1 }, errorPolicy: 'all' });
    assert.deepEqual(errorCodes(result.error), ['UNAUTHENTICATED']);
    client.stop();
  });
}
