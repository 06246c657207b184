/**
 * Failure reasons that need a worker in this process (an executor that fails, attempts already
 * used up), against the real broker, database and S3: each ends in exactly one failed result with
 * its own reason and a DLQ copy, and nothing that is not transient is retried.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LocalActiveMq } from '../../scripts/services/activemq';
import type { LocalMariaDb } from '../../scripts/services/mariadb';
import type { LocalS3 } from '../../scripts/services/s3';
import type { Executor } from '../../worker/src/executors/port';
import { BrokerSession } from '../../core/src/queue/session';
import { MysqlResultStore } from '../../core/src/results/mysqlStore';
import { S3Store } from '../../worker/src/storage/s3Store';
import { GradingWorker, requestFingerprint } from '../../worker/src/worker';
import { privateActiveMq, sharedMariaDb, sharedS3 } from '../helpers/services';
import { prepareRequest, readS3Text, s3Client, seedProblems } from '../helpers/workerHarness';

describe('grading worker: failure reasons', function () {
  this.timeout(120_000);
  let broker: LocalActiveMq;
  let db: LocalMariaDb;
  let s3: LocalS3;
  let session: BrokerSession;
  let probe: BrokerSession;
  let results: MysqlResultStore;
  let worker: GradingWorker;
  let cacheDir: string;
  let executorCalls = 0;
  const logs: Array<{ msg: string; fields: Record<string, unknown> }> = [];
  const published: Array<Record<string, unknown>> = [];
  const deadLettered: Array<Record<string, string>> = [];

  // A bug in the executor (not ExecutorUnavailableError): an internal error, not a transient one.
  const broken: Executor = {
    name: 'broken',
    execute: async () => {
      executorCalls++;
      throw new TypeError("Cannot read properties of undefined (reading 'stdout')");
    },
    close: async () => undefined,
  };

  const resultOf = async (requestId: string) => {
    const deadline = Date.now() + 30_000;
    while (!published.some((r) => r.requestId === requestId)) {
      if (Date.now() > deadline) throw new Error(`no result for ${requestId}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return published.filter((r) => r.requestId === requestId);
  };

  before(async () => {
    [broker, db, s3] = await Promise.all([privateActiveMq('failure-reasons'), sharedMariaDb(), sharedS3()]);
    await seedProblems(s3);
    [session, probe] = await Promise.all([0, 1].map(() => BrokerSession.open(broker.connectOptions())));
    const { ca } = db.connectionOptions().ssl;
    results = await MysqlResultStore.connect({
      host: '127.0.0.1',
      port: db.port,
      database: db.database,
      user: db.username,
      password: db.password,
      ca,
    });
    cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'failure-reasons-'));
    probe.subscribe('/queue/grading-results', (body) => published.push(JSON.parse(body)));
    probe.subscribe('/queue/grading-dlq', (_body, headers) => deadLettered.push(headers));
    worker = new GradingWorker(
      {
        session,
        results,
        executor: broken,
        s3: new S3Store({ bucket: s3.bucket, cacheDir, client: s3Client(s3) }),
        log: (_level, msg, fields = {}) => logs.push({ msg, fields }),
      },
      {
        environment: 'test',
        concurrency: 1,
        maxAttempts: 2,
        destinations: {
          requests: '/queue/grading-requests',
          priority: '/queue/grading-priority',
          results: '/queue/grading-results',
          dlq: '/queue/grading-dlq',
          progress: '/topic/grading-progress',
        },
        retry: { attempts: 3, initialDelayMs: 10, maxDelayMs: 20 },
      },
    );
    worker.start();
  });

  after(async () => {
    await worker?.stop(2000);
    await Promise.all([session?.close(), probe?.close(), results?.close()]);
    if (cacheDir) fs.rmSync(cacheDir, { recursive: true, force: true });
  });

  it('fails an unexpected error at once as internal-error, without retries', async () => {
    const request = await prepareRequest(s3, { problemId: 'sum', language: 'python', source: 'print(1)\n# internal\n' });
    await probe.send('/queue/grading-requests', JSON.stringify(request), { persistent: 'true' });
    const [result] = await resultOf(request.requestId);
    assert.equal(result.status, 'failed');
    assert.equal(result.reason, 'internal-error');
    assert.match(String(result.error), /reading 'stdout'/);
    assert.equal(executorCalls, 1, 'graded once, not retried');
    assert.deepEqual(
      logs.filter((l) => l.msg === 'transient failure; retrying'),
      [],
    );
    assert.equal(deadLettered.find((h) => h['correlation-id'] === request.requestId)?.grading_error_reason, 'internal-error');
    assert.equal(JSON.parse(await readS3Text(s3, `results/${request.requestId}/result.json`)).reason, 'internal-error');
  });

  it('fails a request delivered more than maxAttempts times with max-attempts-exceeded, once', async () => {
    const source = 'print(2)\n# attempts\n';
    const request = await prepareRequest(s3, { problemId: 'sum', language: 'python', source });
    // Two earlier deliveries that never finished (the worker died on them).
    const sourceSha256 = createHash('sha256').update(source).update('\0').digest('hex');
    const meta = { requestId: request.requestId, requestHash: requestFingerprint(request), sourceSha256 };
    await results.beginAttempt(meta);
    await results.beginAttempt(meta);
    const calls = executorCalls;
    await probe.send('/queue/grading-requests', JSON.stringify(request), { persistent: 'true' });
    const [result] = await resultOf(request.requestId);
    assert.equal(result.reason, 'max-attempts-exceeded');
    assert.match(String(result.error), /delivered 3 times/);
    assert.equal(executorCalls, calls, 'not run again');
    assert.equal(deadLettered.find((h) => h['correlation-id'] === request.requestId)?.grading_error_reason, 'max-attempts-exceeded');
    assert.equal((await results.getRecord(request.requestId))?.status, 'failed');
  });
});
