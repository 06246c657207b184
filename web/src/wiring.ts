/**
 * Builds a GradingClient from GatewayConfig with the shared core adapters: the reconnecting broker
 * session, the MySQL result store (table grading_results) and the request schema. One connection pool,
 * made here, serves every store of the gateway; the database must already be migrated (it runs no DDL).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { s3OfferedLanguages } from './offeredLanguages';
import { validateGradingRequest } from '../../core/src/contracts';
import type { Logger } from '../../core/src/log';
import { BrokerSession } from '../../core/src/queue/session';
import type { Pool } from 'mysql2/promise';
import { openMigratedPool } from '../../core/src/db/pool';
import { MysqlResultStore } from '../../core/src/results/mysqlStore';
import { createAuthenticator, mintHs256Token } from './auth/authenticator';
import { GradingClient } from './client';
import { createGatewayExtensions, GatewayExtensions } from './extensions/wiring';
import type { GatewayConfig } from './config';
import { S3ProblemCatalog } from './problems';
import { parseProgressMessage } from './progressItems';
import { OpenAiReviewer } from './review/openAiReviewer';
import { Reviewer, ReviewNotConfiguredError } from './review/port';
import { ReviewService } from './review/service';
import { MysqlReviewStore } from './review/store';
import type { DevLogin, HealthReport } from './ports';
import { Gateway } from './server';
import { MysqlStreamTicketStore } from './streamTickets';
import { MysqlSubmissionIndex } from './submissionIndex';
import { WorkerPresence } from './workerPresence';
import { createWebhookService } from './webhooks/service';
import { createRuns } from './runs/wiring';

export async function connectGradingClient(config: GatewayConfig, log?: Logger): Promise<GradingClient> {
  return (await connectGatewayParts(config, log)).client;
}

/** The client, the gateway's one database pool (every store is built on it), the bucket client and the broker session. */
async function connectGatewayParts(
  config: GatewayConfig,
  log?: Logger,
): Promise<{ client: GradingClient; pool: Pool; s3: S3Client; broker: BrokerSession }> {
  const s3 = new S3Client({
    region: config.region,
    endpoint: config.s3.endpoint,
    forcePathStyle: config.s3.forcePathStyle,
    maxAttempts: 3,
  });
  const [opened, checked] = await Promise.allSettled([
    BrokerSession.open({ ...config.mq, log }),
    openMigratedPool(config.db, { who: 'the gateway', connectionLimit: 10 }),
  ]);
  if (opened.status === 'rejected' || checked.status === 'rejected') {
    // Whichever one opened must not keep the process alive (the broker session reconnects forever).
    if (opened.status === 'fulfilled') await opened.value.close().catch(() => undefined);
    if (checked.status === 'fulfilled') await checked.value.end().catch(() => undefined);
    throw opened.status === 'rejected' ? opened.reason : (checked as PromiseRejectedResult).reason;
  }
  const [broker, pool] = [opened.value, checked.value];
  const store = new MysqlResultStore(pool);
  const client = new GradingClient({
    s3,
    bucket: config.s3.bucket,
    broker,
    results: {
      get: (requestId) => store.get(requestId),
      ping: async () => {
        await pool.query({ sql: 'SELECT 1', timeout: 2000 });
      },
      close: () => pool.end(),
    },
    problems: new S3ProblemCatalog(s3, config.s3.bucket),
    validateRequest: (request) => {
      const checked = validateGradingRequest(request);
      return checked.ok ? [] : checked.errors;
    },
    parseProgress: (body) => parseProgressMessage(body),
    destinations: config.destinations,
    log,
  });
  return { client, pool, s3, broker };
}

/** The reviewer from config, or the reason it is switched off (the review routes answer 503 with it). */
export function reviewerFromConfig(review: GatewayConfig['review']): Reviewer | ReviewNotConfiguredError {
  try {
    return new OpenAiReviewer({ baseUrl: review.baseUrl, model: review.model, apiKey: review.apiKey, timeoutMs: review.timeoutMs });
  } catch (error) {
    if (error instanceof ReviewNotConfiguredError) return error;
    throw error;
  }
}

/** GET /health/ready (and /health): the client's checks, cached for a moment so load balancer probes stay cheap. */
export function gatewayHealth(client: GradingClient, cacheMs = 2000): () => Promise<HealthReport> {
  let cached: { at: number; report: Promise<HealthReport> } | undefined;
  return () => {
    if (!cached || Date.now() - cached.at >= cacheMs) cached = { at: Date.now(), report: client.health() };
    return cached.report;
  };
}

/** AUTH_DEV_LOGIN (local stack, hmac mode): tokens minted with the gateway's own secret, verified like any other. */
export function devLoginFrom(auth: GatewayConfig['auth']): DevLogin | undefined {
  if (!auth.devLogin || auth.mode !== 'hmac') return undefined;
  return async (userId, roles) => ({
    token: await mintHs256Token(auth.hmacSecret!, {
      sub: userId,
      roles,
      rolesClaim: auth.rolesClaim,
      issuer: auth.issuer!,
      audience: auth.audience!,
      ttlSeconds: auth.devTokenTtlSeconds,
    }),
    expiresIn: auth.devTokenTtlSeconds,
  });
}

/** A running gateway: the HTTP server and the client it is built on, following the progress topic. */
export interface RunningGateway {
  gateway: Gateway;
  client: GradingClient;
  url: string;
  close(): Promise<void>;
}

export async function startGateway(config: GatewayConfig, log?: Logger): Promise<RunningGateway> {
  const { client, pool, s3, broker } = await connectGatewayParts(config, log);
  client.followProgress();
  const presence = new WorkerPresence(config.presence.windowMs);
  broker.subscribe(config.presence.topic, (body) => presence.observe(body));
  // Final results heard on the progress topic go to their webhook (one instance delivers each: webhooks/).
  const results = new MysqlResultStore(pool);
  const webhooks = createWebhookService(config.webhooks, pool, (requestId) => results.get(requestId), log);
  broker.subscribe(config.destinations.progress, (body) => webhooks.onProgressMessage(body));
  let reviews: ReviewService;
  const index = new MysqlSubmissionIndex(pool, { siteWebhook: Boolean(config.webhooks.siteUrl) });
  let extensions: GatewayExtensions;
  let runs: ReturnType<typeof createRuns>;
  try {
    const { destinations, maxSourceBytes, runs: settings } = config;
    const bucket = config.s3.bucket;
    runs = createRuns({ pool, broker, problems: client.problems, bucket, destinations, maxSourceBytes, settings, log });
    await index.check();
    extensions = await createGatewayExtensions(pool, process.env);
    reviews = new ReviewService({
      store: await MysqlReviewStore.create(pool),
      reviewer: reviewerFromConfig(config.review),
      problems: client.problems,
      readSource: (requestId, language) => client.source(requestId, language),
      userRateLimit: config.review.userRateLimit,
      addressRateLimit: config.review.addressRateLimit,
      dailyModelCalls: config.review.dailyModelCalls,
      log,
    });
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
  const gateway = new Gateway(
    {
      submissions: client,
      problems: client.problems,
      health: gatewayHealth(client),
      workers: () => presence.report(),
      reviews,
      languages: s3OfferedLanguages(s3, config.s3.bucket),
      log,
      auth: createAuthenticator(config.auth),
      index,
      tickets: new MysqlStreamTicketStore(pool),
      devLogin: devLoginFrom(config.auth),
      routes: [...extensions.routes, runs.routes],
      signals: extensions.signals,
      webhooks,
    },
    {
      maxSourceBytes: config.maxSourceBytes,
      userRateLimit: config.userRateLimit,
      debounceWindowMs: config.debounceWindowMs,
      heartbeatMs: config.heartbeatMs,
      trustProxy: config.trustProxy,
      corsOrigins: config.corsOrigins,
      publicDir: config.publicDir,
    },
  );
  try {
    await gateway.listen(config.port, config.host);
  } catch (error) {
    await webhooks.close();
    await client.close().catch(() => undefined);
    throw error;
  }
  webhooks.startSweeping(config.webhooks.sweepIntervalMs);
  return {
    gateway,
    client,
    url: gateway.url,
    close: async () => {
      runs.service.stop();
      await gateway.close().catch(() => undefined);
      await webhooks.close();
      await client.close().catch(() => undefined);
    },
  };
}
