/** Worker entry point: config (env + SSM), connections, executor, then consume until SIGTERM. */
import * as os from 'node:os';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { resolveSsmParameters } from '../../core/src/config';
import { parseWorkerConfig, WORKER_PARAMETERS } from './config';
import type { Executor } from './executors/port';
import { createJudge0Executor } from './executors/judge0';
import { createSandboxExecutor, SandboxUnavailableError } from './executors/sandbox';
import { isCheckerHost } from './grading/programChecker';
import { startHealthServer } from './health';
import { OFFERED_LANGUAGES_KEY } from '../../core/src/languages';
import { publishOfferedLanguages } from './offeredLanguages';
import { createLogger, Logger } from '../../core/src/log';
import { heartbeatSettingsFromEnv } from '../../core/src/contracts/heartbeat';
import { Heartbeat, judge0HealthProbe } from './ops/heartbeat';
import { BrokerSession } from '../../core/src/queue/session';
import { MysqlResultStore } from '../../core/src/results/mysqlStore';
import { S3Store } from './storage/s3Store';
import { GradingWorker } from './worker';

async function createExecutor(config: ReturnType<typeof parseWorkerConfig>, log: Logger): Promise<Executor> {
  if (config.executor.kind === 'judge0') {
    return createJudge0Executor({
      baseUrl: config.executor.judge0Endpoint!,
      authToken: config.executor.judge0AuthToken,
      onNotice: (m) => log('warn', m),
    });
  }
  return createSandboxExecutor({ concurrency: Math.max(1, Number(process.env.SANDBOX_CONCURRENCY) || os.cpus().length) });
}

/**
 * A separate checker host only for an executor that is none itself. Both shipped executors are (the
 * sandbox runs checkers locally, Judge0 as multi-file programs), so this is a fallback for others.
 */
async function createCheckerHost(config: ReturnType<typeof parseWorkerConfig>, executor: Executor, log: ReturnType<typeof createLogger>) {
  if (isCheckerHost(executor) || config.executor.kind !== 'judge0') return undefined;
  try {
    return await createSandboxExecutor({ concurrency: 1 });
  } catch (error) {
    if (!(error instanceof SandboxUnavailableError)) throw error;
    log('warn', 'no local sandbox for checker programs: problems with one are graded IE', { error: error.message });
    return undefined;
  }
}

export async function main(): Promise<void> {
  const log = createLogger({ service: 'grading-worker' });
  const config = parseWorkerConfig(await resolveSsmParameters(process.env, undefined, WORKER_PARAMETERS));
  const logWithEnv = createLogger({ service: 'grading-worker', environment: config.environment });
  const brokerOptions = { ...config.mq, log: logWithEnv };
  // Replies to reply-to destinations go on their own connection (see WorkerDeps.replies).
  const [session, replies, results, executor] = await Promise.all([
    BrokerSession.open(brokerOptions),
    BrokerSession.open({
      ...brokerOptions,
      log: (level, message, fields) => logWithEnv(level, message, { connection: 'replies', ...fields }),
    }),
    MysqlResultStore.connect({ ...config.db }),
    createExecutor(config, logWithEnv),
  ]);
  const checkerHost = await createCheckerHost(config, executor, logWithEnv);
  const s3 = new S3Store({
    bucket: config.s3.bucket,
    region: config.region,
    endpoint: config.s3.endpoint,
    forcePathStyle: config.s3.forcePathStyle,
    cacheDir: config.cacheDir,
    cacheMaxBytes: config.cacheMaxBytes,
  });
  const worker = new GradingWorker(
    { session, replies, s3, results, executor, checkerHost, log: logWithEnv },
    {
      environment: config.environment,
      concurrency: config.concurrency,
      maxAttempts: config.maxAttempts,
      destinations: config.queues,
      metrics: (line) => process.stdout.write(line),
    },
  );
  const health = await startHealthServer(config.healthPort, {
    brokerConnected: () => session.connected,
    details: () => ({
      lastMessageAt: session.lastMessageAt?.toISOString() ?? null,
      inFlight: worker.inFlightCount,
      executor: executor.name,
      ...worker.stats,
    }),
  });
  worker.start();
  const heartbeat = new Heartbeat({
    ...heartbeatSettingsFromEnv(process.env),
    send: (destination, body, headers) => session.send(destination, body, headers, 5000),
    environment: config.environment,
    snapshot: () => ({
      executor: executor.name,
      inFlight: worker.inFlightCount,
      concurrency: config.concurrency,
      executorAvailable: worker.executorStatus.available,
      executorError: worker.executorStatus.error,
    }),
    probe:
      config.executor.kind === 'judge0' ? judge0HealthProbe(config.executor.judge0Endpoint!, config.executor.judge0AuthToken) : undefined,
    metrics: (line) => process.stdout.write(line),
    log: logWithEnv,
  });
  heartbeat.start();
  log('info', 'worker ready', { healthPort: config.healthPort });
  // The gateway's /api/languages serves what this executor really runs (names and versions).
  const stopPublishing = publishOfferedLanguages(
    executor,
    (json) =>
      s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: OFFERED_LANGUAGES_KEY, Body: json, ContentType: 'application/json' })),
    logWithEnv,
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    stopPublishing();
    log('info', 'shutting down', { signal, graceMs: config.shutdownGraceMs });
    await heartbeat.stop();
    await worker.stop(config.shutdownGraceMs);
    await Promise.all([session.close().catch(() => undefined), replies.close().catch(() => undefined)]);
    await Promise.all([
      results.close().catch(() => undefined),
      executor.close().catch(() => undefined),
      checkerHost?.close().catch(() => undefined),
    ]);
    health.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(
      `${JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'worker failed to start', error: (error as Error).message })}\n`,
    );
    process.exit(1);
  });
}
