// The Voucherify CSV import sent as an app sends a file: apollo-upload-client's UploadHttpLink (a GraphQL
// multipart request) with the headers the gateway admits an upload on (Voucherify's server keys, and
// Apollo-Require-Preflight against cross-site forms). The answer is an async action; once it is done, the
// imported customers are there to read through the same client.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApolloClient, CombinedGraphQLErrors } from '@apollo/client';
import UploadHttpLink from 'apollo-upload-client/UploadHttpLink.mjs';
import { CountingFetch, VOUCHERIFY_KEYS, appCache, doc, env } from './lib.mjs';

const IMPORT = doc('CustomersImport');
const ASYNC_ACTION = doc('AsyncAction');
const BY_SOURCE = doc('VoucherifyCustomerBySource');

function uploadClient(headers, fetch) {
  return new ApolloClient({
    link: new UploadHttpLink({ uri: env('FRONTEND_GATEWAY_URL'), headers, fetch }),
    cache: appCache(),
  });
}

test('UploadHttpLink imports a CSV: an async action, then the customers it made', async () => {
  const run = `fe${process.pid}x${Date.now()}`;
  const rows = [[`${run}_1`, 'Frontend Import One', `${run}.one@example.com`], [`${run}_2`, 'Frontend Import Two', `${run}.two@example.com`]];
  const csv = ['Source_id,Name,Email', ...rows.map((row) => row.join(','))].join('\n') + '\n';
  const counting = new CountingFetch();
  const client = uploadClient({ ...VOUCHERIFY_KEYS(), 'Apollo-Require-Preflight': 'true' }, counting.fetch);

  const file = new File([csv], 'customers.csv', { type: 'text/csv' });
  const { data } = await client.mutate({ mutation: IMPORT, variables: { file } });
  const payload = data.voucherifyCustomersImport;
  assert.deepEqual(payload.userErrors, []);
  assert.match(payload.asyncAction.id, /^aa_/);
  assert.equal(payload.asyncAction.type, 'CUSTOMERS.IMPORT_CSV');
  assert.equal(counting.requests.length, 1);
  assert.equal(counting.requests[0].multipart, true, 'the file went as a GraphQL multipart request');

  // The gateway waits for the action up to waitSeconds; ask again until it is done (each answer is awaited).
  let action;
  do {
    ({ data: { voucherifyAsyncAction: action } } = await client.query({
      query: ASYNC_ACTION, variables: { id: payload.asyncAction.id, wait: 5 }, fetchPolicy: 'network-only',
    }));
  } while (action.status === 'ENQUEUED' || action.status === 'IN_PROGRESS');
  assert.equal(action.status, 'DONE', JSON.stringify(action));
  assert.equal(action.result.done_count, rows.length, JSON.stringify(action.result));
  assert.equal(action.result.failed_count, 0, JSON.stringify(action.result));

  for (const [sourceId, name, email] of rows) {
    const { data: found } = await client.query({ query: BY_SOURCE, variables: { sourceId } });
    assert.deepEqual(
      { sourceId: found.voucherifyCustomer.sourceId, name: found.voucherifyCustomer.name, email: found.voucherifyCustomer.email },
      { sourceId, name, email },
    );
  }
  client.stop();
});

test('without Apollo-Require-Preflight the gateway refuses the upload, and nothing is imported', async () => {
  const client = uploadClient(VOUCHERIFY_KEYS());
  const file = new File(['Source_id,Name\nnever_imported,Nobody\n'], 'customers.csv', { type: 'text/csv' });
  await assert.rejects(client.mutate({ mutation: IMPORT, variables: { file } }), (error) => {
    if (CombinedGraphQLErrors.is(error)) {
      assert.match(error.errors[0].message, /Apollo-Require-Preflight/);
      return true;
    }
    // The gateway answers 400 before reading the body and closes the connection at once: Node's fetch, still
    // sending the body, then often sees the connection end (EPIPE, ECONNRESET) instead of the answer. Either
    // way the upload failed; any other error fails the test.
    assert.equal(error.message, 'fetch failed', String(error));
    assert.ok(['EPIPE', 'ECONNRESET'].includes(error.cause?.code), String(error.cause));
    return true;
  });
  const { data } = await client.query({ query: BY_SOURCE, variables: { sourceId: 'never_imported' } });
  assert.equal(data.voucherifyCustomer, null);
  client.stop();
});
