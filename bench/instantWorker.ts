/**
 * The worker as worker/src/main.ts composes it, with an executor that answers at once: what is
 * left is the worker's own cost per message (broker, S3, database, JSON, logging).
 */
import { parseWorkerConfig } from '../worker/src/config';
import type { ExecutionJob, ExecutionReport, Executor } from '../worker/src/executors/port';
import { createLogger } from '../core/src/log';
import { BrokerSession } from '../core/src/queue/session';
import { MysqlResultStore } from '../core/src/results/mysqlStore';
import { S3Store } from '../worker/src/storage/s3Store';
import { GradingWorker } from '../worker/src/worker';

/** Prints "3\n" for every case: problem bench-sum grades it WA except case 1, all instantly. */
class InstantExecutor implements Executor {
  readonly name = 'instant';
  async execute(job: ExecutionJob): Promise<ExecutionReport> {
    return {
      compile: { ok: true, output: '', timeMs: 0 },
      runs: job.cases.map((c) => ({
        index: c.index,
        outcome: { status: 'exited', exitCode: 0, signal: null, stdout: '3\n', stderr: '', timeMs: 1, wallMs: 1, memoryMb: 1 },
      })),
    };
  }
  async close(): Promise<void> {}
}

async function main(): Promise<void> {
  const config = parseWorkerConfig(process.env);
  const log = createLogger({ service: 'grading-worker-bench', environment: config.environment });
  const [session, results] = await Promise.all([BrokerSession.open({ ...config.mq, log }), MysqlResultStore.connect({ ...config.db })]);
  const s3 = new S3Store({
    bucket: config.s3.bucket,
    region: config.region,
    endpoint: config.s3.endpoint,
    forcePathStyle: config.s3.forcePathStyle,
    cacheDir: config.cacheDir,
  });
  const worker = new GradingWorker(
    { session, s3, results, executor: new InstantExecutor(), log },
    { environment: config.environment, concurrency: config.concurrency, maxAttempts: config.maxAttempts, destinations: config.queues },
  );
  worker.start();
  log('info', 'worker ready');
  process.on('SIGTERM', () => {
    void worker.stop(5000).then(() => process.exit(0));
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
