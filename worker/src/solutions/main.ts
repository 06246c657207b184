/**
 * The accepted-solutions process: follows final grading results and, for each AC, stores its
 * similarity fingerprints and commits it to the author's linked GitHub repository. A process of
 * its own, so a slow or failing GitHub never delays a verdict or the worker's queue.
 * Start: `tsx worker/src/solutions/main.ts` with the env vars of ./config.ts.
 */
import { S3Store } from '../storage/s3Store';
import { resolveSsmParameters } from '../../../core/src/config';
import { startHealthServer } from '../health';
import { createLogger } from '../../../core/src/log';
import { BrokerSession } from '../../../core/src/queue/session';
import { openMigratedPool } from '../../../core/src/db/pool';
import { MysqlSimilarityStore } from '../../../core/src/similarity/store';
import { parseSolutionsConfig, SOLUTIONS_PARAMETERS, SolutionsConfig } from './config';
import { ResultsConsumer } from './consumer';
import { LocalEnvelopeEncryptor } from '../../../core/src/solutions/crypto';
import { OctokitPublisher } from './github/octokitPublisher';
import { AcceptedResultHandler, SubmissionFacts } from './onAccepted';
import { MysqlSolutionStore } from '../../../core/src/solutions/store';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { extensionOf, isLanguage } from '../../../core/src/languages';

export interface RunningSolutions {
  consumer: ResultsConsumer;
  session: BrokerSession;
  close(): Promise<void>;
}

/** Reads submissions/{id}/metadata.json (written by the gateway) and the source beside it. */
export function s3SubmissionReader(s3: S3Store): (requestId: string) => Promise<SubmissionFacts> {
  const text = async (key: string) => {
    const object = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    return object.Body!.transformToString('utf8');
  };
  return async (requestId) => {
    const meta = JSON.parse(await text(`submissions/${requestId}/metadata.json`)) as {
      userId: string;
      problemId: string;
      language: string;
    };
    if (!isLanguage(meta.language)) throw new Error(`submission ${requestId} has unknown language ${meta.language}`);
    const source = await s3.readSource(`s3://${s3.bucket}/submissions/${requestId}/solution.${extensionOf(meta.language)}`);
    return { userId: meta.userId, problemId: meta.problemId, language: meta.language, source };
  };
}

export async function startSolutions(
  config: SolutionsConfig,
  log = createLogger({ service: 'accepted-solutions', environment: config.environment }),
): Promise<RunningSolutions> {
  // One pool for both stores, checked against the migration steps (this process runs no DDL).
  const [session, pool] = await Promise.all([
    BrokerSession.open({ ...config.mq, log }),
    openMigratedPool(config.db, { who: 'the accepted-solutions process', connectionLimit: 4 }),
  ]);
  const s3 = new S3Store({
    bucket: config.s3.bucket,
    region: config.region,
    endpoint: config.s3.endpoint,
    forcePathStyle: config.s3.forcePathStyle,
    cacheDir: '/tmp',
  });
  const handler = new AcceptedResultHandler({
    solutions: await MysqlSolutionStore.create(pool),
    similarity: await MysqlSimilarityStore.create(pool),
    publisher: new OctokitPublisher({ baseUrl: config.githubApiUrl, log }),
    encryptor: new LocalEnvelopeEncryptor(config.tokenKey, config.tokenKeyId),
    readSubmission: s3SubmissionReader(s3),
    log,
  });
  const consumer = new ResultsConsumer(session, handler, { destination: config.resultsQueue }, log);
  consumer.start();
  return {
    consumer,
    session,
    close: async () => {
      await consumer.stop();
      await session.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
  };
}

async function main(): Promise<void> {
  const config = parseSolutionsConfig(await resolveSsmParameters(process.env, undefined, SOLUTIONS_PARAMETERS));
  const log = createLogger({ service: 'accepted-solutions', environment: config.environment });
  const running = await startSolutions(config, log);
  const health = await startHealthServer(config.healthPort, {
    brokerConnected: () => running.session.connected,
    details: () => ({ ...running.consumer.stats }),
  });
  log('info', 'accepted-solutions ready', { queue: config.resultsQueue, healthPort: config.healthPort });
  const shutdown = async () => {
    await running.close();
    health.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(
      `${JSON.stringify({ time: new Date().toISOString(), level: 'error', msg: 'accepted-solutions failed to start', error: (error as Error).message })}\n`,
    );
    process.exit(1);
  });
}
