/**
 * The page while no worker runs: a submission waits, and within the gateway's presence window the
 * page says that no worker is taking submissions; once a worker starts, the same submission is
 * graded and the verdict replaces the notice.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BrowserContext, chromium } from 'playwright-core';
import { seedProblems } from '../../scripts/local';
import { parseGatewayConfig } from '../../web/src/config';
import { E2E_GATEWAY_AUTH_ENV, tokenFor } from '../helpers/gatewayAuth';
import { RunningGateway, startGateway } from '../../web/src/wiring';
import { privateActiveMq, sharedMariaDb, sharedS3 } from '../helpers/services';
import { startWorker, WorkerProcess } from '../helpers/workerHarness';

const CHROMIUM = '/usr/bin/chromium';

describe('web page when no worker is taking submissions (headless Chromium)', function () {
  this.timeout(180_000);
  let gateway: RunningGateway;
  let worker: WorkerProcess | undefined;
  let context: BrowserContext;
  let profile: string;
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

  after(async function () {
    this.timeout(60_000);
    await context?.close().catch(() => undefined);
    if (profile) fs.rmSync(profile, { recursive: true, force: true });
    await worker?.stop('SIGKILL');
    await gateway?.close();
    for (const [name, value] of [
      ['AWS_ACCESS_KEY_ID', saved.id],
      ['AWS_SECRET_ACCESS_KEY', saved.secret],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('says so while the submission waits, then shows the verdict once a worker is back', async () => {
    if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/install-system-deps.sh`);
    const [broker, db, s3] = await Promise.all([privateActiveMq('no-worker-page'), sharedMariaDb(), sharedS3()]);
    // The gateway's S3 client reads credentials the standard way (env), as on AWS.
    process.env.AWS_ACCESS_KEY_ID = s3.env().AWS_ACCESS_KEY_ID;
    process.env.AWS_SECRET_ACCESS_KEY = s3.env().AWS_SECRET_ACCESS_KEY;
    await seedProblems(s3.env());
    gateway = await startGateway(
      parseGatewayConfig({
        ...broker.env(),
        ...db.env(),
        ...s3.env(),
        ...E2E_GATEWAY_AUTH_ENV,
        PORT: '0',
        HOST: '127.0.0.1',
        WORKER_PRESENCE_WINDOW_MS: '1000',
      }),
    );

    profile = fs.mkdtempSync(path.join(os.tmpdir(), 'chromium-profile-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
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
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(30_000);
    // Signed in as a site would sign its user in: the token in the URL fragment.
    await page.goto(`${gateway.url}/#access_token=${encodeURIComponent(await tokenFor('no-worker-user'))}`);
    await page.waitForSelector('#problem-select:not([disabled])');
    await page.selectOption('#problem-select', 'sum');
    await page.waitForSelector('#problem-description[data-problem="sum"]');
    await page.selectOption('#language-select', 'python');
    await page.fill('#source-code', 'a, b = map(int, input().split())\nprint(a + b)\n');
    await page.click('#submit-button');

    await page.waitForSelector('#verdict-detail[data-workers="none"]');
    assert.match((await page.textContent('#verdict-detail')) ?? '', /^No worker is taking submissions right now: yours is queued/);

    worker = await startWorker({ broker, db, s3 }, { HEARTBEAT_INTERVAL_MS: '300' });
    const verdict = await page.waitForSelector('#verdict[data-verdict]:not([data-verdict=""])', { timeout: 90_000 });
    assert.equal(await verdict.getAttribute('data-verdict'), 'AC');
    assert.doesNotMatch((await page.textContent('#verdict-detail')) ?? '', /No worker/);
  });
});
