// What the frontend-client tests share: the servers' addresses from the environment (tests/frontend starts
// them), the suite's documents (documents/*.graphql, the same files the trusted-documents manifest is made
// from), a fetch that counts what a client sends, and Apollo Client 4 set up as an app sets it up.
//
// The tests wait for what they can observe (a watched query's next value, a metric reaching a value), never
// for a fixed time; node --test's --test-timeout (set by tests/frontend) bounds each test.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ApolloClient, CombinedGraphQLErrors, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';

/** An environment variable that tests/frontend sets; missing, the file was not started by pytest. */
export function env(name) {
  const value = process.env[name];
  assert.ok(value, `${name} is not set: run this suite through pytest (tests/frontend), which starts the servers`);
  return value;
}

export const POLAR_TOKEN = () => env('FRONTEND_POLAR_TOKEN');
export const VOUCHERIFY_KEYS = () => ({
  'X-Voucherify-App-Id': env('FRONTEND_VOUCHERIFY_APP_ID'),
  'X-Voucherify-App-Token': env('FRONTEND_VOUCHERIFY_APP_TOKEN'),
});

/** One of the suite's documents (documents/<name>.graphql), parsed as an app's gql tag parses it. */
export function doc(name) {
  return gql(readFileSync(new URL(`./documents/${name}.graphql`, import.meta.url), 'utf8'));
}

/** The cache policy an app gives the gateway's connections: one list per filter and sort, pages merged. */
export function appCache() {
  return new InMemoryCache({
    typePolicies: {
      Query: {
        fields: {
          customers: relayStylePagination(['filter', 'sortKey', 'reverse']),
          voucherifyCustomers: relayStylePagination(['filter', 'sortKey', 'reverse']),
        },
      },
    },
  });
}

/** A fetch for HttpLink that records each request (method, URL, body, bytes of URL plus body) and answer. */
export class CountingFetch {
  constructor() {
    this.requests = [];
    this.fetch = this.fetch.bind(this);
  }

  async fetch(input, init = {}) {
    const url = String(input instanceof Request ? input.url : input);
    const body = typeof init.body === 'string' ? init.body : undefined;
    const entry = {
      method: (init.method ?? 'GET').toUpperCase(),
      url,
      body,
      multipart: init.body instanceof FormData,
      headers: Object.fromEntries(new Headers(init.headers ?? {}).entries()),
      bytes: Buffer.byteLength(url) + (body === undefined ? 0 : Buffer.byteLength(body)),
      status: undefined,
    };
    this.requests.push(entry);
    const response = await fetch(input, init);
    entry.status = response.status;
    return response;
  }

  get count() {
    return this.requests.length;
  }

  since(mark) {
    return this.requests.slice(mark);
  }
}

/** An HttpLink to `uri` with the caller's token (null: no Authorization header) and a counting fetch. */
export function httpLink({ uri, token, fetch, headers = {} }) {
  return new HttpLink({
    uri,
    fetch,
    headers: { ...(token == null ? {} : { Authorization: `Bearer ${token}` }), ...headers },
  });
}

/** An Apollo Client over `link` (an HttpLink by default) with the app's cache policies. */
export function appClient({ uri = env('FRONTEND_GATEWAY_URL'), token = POLAR_TOKEN(), link, fetch, ...options } = {}) {
  return new ApolloClient({
    link: link ?? httpLink({ uri, token, fetch }),
    cache: appCache(),
    ...options,
  });
}

/** A GraphQL request with plain fetch (no Apollo): what the tests compare a client's view against. */
export async function plainGraphQL(query, variables = {}, { uri = env('FRONTEND_GATEWAY_URL'), token = POLAR_TOKEN() } = {}) {
  const response = await fetch(uri, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data;
}

/** Every customer id of the Demo organization, in the connection's order, read page by page with plain fetch. */
export async function allCustomerIds() {
  const ids = [];
  let after = null;
  for (;;) {
    const data = await plainGraphQL(
      'query AllIds($after: String) { customers(first: 100, after: $after) { totalCount nodes { id } pageInfo { hasNextPage endCursor } } }',
      { after },
    );
    ids.push(...data.customers.nodes.map((node) => node.id));
    if (!data.customers.pageInfo.hasNextPage) {
      assert.equal(ids.length, data.customers.totalCount);
      return ids;
    }
    after = data.customers.pageInfo.endCursor;
  }
}

/** One sample of the gateway's GET /metrics: the value of the line `name{labels}` whose labels include all of
 * `wanted` (in any order), or 0 when no line has them. */
export async function metric(name, wanted = {}, graphqlUrl = env('FRONTEND_GATEWAY_URL')) {
  const text = await (await fetch(new URL('/metrics', graphqlUrl))).text();
  let total = 0;
  for (const line of text.split('\n')) {
    const found = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/);
    if (!found || found[1] !== name) continue;
    const labels = Object.fromEntries([...(found[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(wanted).every(([key, value]) => labels[key] === value)) total += Number(found[3]);
  }
  return total;
}

/** Polls a metric until `wanted(value)` holds, for at most `withinMs` (then fails saying what it saw), as
 * tests/live_shared's until_metric does: a bound on waiting for something observable, not a measured time. */
export async function untilMetric(name, labels, wanted, graphqlUrl, withinMs = 10_000) {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await metric(name, labels, graphqlUrl);
    if (wanted(value)) return value;
    assert.ok(Date.now() < deadline, `${name}${JSON.stringify(labels)} stayed at ${value} for ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// The waits of Watch.until still pending. A wait for a value that never comes leaves nothing on the event loop,
// and node:test then fails the test with "Promise resolution is still pending": say what was awaited.
const pendingWaits = new Set();
process.on('beforeExit', () => {
  for (const { what, watch } of pendingWaits) {
    const latest = JSON.stringify(watch.latest?.data ?? watch.latest ?? null);
    console.error(`still waiting for ${what}; the last value seen: ${latest?.slice(0, 2000)}`);
  }
});

/** A subscription to `observable` (an ObservableQuery, or any rxjs-style source) that keeps every value it
 * emits, as an app's component stays subscribed; `until(predicate, what)` resolves with the first value,
 * already seen or still to come, for which the predicate holds, and rejects when the source fails. */
export class Watch {
  constructor(observable) {
    this.values = [];
    this.waiters = [];
    this.failure = undefined;
    this.subscription = observable.subscribe({
      next: (value) => {
        this.values.push(value);
        this.waiters = this.waiters.filter((waiter) => !waiter.offer(value));
      },
      error: (error) => {
        this.failure = error;
        for (const waiter of this.waiters) waiter.reject(error);
        this.waiters = [];
      },
    });
  }

  until(predicate, what = 'a value that the predicate takes') {
    const seen = this.values.findLast(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const pending = { what, watch: this };
      pendingWaits.add(pending);
      this.waiters.push({
        offer: (value) => {
          if (!predicate(value)) return false;
          pendingWaits.delete(pending);
          resolve(value);
          return true;
        },
        reject: (error) => {
          pendingWaits.delete(pending);
          reject(error);
        },
      });
    });
  }

  get latest() {
    return this.values.at(-1);
  }

  stop() {
    this.subscription.unsubscribe();
  }
}

/** The `extensions.code`s of an Apollo Client 4 error (CombinedGraphQLErrors), failing on any other kind. */
export function errorCodes(error) {
  assert.ok(CombinedGraphQLErrors.is(error), `not GraphQL errors: ${error?.name}: ${error}`);
  return error.errors.map((entry) => entry.extensions?.code);
}
