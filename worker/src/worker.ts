/**
 * The grading worker: takes requests from grading-priority (first) and grading-requests, grades
 * each once, makes the result durable (S3, MySQL, grading-results) and only then acks.
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
 * results/{requestId}/result.json. A stored final result is never replaced (see mysqlStore.ts);
 * when it cannot be stored or published the message is handed back (NACK) for redelivery.
 */
import { createHash } from 'node:crypto';
import type { GradingRequest } from '../../core/src/contracts/request';
import { parseGradingRequest, readableRequestId } from '../../core/src/contracts/request';
import { isRunMessage } from '../../core/src/contracts/run';
import type { FailureReason, GradingResult, TestResult } from '../../core/src/contracts/result';
import { validateGradingResult } from '../../core/src/contracts/result';
import type { CaseProgressEvent, FinalProgressEvent } from '../../core/src/contracts/progress';
import { ExecutorUnavailableError, Executor } from './executors/port';
import { gradeSubmission } from './grading/engine';
import type { CheckerHost } from './grading/programChecker';
import { GRADER_VERSION } from './grading/version';
import type { Logger } from '../../core/src/log';
import { executorUnavailableMetricLine, gradedMetricLine } from './metrics';
import { TestSetError } from './problems/testSet';
import { BrokerSession } from '../../core/src/queue/session';
import { Headers, InboundMessage, StaleMessageError } from '../../core/src/queue/stomp';
import type { MysqlResultStore, RequestMeta, RequestRecord } from '../../core/src/results/mysqlStore';
import { isTransientError, withRetry } from './retry';
import { handleRun } from './runs/runHandler';
import { ForeignBucketError, S3Store, SourceNotFoundError, SourceTooLargeError } from './storage/s3Store';

export interface Destinations {
  requests: string;
  priority: string;
  results: string;
  dlq: string;
  progress: string;
}

export interface WorkerOptions {
  environment: string;
  concurrency: number;
  maxAttempts: number;
  destinations: Destinations;
  /** Retries of S3/database/broker calls per step. */
  retry?: { attempts: number; initialDelayMs: number; maxDelayMs: number };
  /** Pause between tries while the executor is unavailable. */
  executorRetryMs?: number;
  metrics?: (line: string) => void;
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

interface Delivery {
  message: InboundMessage;
  source: string;
}

/** A request the worker will not grade: a failed result with this reason, and a DLQ copy. */
class Rejection extends Error {
  constructor(
    readonly reason: FailureReason,
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}

/** An allow-listed transient failure that outlasted its retries. */
class RetriesExhausted extends Error {
  constructor(
    readonly what: StepKind,
    readonly last: unknown,
  ) {
    super(`${what}: ${(last as Error)?.message ?? String(last)}`);
  }
}

class ShuttingDown extends Error {}

type StepKind = 's3' | 'database' | 'broker';
type RequestLog = (level: Parameters<Logger>[0], msg: string, fields?: Record<string, unknown>) => void;

/** DLQ headers: selector-safe names (JMS selectors cannot name hyphenated properties) and, for one release, the old ones. */
export const DLQ_HEADERS = {
  reason: ['grading_error_reason', 'x-error-reason'],
  detail: ['grading_error_detail', 'x-error-detail'],
  originalDestination: ['grading_original_destination', 'x-original-destination'],
  originalMessageId: ['grading_original_message_id', 'x-original-message-id'],
  failedAt: ['grading_failed_at', 'x-failed-at'],
} as const;

// Messages of both subscriptions arrive within milliseconds of subscribing; waiting this long
// before the first dispatch lets a priority message that is already queued go first.
const SUBSCRIBE_SETTLE_MS = 250;

export class GradingWorker {
  private readonly priorityBuffer: Delivery[] = [];
  private readonly normalBuffer: Delivery[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private subscriptions: Array<{ unsubscribe(): void }> = [];
  private stopping = false;
  /** Dispatch waits until then after (re)subscribing, so both queues' first messages are in and priority wins. */
  private dispatchFrom = 0;
  private dispatchTimer?: NodeJS.Timeout;
  readonly stats = { graded: 0, deadLettered: 0, republished: 0, duplicates: 0, cacheHits: 0, failed: 0 };
  /** The executor as the last grading found it (the heartbeat reports it). */
  readonly executorStatus: { available: boolean; since: Date; error?: string } = { available: true, since: new Date() };

  constructor(
    private readonly deps: WorkerDeps,
    private readonly opts: WorkerOptions,
  ) {}

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  start(): void {
    const { destinations, concurrency } = this.opts;
    const subscribe = (destination: string, buffer: Delivery[]) =>
      this.deps.session.subscribe(
        destination,
        (_body, _headers, message) => {
          buffer.push({ message, source: destination });
          this.pump();
        },
        { ack: 'client-individual', prefetch: concurrency },
      );
    this.dispatchFrom = Date.now() + SUBSCRIBE_SETTLE_MS;
    this.subscriptions = [subscribe(destinations.priority, this.priorityBuffer), subscribe(destinations.requests, this.normalBuffer)];
    // Buffered messages of a lost connection can no longer be acked; the broker redelivers them.
    this.deps.session.on('disconnected', () => {
      this.priorityBuffer.length = 0;
      this.normalBuffer.length = 0;
    });
    this.deps.session.on('connected', () => {
      this.dispatchFrom = Date.now() + SUBSCRIBE_SETTLE_MS;
    });
    this.deps.log('info', 'worker started', { concurrency, executor: this.deps.executor.name });
  }

  /** Stops taking messages, lets in-flight gradings finish within graceMs; the rest is redelivered. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    for (const s of this.subscriptions) s.unsubscribe();
    this.priorityBuffer.length = 0;
    this.normalBuffer.length = 0;
    const drained = Promise.all([...this.inFlight]).then(() => true);
    const timedOut = new Promise<boolean>((r) => setTimeout(() => r(false), graceMs).unref());
    const finished = await Promise.race([drained, timedOut]);
    this.deps.log(finished ? 'info' : 'warn', finished ? 'worker drained' : 'shutdown grace expired; unfinished work will be redelivered', { inFlight: this.inFlight.size });
  }

  private pump(): void {
    const wait = this.dispatchFrom - Date.now();
    if (wait > 0) {
      this.dispatchTimer ??= setTimeout(() => {
        this.dispatchTimer = undefined;
        this.pump();
      }, wait);
      return;
    }
    while (!this.stopping && this.inFlight.size < this.opts.concurrency) {
      const next = this.priorityBuffer.shift() ?? this.normalBuffer.shift();
      if (!next) return;
      const job: Promise<void> = this.handle(next)
        .catch((error) => this.deps.log('error', 'unhandled error while handling a message', { error: (error as Error).stack }))
        .finally(() => {
          this.inFlight.delete(job);
          this.pump();
        });
      this.inFlight.add(job);
    }
  }

  private async handle({ message, source }: Delivery): Promise<void> {
    // Runs with custom input are not gradings: worker/src/runs/ handles them (nothing on grading-results).
    if (isRunMessage(message.body)) {
      const { session, s3, executor, log } = this.deps;
      const deadLetter = (reason: string, detail: string) => this.deadLetter(message, source, reason, detail);
      const readProblem = (uri: string) => s3.readTestSet(uri);
      const { metrics, environment, destinations } = this.opts;
      return handleRun(message, { session, readProblem, executor, log, progress: destinations.progress, deadLetter, metrics, environment });
    }
    const started = Date.now();
    const parsed = parseGradingRequest(message.body);
    if (!parsed.ok) {
      const reason = parsed.reason === 'invalid-json' ? 'invalid-json' : 'schema-validation';
      return this.handleInvalid(message, source, new Rejection(reason, parsed.errors.join('; ')));
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

    let outcome: { document: GradingResult; cacheKey?: string; rejection?: Rejection };
    // Known to have no final result yet: only then may a failure write results/{id}/ (it could hold a completed result).
    let unfinished = false;
    try {
      let record = await this.step('database', () => this.deps.results.getRecord(request.requestId));
      const replay = message.headers['x-dlq-replay'] === 'true';
      if (replay && record?.document?.status === 'failed' && (await this.step('database', () => this.deps.results.reopenFailed(request.requestId)))) {
        // Replayed from grading-dlq after a fix (grading-stack dlq replay): grade again, publish the new outcome.
        log('info', 'replayed from grading-dlq: grading again', { replayedFrom: message.headers['x-replayed-from'] });
        record = await this.step('database', () => this.deps.results.getRecord(request.requestId));
      }
      if (record && record.requestHash && record.requestHash !== meta.requestHash) {
        return this.rejectReused(message, source, request.requestId, 'the fields differ');
      }
      let sourceText: string | undefined;
      try {
        sourceText = await this.step('s3', () => this.deps.s3.readSource(request.sourceFile));
        meta.sourceSha256 = sha256([sourceText]);
      } catch (error) {
        // A finished request whose source is gone since: nothing says the content changed.
        if (!record?.document) throw error;
      }
      if (record?.sourceSha256 && meta.sourceSha256 && record.sourceSha256 !== meta.sourceSha256) {
        return this.rejectReused(message, source, request.requestId, 'the source differs');
      }
      if (record?.document) return this.handleFinished(message, source, record, log);
      unfinished = true;
      const attempts = await this.step('database', () => this.deps.results.beginAttempt(meta));
      if (attempts > this.opts.maxAttempts) {
        throw new Rejection('max-attempts-exceeded', `delivered ${attempts} times without finishing (the worker may have crashed on it each time)`);
      }
      const graded = await this.grade(request, sourceText!, log);
      outcome = { document: graded.document, cacheKey: graded.cacheKey };
      const { verdict, score } = graded.document.result ?? {};
      log('info', 'graded', { verdict, score, ms: Date.now() - started, cached: graded.cached });
    } catch (error) {
      if (error instanceof ShuttingDown) {
        log('warn', 'left for redelivery: shutting down while the executor is unavailable');
        await this.deps.results.releaseAttempt(request.requestId).catch(() => undefined);
        return;
      }
      const rejection = asRejection(error);
      log('error', 'grading failed', { reason: rejection.reason, detail: rejection.detail });
      const document = unfinished
        ? await this.failedResultWithFile(request.requestId, rejection, log)
        : failedResult(request.requestId, rejection);
      outcome = { document, rejection };
    }
    const delivered = await this.conclude(message, source, meta, outcome, log);
    if (delivered && outcome.document.status === 'completed') {
      this.stats.graded++;
      const verdict = outcome.document.result?.verdict ?? 'none';
      this.opts.metrics?.(gradedMetricLine(this.opts.environment, verdict, Date.now() - started, { requestId: request.requestId }));
    }
  }

  /** A message that is not a valid request: a failed result under its requestId when one is readable. */
  private async handleInvalid(message: InboundMessage, source: string, rejection: Rejection): Promise<void> {
    const requestId = readableRequestId(message.body);
    if (!requestId) {
      this.deps.log('warn', 'invalid request without a readable requestId: dead-lettered only', { reason: rejection.reason });
      try {
        await this.deadLetter(message, source, rejection.reason, rejection.detail);
        return this.ack(message);
      } catch (error) {
        return this.handBack(message, error);
      }
    }
    const log: RequestLog = (level, msg, fields = {}) => this.deps.log(level, msg, { requestId, ...fields });
    // The raw body is the fingerprint: a redelivery of this same message is a duplicate, anything else under the id is a reuse.
    const meta: RequestMeta = { requestId, requestHash: sha256(['invalid-request', message.body]) };
    let record: RequestRecord | undefined;
    try {
      record = await this.step('database', () => this.deps.results.getRecord(requestId));
    } catch (error) {
      return this.handBack(message, error);
    }
    if (record && record.requestHash !== meta.requestHash) {
      return this.rejectReused(message, source, requestId, `this message is not a valid request (${rejection.detail})`);
    }
    if (record?.document) return this.handleFinished(message, source, record, log);
    log('warn', 'invalid request', { reason: rejection.reason, detail: rejection.detail.slice(0, 500) });
    await this.conclude(message, source, meta, { document: await this.failedResultWithFile(requestId, rejection, log), rejection }, log);
  }

  /** A delivery of a request that already has its final result: publish it only if that never happened. */
  private async handleFinished(message: InboundMessage, source: string, record: RequestRecord, log: RequestLog): Promise<void> {
    const document = record.document!;
    if (record.published) {
      const redelivered = message.headers.redelivered === 'true';
      log('info', 'duplicate delivery of a finished request: its result is already published', { redelivered });
      this.stats.duplicates++;
      return this.ack(message);
    }
    log('info', 'finished but not yet published (the worker stopped in between): publishing the stored result');
    try {
      await this.deliver(message, source, document);
      this.stats.republished++;
      return this.ack(message);
    } catch (error) {
      return this.handBack(message, error);
    }
  }

  /**
   * Makes an outcome durable and delivers it: stores it (a stored final result wins over this one),
   * writes a failed result's result.json, then dead-letters (failed), publishes and acks. Returns
   * whether it was delivered; on a failure to store or publish the message goes back to the broker.
   */
  private async conclude(
    message: InboundMessage,
    source: string,
    meta: RequestMeta,
    outcome: { document: GradingResult; cacheKey?: string; rejection?: Rejection },
    log: RequestLog,
  ): Promise<boolean> {
    try {
      const stored = await this.step('database', () => this.deps.results.saveResult(meta, outcome.document, outcome.cacheKey));
      if (stored.timestamp !== outcome.document.timestamp || stored.status !== outcome.document.status) {
        log('warn', 'another delivery stored a final result first; keeping it', { stored: stored.status, ours: outcome.document.status });
        const record = await this.step('database', () => this.deps.results.getRecord(meta.requestId));
        if (record) await this.handleFinished(message, source, record, log);
        return false;
      }
      await this.deliver(message, source, stored);
      if (stored.status === 'failed') this.stats.failed++;
      await this.ack(message);
      return true;
    } catch (error) {
      await this.handBack(message, error);
      return false;
    }
  }

  /**
   * A failed result, with its result.json and execution.log written once and best effort (the
   * failure may be S3 itself): `resultFile` is set only when they were written.
   */
  private async failedResultWithFile(requestId: string, rejection: Rejection, log: RequestLog): Promise<GradingResult> {
    const result = { ...failedResult(requestId, rejection), resultFile: this.deps.s3.resultUri(requestId) };
    const executionLog = `request ${requestId}: not graded\nreason: ${rejection.reason}\n${rejection.detail}\n`;
    try {
      await this.deps.s3.putResult(requestId, JSON.stringify(result, null, 2), executionLog);
      return result;
    } catch (error) {
      log('warn', 'could not write the failed result to S3', { error: (error as Error).message });
      return failedResult(requestId, rejection);
    }
  }

  /** Failed results to grading-dlq (the original body), then the result to grading-results and reply-to; then it counts as published. */
  private async deliver(message: InboundMessage, source: string, result: GradingResult): Promise<void> {
    if (result.status === 'failed') {
      const detail = (result.error ?? '').replace(/^[a-z-]+: /, '');
      await this.deadLetter(message, source, result.reason ?? 'internal-error', detail, result.requestId);
    }
    await this.publishFinal(result, message);
    await this.step('database', () => this.deps.results.markPublished(result.requestId));
  }

  /**
   * The requestId belongs to another request: this one gets a failed result of its own, and the
   * earlier request's row and files stay as they are (nothing is stored for this one).
   */
  private async rejectReused(message: InboundMessage, source: string, requestId: string, what: string): Promise<void> {
    const rejection = new Rejection(
      'request-id-reused',
      `requestId ${requestId} was already used by another request (${what}); this request was not graded: send it under a new requestId`,
    );
    this.deps.log('warn', 'requestId reused with other content', { requestId, detail: rejection.detail.slice(0, 500) });
    const result = failedResult(requestId, rejection);
    try {
      await this.deadLetter(message, source, rejection.reason, rejection.detail, requestId);
      // No `final` progress event: watchers of this requestId are watching the first request.
      await this.publishFinal(result, message, { progress: false });
      this.stats.failed++;
      return this.ack(message);
    } catch (error) {
      return this.handBack(message, error);
    }
  }

  /** Could not record or deliver an outcome: hand the message back (the broker's redelivery policy applies) rather than lose or hold it. */
  private async handBack(message: InboundMessage, error: unknown): Promise<void> {
    const detail = { error: (error as Error).message };
    this.deps.log('error', 'could not record or deliver the outcome; returning the message for redelivery', detail);
    await this.deps.session.nack(message).catch(() => undefined);
  }

  private async grade(request: GradingRequest, source: string, log: RequestLog): Promise<{ document: GradingResult; cacheKey: string; cached: boolean }> {
    const testSet = await this.step('s3', () => this.deps.s3.readTestSet(request.testCases));
    const executor = this.deps.executor.name;
    const cacheKey = resultCacheKey({ ...request, sourceSha256: sha256([source]), testSetVersion: testSet.version, executor });
    const resultFile = this.deps.s3.resultUri(request.requestId);

    const cached = await this.step('database', () => this.deps.results.findCached(cacheKey));
    let document: GradingResult;
    let executionLog: string;
    if (cached?.result) {
      this.stats.cacheHits++;
      document = { requestId: request.requestId, status: 'completed', result: cached.result, resultFile, timestamp: new Date().toISOString() };
      executionLog =
        `request ${request.requestId}: identical to ${cached.requestId} ` +
        '(same problem, language, source, test cases, limits and grader); its result is reused.\n';
      for (const testResult of cached.result.testResults) this.publishCase(request.requestId, testResult, cached.result.testResults.length);
    } else {
      const graded = await this.gradeWithExecutor(request, source, testSet, resultFile, log);
      document = graded.result;
      executionLog = graded.log;
    }
    const valid = validateGradingResult(document);
    if (!valid.ok) throw new Error(`internal: produced result violates its schema: ${valid.errors.join('; ')}`);
    await this.step('s3', () => this.deps.s3.putResult(request.requestId, JSON.stringify(document, null, 2), executionLog));
    return { document, cacheKey, cached: !!cached };
  }

  private async gradeWithExecutor(request: GradingRequest, source: string, testSet: Awaited<ReturnType<S3Store['readTestSet']>>, resultFile: string, log: RequestLog) {
    for (;;) {
      try {
        const graded = await gradeSubmission({
          request,
          source,
          testSet,
          executor: this.deps.executor,
          checkerHost: this.deps.checkerHost,
          resultFile,
          onCase: (r, total) => this.publishCase(request.requestId, r, total),
        });
        this.noteExecutor(true);
        return graded;
      } catch (error) {
        if (!(error instanceof ExecutorUnavailableError)) throw error;
        this.noteExecutor(false, error.message);
        this.opts.metrics?.(executorUnavailableMetricLine(this.opts.environment, { requestId: request.requestId, executor: this.deps.executor.name, error: error.message }));
        if (this.stopping) throw new ShuttingDown();
        const wait = error.retryAfterMs ?? this.opts.executorRetryMs ?? 5000;
        log('warn', 'executor unavailable; holding the request and retrying', { error: error.message, retryInMs: wait });
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  private noteExecutor(available: boolean, error?: string): void {
    if (available !== this.executorStatus.available) this.executorStatus.since = new Date();
    this.executorStatus.available = available;
    this.executorStatus.error = error;
  }

  /** Progress is best effort: a lost event is recovered by the final result. */
  private publishCase(requestId: string, r: TestResult, total: number): void {
    const event: CaseProgressEvent = { type: 'case', requestId, case: r.case, total, status: r.status, time: r.time, memory: r.memory };
    this.deps.session.send(this.opts.destinations.progress, JSON.stringify(event), { 'correlation-id': requestId }, 5000).catch(() => undefined);
  }

  /** grading-results (persistent, correlation-id = requestId), the request's reply-to, then the `final` progress event. */
  private async publishFinal(result: GradingResult, request: InboundMessage, opts = { progress: true }): Promise<void> {
    const body = JSON.stringify(result);
    const properties = { grading_request_id: result.requestId, grading_status: result.status };
    const headers = { persistent: 'true', 'correlation-id': result.requestId, ...properties };
    await this.step('broker', () => this.deps.session.send(this.opts.destinations.results, body, headers));
    const replyTo = replyDestination(request.headers['reply-to'], this.opts.destinations);
    if (replyTo) {
      // JMS request/reply (Spring's sendAndReceive): the correlation id is the request's, else its message id.
      const correlationId = request.headers['correlation-id'] || request.headers['message-id'] || result.requestId;
      // Best effort and not retried: the requester may have gone (a temporary queue of a closed connection).
      await (this.deps.replies ?? this.deps.session)
        .send(replyTo, body, { persistent: 'true', 'correlation-id': correlationId, ...properties }, 5000)
        .catch((error) => {
          const fields = { requestId: result.requestId, replyTo, error: (error as Error).message };
          this.deps.log('warn', 'could not send the result to reply-to', fields);
        });
    } else if (request.headers['reply-to']) {
      const fields = { requestId: result.requestId, replyTo: request.headers['reply-to'] };
      this.deps.log('warn', 'reply-to ignored: not a destination results may be sent to', fields);
    }
    if (!opts.progress) return;
    const event: FinalProgressEvent = { type: 'final', requestId: result.requestId, result };
    await this.deps.session.send(this.opts.destinations.progress, JSON.stringify(event), { 'correlation-id': result.requestId }, 5000).catch(() => undefined);
  }

  private async deadLetter(message: InboundMessage, source: string, reason: string, detail: string, requestId?: string): Promise<void> {
    const values: Record<keyof typeof DLQ_HEADERS, string> = {
      reason,
      detail: headerSafe(detail),
      originalDestination: source,
      originalMessageId: message.headers['message-id'] ?? '',
      failedAt: new Date().toISOString(),
    };
    const headers: Headers = { persistent: 'true' };
    for (const [key, names] of Object.entries(DLQ_HEADERS)) {
      for (const name of names) headers[name] = values[key as keyof typeof DLQ_HEADERS];
    }
    if (requestId) {
      headers['correlation-id'] = requestId;
      headers.grading_request_id = requestId;
    }
    await this.step('broker', () => this.deps.session.send(this.opts.destinations.dlq, message.body, headers));
    this.stats.deadLettered++;
    this.deps.log('warn', 'dead-lettered', { requestId, reason, detail: detail.slice(0, 500) });
  }

  private async ack(message: InboundMessage): Promise<void> {
    try {
      await this.deps.session.ack(message);
    } catch (error) {
      // The connection that delivered it is gone; the broker redelivers and the stored result is re-published.
      this.deps.log(error instanceof StaleMessageError ? 'info' : 'warn', 'ack not delivered; the broker will redeliver', { error: (error as Error).message });
    }
  }

  /** Retries an S3/database/broker call on allow-listed transient errors; anything else is thrown at once. */
  private async step<T>(kind: StepKind, what: () => Promise<T>): Promise<T> {
    // 8 tries, 0.5 s doubling to 8 s: rides out an S3, database or broker outage of 15-30 s.
    const retry = this.opts.retry ?? { attempts: 8, initialDelayMs: 500, maxDelayMs: 8000 };
    // A broker send fails only when the connection is lost or missing (session.ts): always transient.
    const transient = (error: unknown) => kind === 'broker' || isTransientError(error);
    try {
      return await withRetry(what, {
        ...retry,
        retryable: transient,
        onRetry: (error, attempt, delayMs) => {
          this.deps.log('warn', 'transient failure; retrying', { kind, error: (error as Error).message, attempt, delayMs });
        },
      });
    } catch (error) {
      throw transient(error) ? new RetriesExhausted(kind, error) : error;
    }
  }
}

/** The failed result for a rejection. */
function failedResult(requestId: string, rejection: Rejection): GradingResult {
  const error = `${rejection.reason}: ${rejection.detail}`.slice(0, 4000);
  return { requestId, status: 'failed', reason: rejection.reason, error, timestamp: new Date().toISOString() };
}

function asRejection(error: unknown): Rejection {
  if (error instanceof Rejection) return error;
  if (error instanceof SourceNotFoundError) return new Rejection('source-not-found', error.message);
  if (error instanceof TestSetError || error instanceof ForeignBucketError || error instanceof SourceTooLargeError) {
    return new Rejection('invalid-problem-or-source', error.message);
  }
  if (error instanceof RetriesExhausted) return new Rejection('transient-failure-exhausted', error.message);
  return new Rejection('internal-error', (error as Error)?.message ?? String(error));
}

/**
 * What identifies a request's content besides its source: every field that changes grading.
 * `timestamp` is left out, so a producer that re-sends the same request later is still a duplicate.
 */
export function requestFingerprint(request: GradingRequest): string {
  const { userId, problemId, language, sourceFile, testCases, timeLimit, memoryLimit } = request;
  return sha256(['request-v1', userId, problemId, language, sourceFile, testCases, String(timeLimit), String(memoryLimit)]);
}

/** The result cache key: the same key must mean the same verdict, so the grader's version and the executor are in it. */
export function resultCacheKey(input: {
  problemId: string;
  language: string;
  sourceSha256: string;
  testSetVersion: string;
  timeLimit: number;
  memoryLimit: number;
  executor: string;
}): string {
  const { problemId, language, sourceSha256, testSetVersion, timeLimit, memoryLimit, executor } = input;
  const limits = [String(timeLimit), String(memoryLimit)];
  return sha256([`grader-v${GRADER_VERSION}`, executor, problemId, language, sourceSha256, testSetVersion, ...limits]);
}

const REPLY_TO = /^\/(queue|topic|temp-queue|temp-topic|remote-temp-queue|remote-temp-topic)\/([A-Za-z0-9._:-]{1,200})$/;

/**
 * The request's reply-to, if results may go there: a queue, topic or (remote) temporary destination
 * with a plain name, and never one of the worker's own queues (a reply to grading-requests would
 * come back as a request).
 */
export function replyDestination(replyTo: string | undefined, own: Destinations): string | undefined {
  if (!replyTo) return undefined;
  const match = REPLY_TO.exec(replyTo.trim());
  if (!match) return undefined;
  const ownNames = [own.requests, own.priority, own.results, own.dlq, own.progress].map((d) => d.replace(/^\/(queue|topic)\//, ''));
  if ((match[1] === 'queue' || match[1] === 'topic') && ownNames.includes(match[2])) return undefined;
  return `/${match[1]}/${match[2]}`;
}

function sha256(parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
}

/** STOMP header values are one line. */
function headerSafe(text: string): string {
  return text.replace(/[\r\n]+/g, ' | ').slice(0, 2000);
}
