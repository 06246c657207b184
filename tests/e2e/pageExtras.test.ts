/**
 * The page's extras in headless Chromium against the gateway's HTTP layer (stand-ins for the
 * grading back end): paste signals recorded in the editor go with the submission, only sizes and
 * counts; the GitHub panel shows the link state and, after an AC, the commit URL; the staff panel
 * shows signals, matches and clusters to staff only, as text.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BrowserContext, chromium, Page } from 'playwright-core';
import type { SubmissionSignals } from '../../core/src/similarity/signals';
import type { ApiRoutes, ProblemSource, SubmissionService } from '../../web/src/ports';
import { Gateway } from '../../web/src/server';
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
  const staffCalls: string[] = [];
  const XSS = '<img src=x onerror="window.__xss=1">';

  before(async function () {
    this.timeout(120_000);
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install-system-deps.sh`);
    const results = new Map<string, unknown>();
    const submissions: SubmissionService = {
      submit: async (input) => {
        results.set(input.requestId, {
          requestId: input.requestId,
          status: 'completed',
          timestamp: new Date().toISOString(),
          result: {
            verdict: 'AC',
            score: 100,
            executionTime: 5,
            memoryUsage: 3,
            testResults: [{ case: 1, status: 'AC', time: 5, memory: 3 }],
          },
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
      get: async (id) =>
        id === 'sum' ? { id, title: 'Sum', description: '# Sum', timeLimit: 1000, memoryLimit: 64, testCaseCount: 1 } : undefined,
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
            linked: true,
            repository: 'alice/solutions',
            pathTemplate: '{problemId}/{language}/solution.{ext}',
            status: 'active',
            linkedAt: '2026-01-01T00:00:00Z',
            commits: last
              ? [
                  {
                    requestId: last.requestId,
                    status: 'committed',
                    path: 'sum/python/solution.py',
                    url: 'https://github.com/alice/solutions/commit/abc',
                  },
                ]
              : [],
          },
        };
      },
    };
    // The staff routes' answers in the shape docs/similarity.md gives (StaffSignalRoutes is tested on its own);
    // other users' names carry markup, which the page must show as text.
    const staff: ApiRoutes = {
      handle: async (request) => {
        if (!request.pathname.startsWith('/api/staff/')) return undefined;
        staffCalls.push(request.pathname);
        const signals = /^\/api\/staff\/submissions\/([^/]+)\/signals$/.exec(request.pathname);
        if (signals) {
          return {
            status: 200,
            body: {
              requestId: signals[1],
              fingerprinted: true,
              threshold: 0.5,
              similarity: 'jaccard of winnowing fingerprint sets',
              signals: {
                pastes: [{ at: 4000, chars: 37, lines: 2 }],
                typingMs: 12000,
                edits: 41,
                summary: { pasteCount: 1, pastedChars: 37, largestPaste: 37, pastedShare: 0.5, typingMs: 12000, edits: 41 },
              },
              matches: [
                {
                  requestId: 'req_other',
                  userId: `mallory${XSS}`,
                  language: 'python',
                  similarity: 0.82,
                  containment: 0.9,
                  fragments: [{ lines: [3, 9], matchLines: [5, 11], fingerprints: 7 }],
                },
              ],
            },
          };
        }
        return {
          status: 200,
          body: {
            problemId: 'sum',
            threshold: 0.5,
            compared: 3,
            clusters: [
              {
                maxSimilarity: 0.82,
                members: [
                  { requestId: 'req_a', userId: 'bob', language: 'python' },
                  { requestId: 'req_b', userId: `eve${XSS}`, language: 'c' },
                ],
              },
            ],
          },
        };
      },
    };
    gateway = new Gateway({
      submissions,
      problems,
      health: async () => ({ ok: true, checks: {} }),
      routes: [github, staff],
      ...unitGatewayAuthDeps(),
      signals: { save: async (record) => void saved.push(record) },
    });
    await gateway.listen(0);
    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-extras-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      timeout: 60_000,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
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
    assert.deepEqual(
      signals.pastes.map((p) => [p.chars, p.lines]),
      [[pasted.length, 2]],
    );
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

  it('a non-staff user sees no staff panel and the page makes no /api/staff call', async () => {
    assert.deepEqual(staffCalls, []);
    assert.equal(await page.isHidden('#staff-panel'), true);
  });

  it('a staff user sees signals, matches and clusters, with markup from the API shown as text', async () => {
    await page.goto('about:blank');
    await page.goto(`${gateway.url}/#access_token=${encodeURIComponent(await tokenFor('carol', ['staff']))}`);
    await page.waitForSelector('#staff-panel:not([hidden])');
    await page.waitForSelector('#staff-clusters li');
    assert.ok(staffCalls.includes('/api/staff/problems/sum/clusters'), staffCalls.join(', '));
    const clusters = (await page.textContent('#staff-clusters')) ?? '';
    assert.ok(clusters.includes(`max similarity 82%: bob (req_a, python), eve${XSS} (req_b, c)`), clusters);

    await page.selectOption('#language-select', 'python');
    await page.fill('#source-code', 'print(sum(map(int, input().split())))\n');
    await page.click('#submit-button');
    await page.waitForSelector('#verdict[data-verdict="AC"]');
    const requestId = (await page.textContent('#request-id')) ?? '';
    await page.waitForSelector('#staff-matches li');
    assert.ok(staffCalls.includes(`/api/staff/submissions/${requestId}/signals`), staffCalls.join(', '));
    const signals = (await page.textContent('#staff-signals')) ?? '';
    assert.match(signals, /Pastes: 1, pasted 37 chars \(largest 37, 50% of the source\), typing 12 s, 41 edits/);
    assert.match(signals, /Paste sizes: 37 chars\/2 lines at 4 s/);
    const matches = (await page.textContent('#staff-matches')) ?? '';
    assert.match(matches, /similarity 82%, containment 90%/);
    assert.match(matches, /this lines 3-9 ~ theirs lines 5-11 \(7 fingerprints\)/);
    assert.ok(matches.includes(`mallory${XSS}`), matches);
    assert.equal(await page.locator('#staff-panel img').count(), 0);
    assert.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);

    // A request id typed in asks for that submission.
    await page.fill('#staff-request', 'req_typed');
    await page.click('#staff-form button');
    await page.waitForFunction(() => document.querySelector('#staff-signals')?.textContent?.includes('req_typed'));
    assert.ok(staffCalls.includes('/api/staff/submissions/req_typed/signals'));
    assert.deepEqual(pageErrors, []);
  });
});
