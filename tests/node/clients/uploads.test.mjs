// The Voucherify CSV import sent as an app sends a file: apollo-upload-client's UploadHttpLink (a GraphQL
// multipart request) with the headers the gateway admits an upload on (Voucherify's server keys, and
// Apollo-Require-Preflight against cross-site forms). The answer is an async action; once it is done, the
// imported customers are there to read through the same client.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import { ApolloClient, CombinedGraphQLErrors } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import UploadHttpLink from 'apollo-upload-client/UploadHttpLink.mjs';
import { CountingFetch, VOUCHERIFY_KEYS, appCache, doc, env } from './lib.mjs';

const IMPORT = doc('CustomersImport');
const ASYNC_ACTION = doc('AsyncAction');
const BY_SOURCE = doc('VoucherifyCustomerBySource');

function uploadClient(headers, fetch, { apq = false } = {}) {
  const upload = new UploadHttpLink({ uri: env('FRONTEND_GATEWAY_URL'), headers, fetch });
  const sha256 = (text) => createHash('sha256').update(text).digest('hex');
  return new ApolloClient({
    link: apq ? new PersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(upload) : upload,
    cache: appCache(),
  });
}

const csvFile = (sourceId, name) => new File([`Source_id,Name\n${sourceId},${name}\n`], 'customers.csv', { type: 'text/csv' });

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

test('without Apollo-Require-Preflight the gateway refuses the upload, says why every time, and nothing is imported', async () => {
  const client = uploadClient(VOUCHERIFY_KEYS());
  // The gateway answers before reading the body, then drops what still arrives of it before closing: closed at
  // once, the kernel's reset often reached fetch before the answer (EPIPE for about 1 refusal in 4).
  for (let attempt = 0; attempt < 12; attempt += 1) {
    await assert.rejects(client.mutate({ mutation: IMPORT, variables: { file: csvFile('never_imported', 'Nobody') } }), (error) => {
      assert.ok(CombinedGraphQLErrors.is(error), `attempt ${attempt}: ${error} (${error.cause?.code})`);
      assert.match(error.errors[0].message, /Apollo-Require-Preflight/);
      return true;
    });
  }
  const { data } = await client.query({ query: BY_SOURCE, variables: { sourceId: 'never_imported' } });
  assert.equal(data.voucherifyCustomer, null);
  client.stop();
});

test('behind the APQ link an upload goes hash-only first: the file is sent twice, then once', async () => {
  const counting = new CountingFetch();
  const client = uploadClient({ ...VOUCHERIFY_KEYS(), 'Apollo-Require-Preflight': 'true' }, counting.fetch, { apq: true });
  const run = `apq${process.pid}x${Date.now()}`;
  for (const sourceId of [`${run}_1`, `${run}_2`]) {
    const { data } = await client.mutate({ mutation: IMPORT, variables: { file: csvFile(sourceId, 'Apq Upload') } });
    assert.deepEqual(data.voucherifyCustomersImport.userErrors, []);
    assert.match(data.voucherifyCustomersImport.asyncAction.id, /^aa_/);
  }
  // The first import: the multipart request without the document (PersistedQueryNotFound), then with it;
  // the second: the hash alone, registered for these Voucherify keys by the first.
  assert.deepEqual(counting.requests.map((request) => [request.method, request.multipart, request.status]),
    [['POST', true, 404], ['POST', true, 200], ['POST', true, 200]]);
  client.stop();
});
