/**
 * Health that tells the truth: the real worker (child process) publishes heartbeats through the
 * real broker; the gateway's /api/workers, /health and the page's notice say "no worker is taking
 * submissions" once it is killed, and at once when it shuts down cleanly.
 */
import assert from 'node:assert/strict';
import type { LocalActiveMq } from '../../scripts/services/activemq';
import type { LocalMariaDb } from '../../scripts/services/mariadb';
import type { LocalS3 } from '../../scripts/services/s3';
import { parseGatewayConfig } from '../../web/src/config';
import { bearer, E2E_GATEWAY_AUTH_ENV } from '../helpers/gatewayAuth';
import type { WorkerPresenceReport } from '../../web/src/workerPresence';
import { RunningGateway, startGateway } from '../../web/src/wiring';
import { privateActiveMq, sharedMariaDb, sharedS3 } from '../helpers/services';
import { startWorker } from '../helpers/workerHarness';

async function waitFor<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: still ${JSON.stringify(last)} after ${timeoutMs} ms`);
}

describe('worker presence (heartbeats through the real broker)', function () {
  this.timeout(120_000);
  let services: { broker: LocalActiveMq; db: LocalMariaDb; s3: LocalS3 };
  const gateways: RunningGateway[] = [];

  const gateway = async (windowMs: number) => {
    const { broker, db, s3 } = services;
    const running = await startGateway(
      parseGatewayConfig({
        ...broker.env(),
        ...db.env(),
        ...s3.env(),
        ...E2E_GATEWAY_AUTH_ENV,
        PORT: '0',
        HOST: '127.0.0.1',
        WORKER_PRESENCE_WINDOW_MS: String(windowMs),
      }),
    );
    gateways.push(running);
    return running;
  };
  const workers = async (g: RunningGateway) =>
    (await (await fetch(`${g.url}/api/workers`, { headers: await bearer('presence-user') })).json()) as WorkerPresenceReport;

  before(async function () {
    this.timeout(240_000);
    const [broker, db, s3] = await Promise.all([privateActiveMq('presence'), sharedMariaDb(), sharedS3()]);
    services = { broker, db, s3 };
  });
  after(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    await services?.broker.stop();
  });

  it('reports the worker while it beats and "no worker is taking submissions" once it is killed', async () => {
    const g = await gateway(1500);
    const worker = await startWorker(services, { HEARTBEAT_INTERVAL_MS: '300' });
    try {
      const up = await waitFor(
        'worker seen',
        () => workers(g),
        (r) => r.status === 'ok',
      );
      assert.equal(up.workers, 1);
      assert.match(up.message, /1 worker\(s\) taking submissions/);
      await worker.stop('SIGKILL');
      const gone = await waitFor(
        'worker gone',
        () => workers(g),
        (r) => r.status === 'none',
      );
      assert.match(gone.message, /^no worker is taking submissions/);
      const health = await (await fetch(`${g.url}/health`)).json();
      assert.equal(health.workers.status, 'none');
    } finally {
      await worker.stop('SIGKILL');
    }
  });

  it('drops a worker that shuts down cleanly at once, long before its window ends', async () => {
    const g = await gateway(600_000);
    const worker = await startWorker(services, { HEARTBEAT_INTERVAL_MS: '300' });
    await waitFor(
      'worker seen',
      () => workers(g),
      (r) => r.status === 'ok',
    );
    await worker.stop('SIGTERM');
    const gone = await waitFor(
      'worker gone',
      () => workers(g),
      (r) => r.status !== 'ok',
    );
    assert.equal(gone.status, 'none');
  });
});
