// A subscriber on the graphql-ws client (the graphql-transport-ws protocol's reference implementation), as a
// frontend would run it: `createClient` over Node's `ws`, the token in connectionParams.
//
//   LIVE_TOKEN=<token> node live-subscriber.mjs --url ws://127.0.0.1:PORT/graphql --query 'subscription { ... }' \
//     [--variables '{"id": "..."}'] [--events 1] [--timeout-ms 20000]
//
// The token comes from the environment (LIVE_TOKEN), not the command line, where any process could read it;
// without it, connectionParams are left out altogether.
//
// Standard output: each `next` payload ({data, errors?}) as one JSON line, nothing else. Standard error: what
// happened to the connection, one JSON line each ({"connected": true}, {"closed": {code, reason}},
// {"error": ...}, {"timeout": ms}). Exit status: 0 after --events payloads, 1 when the subscription fails or
// completes first, 2 when --timeout-ms passes first. The client never retries: a test sees every close.
import { parseArgs } from 'node:util';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const { values: options } = parseArgs({
  options: {
    url: { type: 'string' },
    query: { type: 'string' },
    variables: { type: 'string', default: '{}' },
    events: { type: 'string', default: '1' },
    'timeout-ms': { type: 'string', default: '20000' },
  },
});
if (!options.url || !options.query) {
  process.stderr.write('usage: node live-subscriber.mjs --url WS_URL --query DOCUMENT [--variables JSON] '
    + '[--events N] [--timeout-ms MS]\n');
  process.exit(64);
}
const wanted = Number(options.events);
const timeoutMs = Number(options['timeout-ms']);
const token = process.env.LIVE_TOKEN;

const report = (entry) => process.stderr.write(`${JSON.stringify(entry)}\n`);
const describe = (error) => {
  if (error && typeof error === 'object' && 'code' in error && 'reason' in error) {
    return { code: error.code, reason: String(error.reason) }; // a CloseEvent
  }
  if (Array.isArray(error)) return { graphql: error }; // GraphQL errors of an `error` message
  return { message: String(error?.message ?? error) };
};

const client = createClient({
  url: options.url,
  webSocketImpl: WebSocket,
  ...(token === undefined ? {} : { connectionParams: { Authorization: `Bearer ${token}` } }),
  retryAttempts: 0,
  shouldRetry: () => false,
  on: {
    connected: () => report({ connected: true }),
    closed: (event) => report({ closed: describe(event) }),
  },
});

let received = 0;
let finished = false;
const finish = async (status) => {
  if (finished) return;
  finished = true;
  clearTimeout(timer);
  await client.dispose();
  process.exitCode = status;
};
const timer = setTimeout(() => {
  report({ timeout: timeoutMs, received });
  finish(2);
}, timeoutMs);

client.subscribe(
  { query: options.query, variables: JSON.parse(options.variables) },
  {
    next: (payload) => {
      if (finished) return;
      process.stdout.write(`${JSON.stringify(payload)}\n`);
      received += 1;
      if (received >= wanted) finish(0);
    },
    error: (error) => {
      if (finished) return;
      report({ error: describe(error) });
      finish(1);
    },
    complete: () => {
      if (!finished && received < wanted) {
        report({ error: { message: `completed after ${received} of ${wanted} events` } });
        finish(1);
      }
    },
  },
);
