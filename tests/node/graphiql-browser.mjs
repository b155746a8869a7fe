// Opens the gateway's GraphiQL in headless Chromium (Debian's, driven by playwright-core), runs the
// pre-filled query with the pre-filled Authorization header, waits for the answer on the page, and
// saves a screenshot. Prints one JSON line: what the page showed, every URL it requested, and any
// console error or failed request. Exits by itself within its timeout.
import { chromium } from 'playwright-core';

const url = process.env.GRAPHIQL_URL;
const screenshot = process.env.SCREENSHOT;
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const timeout = Number(process.env.TIMEOUT_MS ?? 30000);

const browser = await chromium.launch({
  executablePath,
  timeout,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
const report = { requests: [], consoleErrors: [], failedRequests: [] };
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(timeout);
  page.on('request', (request) => report.requests.push(`${request.method()} ${request.url()}`));
  page.on('requestfailed', (request) => report.failedRequests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') report.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => report.consoleErrors.push(String(error)));

  const response = await page.goto(url);
  report.status = response.status();
  report.contentSecurityPolicy = response.headers()['content-security-policy'] ?? null;
  await page.locator('.graphiql-container').waitFor();
  report.title = await page.title();
  report.queryEditor = await page.locator('.graphiql-query-editor').innerText();
  report.headersEditor = await page.locator('.graphiql-editor-tool .graphiql-editor').last().innerText();

  await page.locator('.graphiql-execute-button').click();
  const result = page.locator('.result-window');
  await result.getByText('totalCount').waitFor();
  await result.getByText('activeSubscriptions').first().waitFor();
  report.result = await result.innerText();
  await page.screenshot({ path: screenshot, fullPage: false });
} catch (error) {
  report.error = String(error);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
