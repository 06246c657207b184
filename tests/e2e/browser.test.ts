/**
 * The web page in headless Chromium (Debian's chromium, driven by playwright-core) against the
 * whole system: log in through the gateway's local issuer, pick a problem, type code, submit,
 * watch the test cases and the verdict appear; a refused token sends the user back to log in.
 * Screenshots go to test-output/.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import type { RunningGateway } from '../../web/src/wiring';
import { FakeChatServer, startFakeChatServer } from '../helpers/fakeChatCompletions';
import { E2E_GATEWAY_AUTH_ENV } from '../helpers/gatewayAuth';
import { E2eStack, startE2eStack } from './stack';

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = path.join(__dirname, '../../test-output');
const SOLUTIONS = path.join(__dirname, '../../examples/solutions');

describe('web page in headless Chromium', function () {
  this.timeout(120_000);
  let stack: E2eStack;
  let gateway: RunningGateway;
  let profile: string;
  let context: BrowserContext;
  let page: Page;
  let chat: FakeChatServer;
  const pageErrors: string[] = [];
  const requestedUrls: string[] = [];

  before(async function () {
    this.timeout(240_000);
    if (!fs.existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: run scripts/install-system-deps.sh (apt-get install -y chromium)`);
    chat = await startFakeChatServer('sk-browser-test');
    stack = await startE2eStack('browser-e2e');
    gateway = await stack.gateway({
      ...E2E_GATEWAY_AUTH_ENV,
      REVIEW_BASE_URL: chat.baseUrl,
      REVIEW_MODEL: 'review-model',
      REVIEW_API_KEY: 'sk-browser-test',
    });
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-profile-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      timeout: 60_000,
      viewport: { width: 1280, height: 860 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('request', (request) => requestedUrls.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    fs.mkdirSync(OUTPUT, { recursive: true });
  });

  after(async function () {
    this.timeout(90_000);
    await context?.close().catch(() => undefined);
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
    await stack?.stop();
    await chat?.close();
  });

  async function submitAndWait(problemId: string, language: string, code: string): Promise<string> {
    await page.selectOption('#problem-select', problemId);
    await page.waitForSelector(`#problem-description[data-problem="${problemId}"]`);
    await page.selectOption('#language-select', language);
    await page.fill('#source-code', '');
    await page.click('#source-code');
    await page.keyboard.type(code, { delay: 0 });
    const previous = (await page.textContent('#request-id')) ?? '';
    await page.click('#submit-button');
    // follow() shows the new request id and resets the verdict in one step.
    await page.waitForFunction((old) => {
      const id = document.querySelector('#request-id')?.textContent ?? '';
      return id !== '' && id !== old;
    }, previous);
    const verdict = await page.waitForSelector('#verdict[data-verdict]:not([data-verdict=""])', { timeout: 60_000 });
    await page.waitForSelector('#submit-button:not([disabled])');
    return (await verdict.getAttribute('data-verdict'))!;
  }

  it('asks to log in, and logs in through the local issuer (a real token, verified by the gateway)', async () => {
    await page.goto(gateway.url);
    await page.waitForSelector('#login-form:not([hidden])');
    assert.equal(await page.isHidden('#app'), true, 'nothing but the login until signed in');
    assert.equal(await page.locator('#user-id').count(), 0, 'no user id box');
    await page.fill('#login-user', 'browser_student');
    await page.click('#login-button');
    await page.waitForSelector('#app:not([hidden])');
    assert.equal(await page.textContent('#who'), 'browser_student');
    const token = await page.evaluate(() => sessionStorage.getItem('grading.token'));
    assert.match(token ?? '', /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/, 'a signed JWT');
    await page.screenshot({ path: path.join(OUTPUT, 'browser-login.png'), fullPage: true });
  });

  it('shows the problems and the selected statement', async () => {
    await page.waitForSelector('#problem-select:not([disabled])');
    const options = await page.$$eval('#problem-select option', (os) => os.map((o) => (o as HTMLOptionElement).value));
    assert.deepEqual(options, ['any-pair', 'circle-area', 'guess-number', 'max-subarray', 'slow-python', 'sum', 'triangle-sum']);
    await page.selectOption('#problem-select', 'sum');
    await page.waitForFunction(() => document.querySelector('#problem-description h1')?.textContent === 'A + B');
    assert.match((await page.textContent('#problem-limits')) ?? '', /4 test cases/);
    const starter = await page.inputValue('#source-code');
    assert.ok(starter.length > 0, 'a starter program is offered');
  });

  it('submits an accepted solution and turns every test case green', async () => {
    const verdict = await submitAndWait('sum', 'python', 'a, b = map(int, input().split())\nprint(a + b)\n');
    assert.equal(verdict, 'AC');
    assert.equal(await page.locator('#cases .case.case-ok').count(), 4);
    assert.match((await page.textContent('#verdict')) ?? '', /Accepted/);
    assert.match((await page.textContent('#metric-time')) ?? '', /^\d+ ms$/);
    assert.match((await page.textContent('#metric-memory')) ?? '', /MB$/);
    // Live progress came over the event stream, opened with a ticket: the token never appears in a URL.
    const token = (await page.evaluate(() => sessionStorage.getItem('grading.token')))!;
    assert.ok(
      requestedUrls.some((u) => /\/api\/submissions\/req_\w+\/events\?ticket=[\w-]{43}$/.test(u)),
      requestedUrls.join('\n'),
    );
    assert.ok(!requestedUrls.some((u) => u.includes(token) || u.includes('access_token')), 'no bearer token in any URL');
    await page.screenshot({ path: path.join(OUTPUT, 'browser-verdict.png'), fullPage: true });
  });

  it('asks for a review of the graded code on request and shows it', async () => {
    assert.equal(chat.requests.length, 0, 'never automatic');
    chat.reply = '## Complexity\n- **O(1)** time and space.\n\n<script>window.reviewInjected = 1</script>';
    await page.click('#review-button');
    await page.waitForSelector('#review-text:not([hidden]) h2');
    assert.equal(await page.textContent('#review-text h2'), 'Complexity');
    assert.equal(await page.textContent('#review-text strong'), 'O(1)');
    assert.equal(
      await page.evaluate(() => (window as unknown as { reviewInjected?: number }).reviewInjected),
      undefined,
      'the review is rendered as text, not markup',
    );
    assert.match((await page.textContent('#review-status')) ?? '', /review-model/);
    assert.equal(chat.requests.length, 1);
    await page.screenshot({ path: path.join(OUTPUT, 'browser-review.png'), fullPage: true });
  });

  it('shows a wrong answer case by case, green and red', async () => {
    const code = fs.readFileSync(path.join(SOLUTIONS, 'circle-area/wrong-answer.py'), 'utf8');
    const verdict = await submitAndWait('circle-area', 'python', code);
    assert.equal(verdict, 'WA');
    assert.equal(await page.locator('#cases .case.case-ok').count(), 1);
    assert.equal(await page.locator('#cases .case.case-bad').count(), 3);
    // Failure details are on the page, not only in a tooltip (touch screens cannot hover).
    assert.equal(await page.locator('#cases .case.case-bad .case-message').count(), 3);
    assert.match((await page.locator('#cases .case.case-bad .case-message').first().textContent()) ?? '', /Wrong Answer/);
    assert.equal(await page.locator('#cases .case.case-ok .case-message').count(), 0);
    assert.match((await page.textContent('#verdict-detail')) ?? '', /1 \/ 4 test cases passed/);
    await page.screenshot({ path: path.join(OUTPUT, 'browser-verdict-wa.png'), fullPage: true });
    assert.deepEqual(pageErrors, [], 'no script errors or failed loads on the page');
  });

  it('sends the user back to log in when the gateway refuses the token (401)', async () => {
    // A token that no longer verifies, as after expiry or a secret rotation.
    await page.evaluate(() => sessionStorage.setItem('grading.token', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad'));
    await page.reload();
    await page.waitForSelector('#login-form:not([hidden])');
    assert.match((await page.textContent('#login-message')) ?? '', /log in again/i);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('grading.token')), null, 'the refused token is forgotten');
    assert.equal(await page.isHidden('#app'), true);
    // Logging in again restores the page.
    await page.fill('#login-user', 'browser_student');
    await page.click('#login-button');
    await page.waitForSelector('#problem-select:not([disabled])');
  });
});
