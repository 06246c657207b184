/**
 * The grading worker as main.ts runs it: the queue consumer (consumer/queueConsumer.ts: buffers,
 * priority, concurrency, ack/nack, shutdown) driving the grading pipeline (pipeline/gradingPipeline.ts:
 * validate, fetch, grade, store, publish, dead-letter) over the shipped S3, MySQL and STOMP classes.
 * It takes requests from grading-priority (first) and grading-requests, grades each once, makes the
 * result durable (S3, MySQL, grading-results) and only then acks.
 */
import type { Logger } from '../../core/src/log';
import type { BrokerSession } from '../../core/src/queue/session';
import { isRunMessage } from '../../core/src/contracts/run';
import type { MysqlResultStore } from '../../core/src/results/mysqlStore';
import { StompOutbox } from './broker/stompOutbox';
import { QueueConsumer } from './consumer/queueConsumer';
import type { Clock, Delivery, Outcome } from './consumer/types';
import type { Executor } from './executors/port';
import type { CheckerHost } from './grading/programChecker';
import { GradingPipeline } from './pipeline/gradingPipeline';
import type { Destinations } from './pipeline/rules';
import type { StepRetry } from './pipeline/transientSteps';
import { handleRun } from './runs/runHandler';
import type { S3Store } from './storage/s3Store';

export { DLQ_HEADERS } from './broker/stompOutbox';
export { replyDestination, requestFingerprint, resultCacheKey } from './pipeline/rules';
export type { Destinations };

export interface WorkerOptions {
  environment: string;
  concurrency: number;
  maxAttempts: number;
  destinations: Destinations;
  /** Retries of S3/database/broker calls per step. */
  retry?: StepRetry;
  /** Pause between tries while the executor is unavailable. */
  executorRetryMs?: number;
  metrics?: (line: string) => void;
  /** The consumer's wait after (re)subscribing before the first dispatch, and its timers (tests). */
  settleMs?: number;
  clock?: Clock;
}

export interface WorkerDeps {
  session: BrokerSession;
  /**
   * A second connection for reply-to sends: a reply to a temporary queue whose requester has gone
   * makes ActiveMQ answer with an ERROR frame, and an ERROR frame ends the STOMP connection it came on.
   * Without one, replies share `session` (and such a reply costs it a reconnect).
   */
  replies?: BrokerSession;
  s3: S3Store;
  results: MysqlResultStore;
  executor: Executor;
  /** Runs problems' checker programs when the executor cannot (Judge0): the worker's local sandbox. */
  checkerHost?: CheckerHost;
  log: Logger;
}

export class GradingWorker {
  readonly pipeline: GradingPipeline;
  private readonly consumer: QueueConsumer;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly opts: WorkerOptions,
  ) {
    const { session, replies, s3, results, executor, checkerHost, log } = deps;
    const outbox = new StompOutbox(session, opts.destinations, replies);
    this.pipeline = new GradingPipeline(
      {
        sources: s3,
        testSets: s3,
        resultFiles: s3,
        results,
        executor,
        checkerHost,
        publisher: outbox,
        progress: outbox,
        deadLetters: outbox,
        log,
      },
      opts,
    );
    // Runs with custom input are not gradings: worker/src/runs/ handles them (nothing on grading-results).
    const process = (delivery: Delivery, signal: AbortSignal) =>
      isRunMessage(delivery.body) ? this.processRun(delivery, outbox) : this.pipeline.process(delivery, signal);
    this.consumer = new QueueConsumer(session, process, {
      priorityQueue: opts.destinations.priority,
      normalQueue: opts.destinations.requests,
      concurrency: opts.concurrency,
      settleMs: opts.settleMs,
      clock: opts.clock,
      log,
    });
  }

  /** A run message, through the run handler; its ack or hand-back becomes the consumer's outcome. */
  private async processRun(delivery: Delivery, outbox: StompOutbox): Promise<Outcome> {
    const { session, s3, executor, log } = this.deps;
    const { metrics, environment, destinations } = this.opts;
    let outcome: Outcome = { action: 'leave' };
    const decide = {
      send: session.send.bind(session),
      ack: async () => void (outcome = { action: 'ack' }),
      nack: async () => void (outcome = { action: 'hand-back', error: new Error('run outcome not delivered') }),
    };
    const deadLetter = (reason: string, detail: string) =>
      outbox.deadLetter({
        body: delivery.body,
        reason,
        detail,
        originalDestination: delivery.source,
        originalMessageId: delivery.headers['message-id'] ?? '',
        failedAt: new Date().toISOString(),
      });
    const readProblem = (uri: string) => s3.readTestSet(uri);
    await handleRun(delivery, {
      session: decide,
      readProblem,
      executor,
      log,
      progress: destinations.progress,
      deadLetter,
      metrics,
      environment,
    });
    return outcome;
  }

  get stats(): GradingPipeline['stats'] {
    return this.pipeline.stats;
  }

  /** The executor as the last grading found it (the heartbeat reports it). */
  get executorStatus(): GradingPipeline['executorStatus'] {
    return this.pipeline.executorStatus;
  }

  get inFlightCount(): number {
    return this.consumer.inFlightCount;
  }

  start(): void {
    this.consumer.start();
    this.deps.log('info', 'worker started', { concurrency: this.opts.concurrency, executor: this.deps.executor.name });
  }

  /** Stops taking messages, lets in-flight gradings finish within graceMs; the rest is redelivered. */
  stop(graceMs: number): Promise<void> {
    return this.consumer.stop(graceMs);
  }
}
