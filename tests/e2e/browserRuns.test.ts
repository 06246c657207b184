/**
 * The page's "Run with custom input", its recent-submissions list and its waiting notice, in
 * headless Chromium (Debian's chromium, driven by playwright-core).
 * - Against the whole system (gateway, broker, worker with the sandbox, MariaDB, s3rver): Run shows
 *   the program's output and stderr; a runtime error on a public sample case shows the program's
 *   stderr in plain view (no hover), hidden cases do not; a reload lists the caller's submissions and
 *   one click shows a result again.
 * - Against the gateway's HTTP layer with a submission no worker takes while workers are up: the
 *   page says it is still waiting for a worker.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import { Gateway } from '../../web/src/server';
import type { ProblemSource, SubmissionService } from '../../web/src/ports';
import type { RunningGateway } from '../../web/src/wiring';
import { E2E_GATEWAY_AUTH_ENV, tokenFor, unitGatewayAuthDeps } from '../helpers/gatewayAuth';
import { E2eStack, startE2eStack } from './stack';

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = path.join(__dirname, '../../test-output');

async function launch(): Promise<{ context: BrowserContext; page: Page; profile: string; pageErrors: string[] }> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install-system-deps.sh (apt-get install -y chromium)`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-runs-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    viewport: { width: 1280, height: 900 },
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
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(60_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    // A failed request is reported below with its URL.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text());
  });
  page.on('response', (response) => {
    if (response.status() >= 400) pageErrors.push(`${response.status()} ${new URL(response.url()).pathname}`);
  });
  return { context, page, profile, pageErrors };
}

async function typeCode(page: Page, problemId: string, language: string, code: string): Promise<void> {
  await page.selectOption('#problem-select', problemId);
  await page.waitForSelector(`#problem-description[data-problem="${problemId}"]`);
  await page.selectOption('#language-select', language);
  await page.fill('#source-code', code);
}

describe('web page in headless Chromium: Run with custom input and recent submissions', function () {
  this.timeout(120_000);
  let stack: E2eStack;
  let gateway: RunningGateway;
  let browser: Awaited<ReturnType<typeof launch>>;
  let page: Page;

  before(async function () {
    this.timeout(240_000);
    stack = await startE2eStack('browser-runs');
    gateway = await stack.gateway(E2E_GATEWAY_AUTH_ENV);
    browser = await launch();
    page = browser.page;
    fs.mkdirSync(OUTPUT, { recursive: true });
    await page.goto(gateway.url);
    await page.fill('#login-user', 'runs_student');
    await page.click('#login-button');
    await page.waitForSelector('#problem-select:not([disabled])');
  });

  after(async function () {
    this.timeout(90_000);
    await browser?.context.close().catch(() => undefined);
    if (browser?.profile) fs.rmSync(browser.profile, { recursive: true, force: true });
    await stack?.stop();
  });

  it("runs the editor's program on the custom input and shows its output; markup in output stays text", async () => {
    assert.equal(await page.textContent('#history-state'), 'No submissions yet.');
    await typeCode(page, 'sum', 'python', 'a, b = map(int, input().split())\nprint(a + b)\nprint("<b>bold</b>")\n');
    await page.fill('#run-stdin', '40 2\n');
    await page.click('#run-button');
    await page.waitForSelector('#run-verdict[data-status="OK"]');
    assert.equal(await page.textContent('#run-stdout'), '42\n<b>bold</b>\n');
    assert.equal(await page.locator('#run-stdout b').count(), 0, 'output is shown as text');
    assert.equal(await page.isHidden('#run-stderr-block'), true);
    assert.match((await page.textContent('#run-detail')) ?? '', /\d+ ms · \d+ MB/);
    // A run is not a submission: nothing to grade, nothing in the list.
    assert.equal(await page.isHidden('#result'), true);
    assert.equal(await page.locator('#history-list li').count(), 0);
  });

  it("shows a run's runtime error with its stderr, and a compile error with the compiler output", async () => {
    await page.fill('#source-code', 'import sys\nprint("before")\nsys.stderr.write("boom: no input\\n")\nsys.exit(2)\n');
    await page.click('#run-button');
    await page.waitForSelector('#run-verdict[data-status="RE"]');
    assert.equal(await page.textContent('#run-stdout'), 'before\n');
    assert.equal(await page.textContent('#run-stderr'), 'boom: no input\n');
    assert.match((await page.textContent('#run-detail')) ?? '', /exit code 2/);
    await page.selectOption('#language-select', 'c');
    await page.fill('#source-code', 'int main( { return 0; }\n');
    await page.click('#run-button');
    await page.waitForSelector('#run-verdict[data-status="CE"]');
    assert.match((await page.textContent('#run-compile')) ?? '', /error/);
    await page.screenshot({ path: path.join(OUTPUT, 'browser-run.png'), fullPage: true });
  });

  it("shows a runtime error's stderr on a public sample case in plain view, and none on hidden cases", async () => {
    // slow-python: case 2 is the statement's sample (manifest "samples": [2]), case 1 is hidden.
    await typeCode(page, 'slow-python', 'python', 'n = int(input())\nraise ValueError("bad n %d" % n)\n');
    await page.click('#submit-button');
    await page.waitForSelector('#verdict[data-verdict="RE"]');
    const sample = page.locator('#case-2 .case-message');
    assert.equal(await sample.isVisible(), true, 'readable without hovering');
    assert.match((await sample.textContent()) ?? '', /exit code 1\nstderr: Traceback[\s\S]*ValueError: bad n 15/);
    const hidden = (await page.textContent('#case-1 .case-message')) ?? '';
    assert.equal(hidden, 'Runtime Error', 'a hidden case says only its verdict');
    await page.screenshot({ path: path.join(OUTPUT, 'browser-public-stderr.png'), fullPage: true });
  });

  it("lists the caller's submissions after a reload; one click shows a result again", async () => {
    const requestId = (await page.textContent('#request-id'))!;
    await page.reload();
    await page.waitForSelector(`#history-list button[data-request-id="${requestId}"]`);
    const item = page.locator(`#history-list button[data-request-id="${requestId}"]`);
    assert.match((await item.textContent()) ?? '', /RE 0\s*slow-python\s*python/);
    assert.equal(await page.isHidden('#result'), true);
    await item.click();
    await page.waitForSelector('#verdict[data-verdict="RE"]');
    assert.equal(await page.textContent('#request-id'), requestId);
    assert.match((await page.textContent('#case-2 .case-message')) ?? '', /ValueError: bad n 15/);
    assert.deepEqual(browser.pageErrors, []);
  });
});

describe('web page in headless Chromium: a submission no worker has started says so', function () {
  this.timeout(120_000);
  let gateway: Gateway;
  let browser: Awaited<ReturnType<typeof launch>>;

  before(async function () {
    const problems: ProblemSource = {
      list: async () => [{ id: 'sum', title: 'Sum' }],
      get: async (id) =>
        id === 'sum' ? { id, title: 'Sum', description: '# Sum', timeLimit: 1000, memoryLimit: 64, testCaseCount: 2 } : undefined,
      exists: async (id) => id === 'sum',
    };
    // Queued and never started: the stream stays open without events until the page leaves.
    const submissions: SubmissionService = {
      submit: async (input) => ({ requestId: input.requestId, status: 'submitted' }),
      lookup: async (requestId) => ({
        requestId,
        status: 'pending',
        userId: 'u',
        problemId: 'sum',
        language: 'python',
        submittedAt: new Date().toISOString(),
      }),
      events: async function* (_requestId, opts) {
        await new Promise((resolve) => opts.signal?.addEventListener('abort', resolve));
      },
    };
    const workers = () => ({
      status: 'ok' as const,
      workers: 1,
      message: 'workers are taking submissions',
      lastHeartbeatAt: new Date().toISOString(),
    });
    gateway = new Gateway({ submissions, problems, workers, health: async () => ({ ok: true, checks: {} }), ...unitGatewayAuthDeps() });
    await gateway.listen(0);
    browser = await launch();
  });

  after(async () => {
    await browser?.context.close().catch(() => undefined);
    if (browser?.profile) fs.rmSync(browser.profile, { recursive: true, force: true });
    await gateway?.close();
  });

  it('says "still waiting for a worker" once the submission waited past the threshold while workers are up', async () => {
    const { page } = browser;
    // The threshold (15 s by default) made short; the token handed over in the fragment, as a site does.
    await page.addInitScript(() => {
      (window as unknown as { gradingWaitNoticeMs: number }).gradingWaitNoticeMs = 1;
    });
    await page.goto(`${gateway.url}/#access_token=${await tokenFor('waiting_student')}`);
    await page.waitForSelector('#problem-select:not([disabled])');
    await page.click('#submit-button');
    await page.waitForSelector('#verdict-detail[data-workers="busy"]');
    assert.match((await page.textContent('#verdict-detail')) ?? '', /^Still waiting for a worker \(queued for \d+ s\)/);
    // The list shows it as pending.
    await page.waitForSelector('#history-list button .history-verdict');
    assert.equal(await page.textContent('#history-list button .history-verdict'), 'pending');
    // This stand-in gateway has no GitHub link routes (extras.js asks for the link state).
    assert.deepEqual(
      browser.pageErrors.filter((e) => e !== '404 /api/github/link'),
      [],
    );
  });
});
