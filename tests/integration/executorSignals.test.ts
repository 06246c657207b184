/**
 * The worker's executor signals, from the real worker process with the Judge0 executor against a
 * server following Judge0's API: its heartbeat's ExecutorHealthy metric follows Judge0's /workers,
 * and a request that finds Judge0 down prints ExecutorUnavailable until Judge0 is back and it is
 * graded. These are the metrics the executor-unavailable and judge0-unhealthy alarms watch.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Judge0TestServer, startJudge0TestServer } from '../helpers/judge0TestServer';
import { privateActiveMq, sharedMariaDb, sharedS3 } from '../helpers/services';
import { connectTo } from '../helpers/stompProbe';
import { dbRows, prepareRequest, seedProblems, startWorker, WorkerProcess } from '../helpers/workerHarness';

/** The EMF lines (CloudWatch Embedded Metric Format) the worker printed so far. */
function emf(output: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('worker executor signals (real worker, Judge0 API server)', function () {
  this.timeout(180_000);
  let judge0: Judge0TestServer;
  let worker: WorkerProcess;
  let workRoot: string;

  before(async function () {
    this.timeout(120_000);
    workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'executor-signals-'));
    judge0 = await startJudge0TestServer({ authToken: 'signal-token', uidBase: 62700 });
  });

  after(async () => {
    await worker?.stop('SIGKILL');
    await judge0?.close();
    if (workRoot) fs.rmSync(workRoot, { recursive: true, force: true });
  });

  it('reports Judge0 down and the requests held for it, then recovers', async () => {
    const [broker, db, s3] = await Promise.all([privateActiveMq('executor-signals'), sharedMariaDb(), sharedS3()]);
    await seedProblems(s3);
    worker = await startWorker(
      { broker, db, s3 },
      {
        EXECUTOR: 'judge0',
        JUDGE0_ENDPOINT: judge0.baseUrl,
        JUDGE0_AUTH_TOKEN: 'signal-token',
        HEARTBEAT_INTERVAL_MS: '300',
        ENVIRONMENT: 'signals',
      },
    );
    const health = () => emf(worker.output()).filter((m) => 'ExecutorHealthy' in m);
    await eventually('healthy heartbeat', () => health().some((m) => m.ExecutorHealthy === 1));
    assert.deepEqual(health()[0].Environment, 'signals');

    await judge0.stop();
    await eventually('unhealthy heartbeat', () => health().some((m) => m.ExecutorHealthy === 0));
    assert.match(
      String(health().find((m) => m.ExecutorHealthy === 0)!.detail),
      /^Judge0 unreachable at http:\/\/127\.0\.0\.1:\d+\/workers/,
    );

    const request = await prepareRequest(s3, {
      problemId: 'sum',
      language: 'python',
      source: 'a, b = map(int, input().split())\nprint(a + b)\n',
    });
    const conn = await connectTo(broker);
    await conn.send('/queue/grading-requests', JSON.stringify(request), { persistent: 'true' });
    await conn.close();
    await eventually('ExecutorUnavailable for the held request', () =>
      emf(worker.output()).some((m) => m.ExecutorUnavailable === 1 && m.requestId === request.requestId),
    );
    const unavailable = emf(worker.output()).find((m) => m.ExecutorUnavailable === 1)!;
    assert.deepEqual((unavailable._aws as { CloudWatchMetrics: unknown[] }).CloudWatchMetrics, [
      { Namespace: 'GradingStack/Worker', Dimensions: [['Environment']], Metrics: [{ Name: 'ExecutorUnavailable', Unit: 'Count' }] },
    ]);

    await judge0.start();
    await eventually('graded once Judge0 is back', async () => (await dbRows(db, request.requestId))[0]?.status === 'completed', 120_000);
    const seen = health().length;
    await eventually('healthy again', () =>
      health()
        .slice(seen)
        .some((m) => m.ExecutorHealthy === 1),
    );
  });
});
