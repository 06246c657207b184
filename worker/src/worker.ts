/**
 * The grading worker: takes requests from grading-priority (first) and grading-requests, grades
 * each once, makes the result durable (S3, MySQL, grading-results) and only then acks.
 *
 * Failure handling, in order of what can go wrong with a message:
 * - not a valid request: to grading-dlq with the reason, acked (never dropped, never retried);
 * - already graded (redelivery, duplicate): the stored result is published again, acked (a failed
 *   one is graded again when the message is a replay from grading-dlq: header x-dlq-replay);
 * - seen more than maxAttempts times (it keeps crashing workers): grading-dlq + a failed result;
 * - S3/database/broker trouble: retried with back-off, then grading-dlq + a failed result;
 * - executor unavailable (Judge0 down): waits and retries without limit and without counting an
 *   attempt; on shutdown the message is left unacked for the broker to redeliver.
 */
import { createHash } from 'node:crypto';
import type { GradingRequest } from './contracts/request';
import { parseGradingRequest } from './contracts/request';
import type { GradingResult, TestResult } from './contracts/result';
import { validateGradingResult } from './contracts/result';
import type { CaseProgressEvent, FinalProgressEvent } from './contracts/progress';
import { ExecutorUnavailableError, Executor } from './executors/port';
import { gradeSubmission } from './grading/engine';
import type { Logger } from './log';
import { executorUnavailableMetricLine, gradedMetricLine } from './metrics';
import { TestSetError } from './problems/testSet';
import { BrokerSession } from './queue/session';
import { Headers, InboundMessage, StaleMessageError } from './queue/stomp';
import type { MysqlResultStore, RequestMeta } from './results/mysqlStore';
import { withRetry } from './retry';
import { ForeignBucketError, S3Store } from './storage/s3Store';

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
  s3: S3Store;
  results: MysqlResultStore;
  executor: Executor;
  log: Logger;
}

interface Delivery {
  message: InboundMessage;
  source: string;
}

/** A request the worker will not grade: it goes to grading-dlq with this reason. */
class Rejection extends Error {
  constructor(
    readonly reason: string,
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}

class ShuttingDown extends Error {}

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
  readonly stats = { graded: 0, deadLettered: 0, republished: 0, cacheHits: 0, failed: 0 };
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
    const started = Date.now();
    const parsed = parseGradingRequest(message.body);
    if (!parsed.ok) {
      await this.deadLetter(message, source, parsed.reason === 'invalid-json' ? 'invalid-json' : 'schema-validation', parsed.errors.join('; '));
      return this.ack(message);
    }
    const request = parsed.value;
    const meta: RequestMeta = { requestId: request.requestId, userId: request.userId, problemId: request.problemId, language: request.language };
    const log = (level: Parameters<Logger>[0], msg: string, fields: Record<string, unknown> = {}) => this.deps.log(level, msg, { requestId: request.requestId, ...fields });

    try {
      let stored = await this.step(() => this.deps.results.get(request.requestId));
      if (stored?.status === 'failed' && message.headers['x-dlq-replay'] === 'true' && (await this.step(() => this.deps.results.reopenFailed(request.requestId)))) {
        // Replayed from grading-dlq after a fix: grade again instead of re-publishing the failure.
        log('info', 'replayed from grading-dlq: grading again', { replayedFrom: message.headers['x-replayed-from'] });
        stored = undefined;
      }
      if (stored) {
        log('info', 'already graded: publishing the stored result again', { redelivered: message.headers.redelivered === 'true' });
        await this.publishFinal(stored);
        this.stats.republished++;
        return this.ack(message);
      }
      const attempts = await this.step(() => this.deps.results.beginAttempt(meta));
      if (attempts > this.opts.maxAttempts) {
        throw new Rejection('max-attempts-exceeded', `delivered ${attempts} times without finishing (the worker may have crashed on it each time)`);
      }
      const result = await this.grade(request, log);
      await this.step(() => this.deps.results.saveResult(meta, result.document, result.cacheKey));
      await this.publishFinal(result.document);
      this.stats.graded++;
      this.opts.metrics?.(gradedMetricLine(this.opts.environment, result.document.result?.verdict ?? 'none', Date.now() - started, { requestId: request.requestId }));
      log('info', 'graded', { verdict: result.document.result?.verdict, score: result.document.result?.score, ms: Date.now() - started, cached: result.cached });
      return this.ack(message);
    } catch (error) {
      if (error instanceof ShuttingDown) {
        log('warn', 'left for redelivery: shutting down while the executor is unavailable');
        await this.deps.results.releaseAttempt(request.requestId).catch(() => undefined);
        return;
      }
      const rejection =
        error instanceof Rejection
          ? error
          : error instanceof TestSetError || error instanceof ForeignBucketError
            ? new Rejection('invalid-problem-or-source', error.message)
            : new Rejection('transient-failure-exhausted', (error as Error).message);
      log('error', 'grading failed; dead-lettering', { reason: rejection.reason, detail: rejection.detail });
      const failed: GradingResult = { requestId: request.requestId, status: 'failed', error: `${rejection.reason}: ${rejection.detail}`.slice(0, 4000), timestamp: new Date().toISOString() };
      try {
        // The stored failed result first: if anything below fails, the redelivery finds it and
        // re-publishes it, so a request never ends with both a DLQ entry and a different result.
        await this.step(() => this.deps.results.saveResult(meta, failed));
        await this.deadLetter(message, source, rejection.reason, rejection.detail, request.requestId);
        await this.publishFinal(failed);
        this.stats.failed++;
        return this.ack(message);
      } catch (inner) {
        // Could not even record the failure: hand the message back (the broker's redelivery policy
        // applies) rather than lose it or hold it unacknowledged.
        log('error', 'could not record the failure; returning the message for redelivery', { error: (inner as Error).message });
        await this.deps.session.nack(message).catch(() => undefined);
      }
    }
  }

  private async grade(request: GradingRequest, log: (level: Parameters<Logger>[0], msg: string, fields?: Record<string, unknown>) => void): Promise<{ document: GradingResult; cacheKey: string; cached: boolean }> {
    const [source, testSet] = await Promise.all([this.step(() => this.deps.s3.readSource(request.sourceFile)), this.step(() => this.deps.s3.readTestSet(request.testCases))]);
    const cacheKey = sha256([request.problemId, request.language, sha256([source]), testSet.version, String(request.timeLimit), String(request.memoryLimit), this.deps.executor.name]);
    const resultFile = this.deps.s3.resultUri(request.requestId);

    const cached = await this.step(() => this.deps.results.findCached(cacheKey));
    let document: GradingResult;
    let executionLog: string;
    if (cached?.result) {
      this.stats.cacheHits++;
      document = { requestId: request.requestId, status: 'completed', result: cached.result, resultFile, timestamp: new Date().toISOString() };
      executionLog = `request ${request.requestId}: identical to ${cached.requestId} (same problem, language, source, test cases and limits); its result is reused.\n`;
      for (const testResult of cached.result.testResults) this.publishCase(request.requestId, testResult, cached.result.testResults.length);
    } else {
      const graded = await this.gradeWithExecutor(request, source, testSet, resultFile, log);
      document = graded.result;
      executionLog = graded.log;
    }
    const valid = validateGradingResult(document);
    if (!valid.ok) throw new Error(`internal: produced result violates its schema: ${valid.errors.join('; ')}`);
    await this.step(() => this.deps.s3.putResult(request.requestId, JSON.stringify(document, null, 2), executionLog));
    return { document, cacheKey, cached: !!cached };
  }

  private async gradeWithExecutor(request: GradingRequest, source: string, testSet: Awaited<ReturnType<S3Store['readTestSet']>>, resultFile: string, log: (level: Parameters<Logger>[0], msg: string, fields?: Record<string, unknown>) => void) {
    for (;;) {
      try {
        const graded = await gradeSubmission({ request, source, testSet, executor: this.deps.executor, resultFile, onCase: (r, total) => this.publishCase(request.requestId, r, total) });
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

  private async publishFinal(result: GradingResult): Promise<void> {
    const headers = { persistent: 'true', 'correlation-id': result.requestId };
    await this.step(() => this.deps.session.send(this.opts.destinations.results, JSON.stringify(result), headers));
    const event: FinalProgressEvent = { type: 'final', requestId: result.requestId, result };
    await this.deps.session.send(this.opts.destinations.progress, JSON.stringify(event), { 'correlation-id': result.requestId }, 5000).catch(() => undefined);
  }

  private async deadLetter(message: InboundMessage, source: string, reason: string, detail: string, requestId?: string): Promise<void> {
    const headers: Headers = {
      persistent: 'true',
      'x-error-reason': reason,
      'x-error-detail': headerSafe(detail),
      'x-original-destination': source,
      'x-original-message-id': message.headers['message-id'] ?? '',
      'x-failed-at': new Date().toISOString(),
    };
    if (requestId) headers['correlation-id'] = requestId;
    await this.step(() => this.deps.session.send(this.opts.destinations.dlq, message.body, headers));
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

  private step<T>(what: () => Promise<T>): Promise<T> {
    // 8 tries, 0.5 s doubling to 8 s: rides out an S3, database or broker outage of 15-30 s.
    const retry = this.opts.retry ?? { attempts: 8, initialDelayMs: 500, maxDelayMs: 8000 };
    return withRetry(what, {
      ...retry,
      retryable: (error) => !(error instanceof TestSetError || error instanceof ForeignBucketError || error instanceof Rejection),
      onRetry: (error, attempt, delayMs) => this.deps.log('warn', 'transient failure; retrying', { error: (error as Error).message, attempt, delayMs }),
    });
  }
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
