// Runs a subscription in the gateway's GraphiQL in headless Chromium (Debian's, driven by playwright-core):
// puts `customersChanged` in the query editor, runs it, and once the subscription is on the WebSocket,
// changes a customer with a `customerUpdate` mutation over HTTP (again until an event shows, in case the
// server had not yet started listening), waits for the event in the result pane and saves a screenshot.
// Then it stops the subscription and runs it again with another token in the Headers tab (the new
// connection carries it, Polar refuses it), then with none (the gateway refuses the connection). Prints one
// JSON line: what the page showed, every WebSocket message both ways, every URL requested, and any console
// error or failed request. Exits by itself within its timeout.
import { chromium } from 'playwright-core';

const url = process.env.GRAPHIQL_URL;
const token = process.env.TOKEN;
const otherToken = process.env.OTHER_TOKEN ?? 'polar_oat_not_a_token_of_this_organization';
const screenshot = process.env.SCREENSHOT;
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const timeout = Number(process.env.TIMEOUT_MS ?? 30000);

const SUBSCRIPTION = `subscription CustomerEvents {
  customersChanged {
    type
    customerId
    externalId
    occurredAt
    customer { id email }
  }
}
`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function graphql(query, variables) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(`${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
}

// Resolves when `test` passes, checking every 50 ms; rejects after `ms`.
async function until(test, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await test();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

// GraphiQL's editors are CodeMirror 5 instances, reachable from their element.
const QUERY_EDITOR = '.graphiql-query-editor .CodeMirror';
const HEADERS_EDITOR = '.graphiql-editor-tool .graphiql-editor'; // the last one; the first is Variables
const setEditor = (editor, text) => editor.evaluate((element, value) => element.CodeMirror.setValue(value), text);
const editorText = (editor) => editor.evaluate((element) => element.CodeMirror.getValue());

const browser = await chromium.launch({
  executablePath,
  timeout,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
const report = { requests: [], consoleErrors: [], failedRequests: [], sockets: [], mutations: 0 };
try {
  const { customers } = await graphql('{ customers(first: 1) { nodes { id email } } }');
  const customer = customers.nodes[0];
  report.customer = customer;

  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(timeout);
  page.on('request', (request) => report.requests.push(`${request.method()} ${request.url()}`));
  page.on('requestfailed', (request) => report.failedRequests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') report.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => report.consoleErrors.push(String(error)));
  page.on('websocket', (socket) => {
    const seen = { url: socket.url(), sent: [], received: [], closed: false };
    report.sockets.push(seen);
    const decode = (payload) => {
      try {
        return JSON.parse(payload);
      } catch {
        return { unreadable: String(payload) };
      }
    };
    socket.on('framesent', ({ payload }) => seen.sent.push(decode(payload)));
    socket.on('framereceived', ({ payload }) => seen.received.push(decode(payload)));
    socket.on('socketerror', (error) => (seen.error = String(error)));
    socket.on('close', () => (seen.closed = true));
  });
  const sent = (index, type) => report.sockets[index]?.sent.some((message) => message.type === type);

  const response = await page.goto(url);
  report.status = response.status();
  await page.locator('.graphiql-container').waitFor();
  const headersEditor = page.locator(HEADERS_EDITOR).last().locator('.CodeMirror');
  report.headersEditor = await editorText(headersEditor);

  // 1. The subscription, with the pre-filled headers: an event shows when the customer changes.
  const queryEditor = page.locator(QUERY_EDITOR);
  await setEditor(queryEditor, SUBSCRIPTION);
  // GraphiQL reads the operation 100 ms after an edit (debounced), as a developer would wait to click.
  await until(() => queryEditor.evaluate((e) => e.CodeMirror.operationName === 'CustomerEvents'), timeout, 'GraphiQL to read the edit');
  await sleep(200);
  await page.locator('.graphiql-execute-button').click();
  await until(() => sent(0, 'subscribe'), timeout, 'the subscribe message');
  const result = page.locator('.result-window');
  const shows = async (text) => (await result.innerText()).includes(text);
  await until(async () => {
    report.mutations += 1;
    const name = `Seen live in GraphiQL ${report.mutations}`;
    const data = await graphql(
      'mutation Rename($id: ID!, $name: String!) { customerUpdate(id: $id, input: { name: $name }) { userErrors { message } } }',
      { id: customer.id, name },
    );
    if (data.customerUpdate.userErrors.length) throw new Error(JSON.stringify(data.customerUpdate.userErrors));
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline) {
      if (await shows(customer.id)) return true;
      await sleep(50);
    }
    return false;
  }, timeout, 'the event in the result pane');
  await result.getByText('customersChanged').waitFor();
  await result.getByText(customer.email).first().waitFor();
  report.result = await result.innerText();
  report.executeButtonWhileSubscribed = await page.locator('.graphiql-execute-button').getAttribute('aria-label');
  await page.screenshot({ path: screenshot, fullPage: false });

  // 2. Stopped, the connection closes (graphql-ws's client is lazy).
  await page.locator('.graphiql-execute-button').click();
  await until(() => report.sockets[0].closed, timeout, 'the socket to close once stopped');

  report.consoleErrorsBeforeOtherToken = [...report.consoleErrors];

  // 3. Another token in the Headers tab, under a name of another case: the next connection carries it, as
  // "Authorization". The token is well formed, and the gateway proves it with Polar at connection_init: Polar
  // refuses it, so the connection is closed with 4403 and the reason, shown in the result pane.
  const { Authorization: _, ...otherHeaders } = JSON.parse(report.headersEditor);
  await setEditor(headersEditor, JSON.stringify({ AUTHORIZATION: `Bearer ${otherToken}`, ...otherHeaders }, null, 2));
  report.secondHeadersEditor = await editorText(headersEditor);
  await sleep(200);
  await page.locator('.graphiql-execute-button').click();
  await until(() => sent(1, 'connection_init'), timeout, 'a second connection');
  await until(() => report.sockets[1].closed, timeout, 'the second connection to end');
  await result.getByText('Polar refused this token').first().waitFor();
  report.secondResult = await result.innerText();

  // 4. No Authorization at all: the gateway closes the connection at connection_init (4403, with the
  // reason), and the result pane says so at once: a refused connection is not retried.
  await setEditor(headersEditor, JSON.stringify(otherHeaders, null, 2));
  await sleep(200);
  const clicked = Date.now();
  await page.locator('.graphiql-execute-button').click();
  await until(() => report.sockets[2]?.closed, timeout, 'the third connection to be closed');
  await result.getByText('4403').first().waitFor();
  report.refusedShownAfterMs = Date.now() - clicked;
  report.thirdResult = await result.innerText();
  await sleep(1500); // a retry would open a fourth connection after at least 1.3 s
  report.connections = report.sockets.length;
} catch (error) {
  report.error = String(error);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
