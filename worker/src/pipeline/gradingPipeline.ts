/**
 * The grading pipeline: what happens to one delivery, from its body to a durable, published
 * outcome. It is the consumer's processor (consumer/types.ts): it never acks itself, it says what
 * the message's fate is once the outcome is stored and published.
 *
 * Exactly one outcome per request: every request with a readable requestId gets one message on
 * grading-results, `completed` or `failed` with a reason code (FAILURE_REASONS), also sent to the
 * request's reply-to. What a delivery is decides what happens:
 * - not a valid request: a failed result (invalid-json, schema-validation) when its requestId can be
 *   read, and the original to grading-dlq with the reason (only the DLQ copy when no id is readable);
 * - a requestId already used by a request with other content (fields or source): a failed result
 *   `request-id-reused` and a DLQ copy; the earlier request's row and files are left alone;
 * - a redelivery or duplicate of a request whose result is published: acked, nothing published (a
 *   failed one is graded again when the message is a replay from grading-dlq: header x-dlq-replay);
 *   one whose result is stored but not yet published (the worker died in between): published now;
 * - seen more than maxAttempts times (it keeps crashing workers): failed `max-attempts-exceeded`;
 * - unknown problem, foreign bucket, oversized source: failed `invalid-problem-or-source`; a missing
 *   source: failed `source-not-found` (neither is retried);
 * - S3/database/broker trouble (an allow-list of transient errors): retried with back-off, then failed
 *   `transient-failure-exhausted`; any other error: failed `internal-error`, not retried;
 * - executor unavailable (Judge0 down or full): waits and retries without limit and without counting
 *   an attempt; on shutdown the message is left unacked for the broker to redeliver.
 * Every failed result also goes to grading-dlq (the original body, reason in headers) and
 * results/{requestId}/result.json. A stored final result is never replaced (ResultStore.saveResult):
 * a failure after `completed` was stored cannot turn it into `failed`, and a redelivery of a published
 * request publishes nothing. When the outcome cannot be stored or published the message is handed
 * back (NACK) for redelivery.
 */
import { parseGradingRequest, readableRequestId } from '../../../core/src/contracts/request';
import type { GradingResult } from '../../../core/src/contracts/result';
import type { Logger } from '../../../core/src/log';
import type { Delivery, Outcome } from '../consumer/types';
import type { Executor } from '../executors/port';
import type { CheckerHost } from '../grading/programChecker';
import { gradedMetricLine } from '../metrics';
import { RequestLog, SubmissionGrader } from './grader';
import type {
  DeadLetters,
  ProgressPublisher,
  RequestMeta,
  RequestRecord,
  ResultFiles,
  ResultPublisher,
  ResultStore,
  SourceStore,
  TestSets,
} from './ports';
import { asRejection, failedResult, Rejection, ShuttingDown } from './rejections';
import { Destinations, invalidRequestFingerprint, replyDestination, requestFingerprint, sha256 } from './rules';
import { DEFAULT_STEP_RETRY, Step, StepRetry, transientSteps } from './transientSteps';

export interface PipelineDeps {
  sources: SourceStore;
  testSets: TestSets;
  resultFiles: ResultFiles;
  results: ResultStore;
  executor: Executor;
  /** Runs problems' checker programs when the executor cannot (Judge0): the worker's local sandbox. */
  checkerHost?: CheckerHost;
  publisher: ResultPublisher;
  progress: ProgressPublisher;
  deadLetters: DeadLetters;
  log: Logger;
}

export interface PipelineOptions {
  environment: string;
  maxAttempts: number;
  /** The worker's own destinations: a reply-to naming one of them is ignored. */
  destinations: Destinations;
  /** Retries of S3/database/broker calls per step. */
  retry?: StepRetry;
  /** Pause between tries while the executor is unavailable. */
  executorRetryMs?: number;
  metrics?: (line: string) => void;
}

const ACK: Outcome = { action: 'ack' };
const LEAVE: Outcome = { action: 'leave' };
const handBack = (error: unknown): Outcome => ({ action: 'hand-back', error });

export class GradingPipeline {
  readonly stats = { graded: 0, deadLettered: 0, republished: 0, duplicates: 0, cacheHits: 0, failed: 0 };
  private readonly grader: SubmissionGrader;
  private readonly step: Step;

  constructor(
    private readonly deps: PipelineDeps,
    private readonly opts: PipelineOptions,
  ) {
    this.step = transientSteps(opts.retry ?? DEFAULT_STEP_RETRY, deps.log);
    const { testSets, resultFiles, results, executor, checkerHost, progress } = deps;
    const graderOptions = { environment: opts.environment, executorRetryMs: opts.executorRetryMs, metrics: opts.metrics };
    this.grader = new SubmissionGrader({ testSets, resultFiles, results, executor, checkerHost, progress, step: this.step }, graderOptions);
  }

  /** The executor as the last grading found it (the heartbeat reports it). */
  get executorStatus(): SubmissionGrader['executorStatus'] {
    return this.grader.executorStatus;
  }

  /** The processor: decides what the delivery is, makes its outcome durable and published, and says what to do with the message. */
  readonly process = async (delivery: Delivery, signal: AbortSignal): Promise<Outcome> => {
    const started = Date.now();
    const parsed = parseGradingRequest(delivery.body);
    if (!parsed.ok) {
      const reason = parsed.reason === 'invalid-json' ? 'invalid-json' : 'schema-validation';
      return this.handleInvalid(delivery, new Rejection(reason, parsed.errors.join('; ')));
    }
    const request = parsed.value;
    const meta: RequestMeta = {
      requestId: request.requestId,
      userId: request.userId,
      problemId: request.problemId,
      language: request.language,
      requestHash: requestFingerprint(request),
    };
    const log: RequestLog = (level, msg, fields = {}) => this.deps.log(level, msg, { requestId: request.requestId, ...fields });
    const { results } = this.deps;

    let outcome: { document: GradingResult; cacheKey?: string };
    // Known to have no final result yet: only then may a failure write results/{id}/ (it could hold a completed result).
    let unfinished = false;
    try {
      let record = await this.step('database', () => results.getRecord(request.requestId));
      const replay = delivery.headers['x-dlq-replay'] === 'true';
      if (replay && record?.document?.status === 'failed' && (await this.step('database', () => results.reopenFailed(request.requestId)))) {
        // Replayed from grading-dlq after a fix (grading-stack dlq replay): grade again, publish the new outcome.
        log('info', 'replayed from grading-dlq: grading again', { replayedFrom: delivery.headers['x-replayed-from'] });
        record = await this.step('database', () => results.getRecord(request.requestId));
      }
      if (record && record.requestHash && record.requestHash !== meta.requestHash) {
        return this.rejectReused(delivery, request.requestId, 'the fields differ');
      }
      let sourceText: string | undefined;
      try {
        sourceText = await this.step('s3', () => this.deps.sources.readSource(request.sourceFile));
        meta.sourceSha256 = sha256([sourceText]);
      } catch (error) {
        // A finished request whose source is gone since: nothing says the content changed.
        if (!record?.document) throw error;
      }
      if (record?.sourceSha256 && meta.sourceSha256 && record.sourceSha256 !== meta.sourceSha256) {
        return this.rejectReused(delivery, request.requestId, 'the source differs');
      }
      if (record?.document) return this.handleFinished(delivery, record, log);
      unfinished = true;
      const attempts = await this.step('database', () => results.beginAttempt(meta));
      if (attempts > this.opts.maxAttempts) {
        const detail = `delivered ${attempts} times without finishing (the worker may have crashed on it each time)`;
        throw new Rejection('max-attempts-exceeded', detail);
      }
      const graded = await this.grader.grade(request, sourceText!, log, signal);
      if (graded.cached) this.stats.cacheHits++;
      outcome = { document: graded.document, cacheKey: graded.cacheKey };
      const { verdict, score } = graded.document.result ?? {};
      log('info', 'graded', { verdict, score, ms: Date.now() - started, cached: graded.cached });
    } catch (error) {
      if (error instanceof ShuttingDown) {
        log('warn', 'left for redelivery: shutting down while the executor is unavailable');
        await results.releaseAttempt(request.requestId).catch(() => undefined);
        return LEAVE;
      }
      const rejection = asRejection(error);
      log('error', 'grading failed', { reason: rejection.reason, detail: rejection.detail });
      const document = unfinished
        ? await this.failedResultWithFile(request.requestId, rejection, log)
        : failedResult(request.requestId, rejection);
      outcome = { document };
    }
    const concluded = await this.conclude(delivery, meta, outcome, log);
    if (concluded.delivered && outcome.document.status === 'completed') {
      this.stats.graded++;
      const verdict = outcome.document.result?.verdict ?? 'none';
      const line = gradedMetricLine(this.opts.environment, verdict, Date.now() - started, { requestId: request.requestId });
      this.opts.metrics?.(line);
    }
    return concluded.outcome;
  };

  /** A message that is not a valid request: a failed result under its requestId when one is readable. */
  private async handleInvalid(delivery: Delivery, rejection: Rejection): Promise<Outcome> {
    const requestId = readableRequestId(delivery.body);
    if (!requestId) {
      this.deps.log('warn', 'invalid request without a readable requestId: dead-lettered only', { reason: rejection.reason });
      try {
        await this.deadLetter(delivery, rejection.reason, rejection.detail);
        return ACK;
      } catch (error) {
        return handBack(error);
      }
    }
    const log: RequestLog = (level, msg, fields = {}) => this.deps.log(level, msg, { requestId, ...fields });
    const meta: RequestMeta = { requestId, requestHash: invalidRequestFingerprint(delivery.body) };
    let record: RequestRecord | undefined;
    try {
      record = await this.step('database', () => this.deps.results.getRecord(requestId));
    } catch (error) {
      return handBack(error);
    }
    if (record && record.requestHash !== meta.requestHash) {
      return this.rejectReused(delivery, requestId, `this message is not a valid request (${rejection.detail})`);
    }
    if (record?.document) return this.handleFinished(delivery, record, log);
    log('warn', 'invalid request', { reason: rejection.reason, detail: rejection.detail.slice(0, 500) });
    const document = await this.failedResultWithFile(requestId, rejection, log);
    return (await this.conclude(delivery, meta, { document }, log)).outcome;
  }

  /** A delivery of a request that already has its final result: publish it only if that never happened. */
  private async handleFinished(delivery: Delivery, record: RequestRecord, log: RequestLog): Promise<Outcome> {
    const document = record.document!;
    if (record.published) {
      const redelivered = delivery.headers.redelivered === 'true';
      log('info', 'duplicate delivery of a finished request: its result is already published', { redelivered });
      this.stats.duplicates++;
      return ACK;
    }
    log('info', 'finished but not yet published (the worker stopped in between): publishing the stored result');
    try {
      await this.deliver(delivery, document);
      this.stats.republished++;
      return ACK;
    } catch (error) {
      return handBack(error);
    }
  }

  /**
   * Makes an outcome durable and delivers it: stores it (a stored final result wins over this one),
   * then dead-letters (failed) and publishes. `delivered` says whether this outcome went out; on a
   * failure to store or publish the message goes back to the broker.
   */
  private async conclude(
    delivery: Delivery,
    meta: RequestMeta,
    outcome: { document: GradingResult; cacheKey?: string },
    log: RequestLog,
  ): Promise<{ outcome: Outcome; delivered: boolean }> {
    try {
      const stored = await this.step('database', () => this.deps.results.saveResult(meta, outcome.document, outcome.cacheKey));
      if (stored.timestamp !== outcome.document.timestamp || stored.status !== outcome.document.status) {
        log('warn', 'another delivery stored a final result first; keeping it', { stored: stored.status, ours: outcome.document.status });
        const record = await this.step('database', () => this.deps.results.getRecord(meta.requestId));
        // The row was just read as final; without it there is nothing to publish, and the broker should try again.
        if (!record) return { outcome: handBack(new Error(`the stored result of ${meta.requestId} is gone`)), delivered: false };
        return { outcome: await this.handleFinished(delivery, record, log), delivered: false };
      }
      await this.deliver(delivery, stored);
      if (stored.status === 'failed') this.stats.failed++;
      return { outcome: ACK, delivered: true };
    } catch (error) {
      return { outcome: handBack(error), delivered: false };
    }
  }

  /**
   * A failed result, with its result.json and execution.log written once and best effort (the
   * failure may be S3 itself): `resultFile` is set only when they were written.
   */
  private async failedResultWithFile(requestId: string, rejection: Rejection, log: RequestLog): Promise<GradingResult> {
    const result = { ...failedResult(requestId, rejection), resultFile: this.deps.resultFiles.resultUri(requestId) };
    const executionLog = `request ${requestId}: not graded\nreason: ${rejection.reason}\n${rejection.detail}\n`;
    try {
      await this.deps.resultFiles.putResult(requestId, JSON.stringify(result, null, 2), executionLog);
      return result;
    } catch (error) {
      log('warn', 'could not write the failed result to S3', { error: (error as Error).message });
      return failedResult(requestId, rejection);
    }
  }

  /** Failed results to grading-dlq (the original body), then the result to grading-results and reply-to; then it counts as published. */
  private async deliver(delivery: Delivery, result: GradingResult): Promise<void> {
    if (result.status === 'failed') {
      const detail = (result.error ?? '').replace(/^[a-z-]+: /, '');
      await this.deadLetter(delivery, result.reason ?? 'internal-error', detail, result.requestId);
    }
    await this.publishFinal(result, delivery);
    await this.step('database', () => this.deps.results.markPublished(result.requestId));
  }

  /**
   * The requestId belongs to another request: this one gets a failed result of its own, and the
   * earlier request's row and files stay as they are (nothing is stored for this one).
   */
  private async rejectReused(delivery: Delivery, requestId: string, what: string): Promise<Outcome> {
    const rejection = new Rejection(
      'request-id-reused',
      `requestId ${requestId} was already used by another request (${what}); this request was not graded: send it under a new requestId`,
    );
    this.deps.log('warn', 'requestId reused with other content', { requestId, detail: rejection.detail.slice(0, 500) });
    const result = failedResult(requestId, rejection);
    try {
      await this.deadLetter(delivery, rejection.reason, rejection.detail, requestId);
      // No `final` progress event: watchers of this requestId are watching the first request.
      await this.publishFinal(result, delivery, { progress: false });
      this.stats.failed++;
      return ACK;
    } catch (error) {
      return handBack(error);
    }
  }

  /** grading-results (persistent, correlation-id = requestId), the request's reply-to, then the `final` progress event. */
  private async publishFinal(result: GradingResult, delivery: Delivery, opts = { progress: true }): Promise<void> {
    await this.step('broker', () => this.deps.publisher.publish(result));
    const replyTo = replyDestination(delivery.headers['reply-to'], this.opts.destinations);
    if (replyTo) {
      // JMS request/reply (Spring's sendAndReceive): the correlation id is the request's, else its message id.
      const correlationId = delivery.headers['correlation-id'] || delivery.headers['message-id'] || result.requestId;
      // Best effort and not retried: the requester may have gone (a temporary queue of a closed connection).
      await this.deps.publisher.reply(replyTo, result, correlationId).catch((error) => {
        const fields = { requestId: result.requestId, replyTo, error: (error as Error).message };
        this.deps.log('warn', 'could not send the result to reply-to', fields);
      });
    } else if (delivery.headers['reply-to']) {
      const fields = { requestId: result.requestId, replyTo: delivery.headers['reply-to'] };
      this.deps.log('warn', 'reply-to ignored: not a destination results may be sent to', fields);
    }
    if (!opts.progress) return;
    await this.deps.progress.progress({ type: 'final', requestId: result.requestId, result }).catch(() => undefined);
  }

  private async deadLetter(delivery: Delivery, reason: string, detail: string, requestId?: string): Promise<void> {
    const letter = {
      body: delivery.body,
      reason,
      detail,
      originalDestination: delivery.source,
      originalMessageId: delivery.headers['message-id'] ?? '',
      failedAt: new Date().toISOString(),
      requestId,
    };
    await this.step('broker', () => this.deps.deadLetters.deadLetter(letter));
    this.stats.deadLettered++;
    this.deps.log('warn', 'dead-lettered', { requestId, reason, detail: detail.slice(0, 500) });
  }
}
