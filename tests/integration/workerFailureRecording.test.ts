/**
 * When the worker rejects a request but cannot store the failed result (database down), it must
 * neither dead-letter it (the request would end in the DLQ and later also get a result) nor hold
 * it unacknowledged: it hands the message back, and the broker redelivers it.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Executor } from '../../worker/src/executors/port';
import { BrokerSession } from '../../core/src/queue/session';
import { MysqlResultStore } from '../../core/src/results/mysqlStore';
import { S3Store } from '../../worker/src/storage/s3Store';
import { GradingWorker } from '../../worker/src/worker';
import { privateActiveMq, sharedMariaDb, sharedS3 } from '../helpers/services';
import { prepareRequest, s3Client } from '../helpers/workerHarness';

const never: Executor = {
  name: 'never',
  execute: () => Promise.reject(new Error('the executor must not be reached: the test cases do not exist')),
  close: async () => undefined,
};

describe('grading worker: a failure it cannot record', function () {
  this.timeout(60_000);

  it('is returned to the broker for redelivery, not dead-lettered and not held', async () => {
    const [broker, db, s3] = await Promise.all([
      privateActiveMq('failure-recording', {
        broker: { maximumRedeliveries: 5, initialRedeliveryDelayMs: 1100, maximumRedeliveryDelayMs: 1200 },
      }),
      sharedMariaDb(),
      sharedS3(),
    ]);
    const session = await BrokerSession.open(broker.connectOptions());
    const probe = await BrokerSession.open(broker.connectOptions());
    const { user, ssl, ...server } = db.connectionOptions();
    const results = await MysqlResultStore.connect({ ...server, user, ca: ssl.ca });
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'failure-recording-'));
    const saveAttempts: string[] = [];
    results.saveResult = async (meta) => {
      saveAttempts.push(meta.requestId);
      throw new Error('database unavailable (injected)');
    };
    const workerDeadLetters: Array<Record<string, string>> = [];
    probe.subscribe('/queue/grading-dlq', (_body, headers) => {
      if (headers['x-error-reason']) workerDeadLetters.push(headers);
    });
    const worker = new GradingWorker(
      { session, results, executor: never, s3: new S3Store({ bucket: s3.bucket, cacheDir, client: s3Client(s3) }), log: () => undefined },
      {
        environment: 'test',
        concurrency: 1,
        maxAttempts: 10,
        destinations: {
          requests: '/queue/grading-requests',
          priority: '/queue/grading-priority',
          results: '/queue/grading-results',
          dlq: '/queue/grading-dlq',
          progress: '/topic/grading-progress',
        },
        retry: { attempts: 1, initialDelayMs: 10, maxDelayMs: 10 },
      },
    );
    try {
      const request = await prepareRequest(s3, { problemId: 'no-such-problem', language: 'python', source: 'print(1)\n' });
      await probe.send('/queue/grading-requests', JSON.stringify(request), { persistent: 'true' });
      worker.start();
      const deadline = Date.now() + 20_000;
      while (saveAttempts.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.ok(saveAttempts.length >= 2, `the request came back for another try (${saveAttempts.length} attempt(s) to store its failure)`);
      assert.deepEqual(workerDeadLetters, [], 'not dead-lettered while its failure could not be stored');
    } finally {
      await worker.stop(2000);
      await Promise.all([session.close(), probe.close(), results.close()]);
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});
