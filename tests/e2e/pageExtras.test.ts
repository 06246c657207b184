/**
 * The page's extras in headless Chromium against the gateway's HTTP layer (stand-ins for the
 * grading back end): paste signals recorded in the editor go with the submission, only sizes and
 * counts; the GitHub panel shows the link state and, after an AC, the commit URL.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import type { SubmissionSignals } from '../../worker/src/similarity/signals';
import type { ApiRoutes } from '../../web/src/extensions/routes';
import { Gateway, ProblemSource, SubmissionService } from '../../web/src/server';
import { tokenFor, unitGatewayAuthDeps } from '../helpers/gatewayAuth';

const CHROMIUM = '/usr/bin/chromium';

describe('page extras in headless Chromium: paste signals and GitHub link state', function () {
  this.timeout(120_000);
  let gateway: Gateway;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const saved: Array<{ requestId: string; signals: SubmissionSignals }> = [];
  const pageErrors: string[] = [];
  let linkCalls = 0;

  before(async function () {
    this.timeout(120_000);
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install-system-deps.sh`);
    const results = new Map<string, unknown>();
    const submissions: SubmissionService = {
      submit: async (input) => {
        results.set(input.requestId, {
          requestId: input.requestId, status: 'completed', timestamp: new Date().toISOString(),
          result: { verdict: 'AC', score: 100, executionTime: 5, memoryUsage: 3, testResults: [{ case: 1, status: 'AC', time: 5, memory: 3 }] },
        });
        return { requestId: input.requestId, status: 'submitted' };
      },
      lookup: async (id) => results.get(id) as never,
      events: async function* (requestId) {
        yield { type: 'final', id: 'f', requestId, result: results.get(requestId) } as never;
      },
    };
    const problems: ProblemSource = {
      list: async () => [{ id: 'sum', title: 'Sum' }],
      get: async (id) => (id === 'sum' ? { id, title: 'Sum', description: '# Sum', timeLimit: 1000, memoryLimit: 64, testCaseCount: 1 } : undefined),
      exists: async (id) => id === 'sum',
    };
    // The link route's answers as the page sees them once signed in (the route module is tested on its own).
    const github: ApiRoutes = {
      handle: async (request) => {
        if (request.pathname !== '/api/github/link') return undefined;
        linkCalls++;
        const last = saved[saved.length - 1];
        return {
          status: 200,
          body: {
            linked: true, repository: 'alice/solutions', pathTemplate: '{problemId}/{language}/solution.{ext}', status: 'active', linkedAt: '2026-01-01T00:00:00Z',
            commits: last ? [{ requestId: last.requestId, status: 'committed', path: 'sum/python/solution.py', url: 'https://github.com/alice/solutions/commit/abc' }] : [],
          },
        };
      },
    };
    gateway = new Gateway({
      submissions, problems, health: async () => ({ ok: true, checks: {} }), routes: [github], ...unitGatewayAuthDeps(),
      signals: { save: async (record) => void saved.push(record) },
    });
    await gateway.listen(0);
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-extras-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, timeout: 60_000,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
    await gateway?.close();
  });

  it('without sign-in the page asks to log in and the GitHub panel asks nothing', async () => {
    await page.goto(gateway.url);
    await page.waitForSelector('#login-panel:not([hidden])');
    assert.match((await page.textContent('#github-state')) ?? '', /Sign in/);
    assert.equal(linkCalls, 0);
  });

  it('sends paste sizes, typing time and edits with the submission; never the pasted text', async () => {
    // A site hands its signed-in user's token over in the URL fragment (never sent to a server).
    await page.goto('about:blank'); // a new document: a change of fragment alone would not reload the page
    await page.goto(`${gateway.url}/#access_token=${encodeURIComponent(await tokenFor('alice'))}`);
    await page.waitForSelector('#problem-select:not([disabled])');
    await page.selectOption('#language-select', 'python');
    await page.fill('#source-code', '');
    await page.click('#source-code');
    await page.keyboard.type('a, b = map(int, input().split())\n', { delay: 5 });
    const pasted = 'print(a + b)  # SECRET-PASTE-MARKER\n';
    await page.evaluate((text) => {
      const editor = document.querySelector('#source-code') as HTMLTextAreaElement;
      const data = new DataTransfer();
      data.setData('text/plain', text);
      editor.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
      editor.value += text; // what the browser's default action does
      editor.dispatchEvent(new Event('input', { bubbles: true }));
    }, pasted);
    await page.click('#submit-button');
    await page.waitForSelector('#verdict[data-verdict="AC"]');
    assert.equal(saved.length, 1);
    const signals = saved[0].signals;
    assert.deepEqual(signals.pastes.map((p) => [p.chars, p.lines]), [[pasted.length, 2]]);
    assert.ok(signals.edits >= 30, `edits ${signals.edits}`);
    assert.ok(signals.typingMs > 0);
    assert.ok(!JSON.stringify(signals).includes('SECRET-PASTE-MARKER'));
  });

  it('shows the link state and the commit URL after an AC', async () => {
    await page.click('#submit-button');
    await page.waitForSelector('#github-commit:not([hidden])');
    assert.equal(await page.getAttribute('#github-commit', 'href'), 'https://github.com/alice/solutions/commit/abc');
    assert.match((await page.textContent('#github-state')) ?? '', /Linked to alice\/solutions/);
    assert.deepEqual(pageErrors, []);
  });
});
