/**
 * Grades one valid request whose source is read: fetches the test set, reuses the result of an
 * identical earlier submission (resultCacheKey) or runs the executor, streaming one progress event
 * per finished case, and writes results/{id}/. An unavailable executor is waited for without limit
 * (the wait ends early when the worker stops; then the request is left for redelivery).
 */
import type { GradingRequest } from '../../../core/src/contracts/request';
import type { GradingResult, TestResult } from '../../../core/src/contracts/result';
import { validateGradingResult } from '../../../core/src/contracts/result';
import type { Logger } from '../../../core/src/log';
import { Executor, ExecutorUnavailableError } from '../executors/port';
import { gradeSubmission } from '../grading/engine';
import type { CheckerHost } from '../grading/programChecker';
import { executorUnavailableMetricLine } from '../metrics';
import type { TestSet } from '../problems/testSet';
import type { ProgressPublisher, ResultFiles, ResultStore, TestSets } from './ports';
import { ShuttingDown } from './rejections';
import { resultCacheKey, sha256 } from './rules';
import type { Step } from './transientSteps';

export type RequestLog = (level: Parameters<Logger>[0], msg: string, fields?: Record<string, unknown>) => void;

export interface GraderDeps {
  testSets: TestSets;
  resultFiles: ResultFiles;
  results: Pick<ResultStore, 'findCached'>;
  executor: Executor;
  /** Runs problems' checker programs when the executor cannot (Judge0): the worker's local sandbox. */
  checkerHost?: CheckerHost;
  progress: ProgressPublisher;
  step: Step;
}

export interface GraderOptions {
  environment: string;
  /** Pause between tries while the executor is unavailable (unless it says how long). Default 5000. */
  executorRetryMs?: number;
  metrics?: (line: string) => void;
}

export interface Graded {
  document: GradingResult;
  cacheKey: string;
  cached: boolean;
}

export class SubmissionGrader {
  /** The executor as the last grading found it (the heartbeat reports it). */
  readonly executorStatus: { available: boolean; since: Date; error?: string } = { available: true, since: new Date() };

  constructor(
    private readonly deps: GraderDeps,
    private readonly opts: GraderOptions,
  ) {}

  async grade(request: GradingRequest, source: string, log: RequestLog, signal: AbortSignal): Promise<Graded> {
    const { step, executor, resultFiles } = this.deps;
    const testSet = await step('s3', () => this.deps.testSets.readTestSet(request.testCases));
    const cacheKey = resultCacheKey({
      ...request,
      sourceSha256: sha256([source]),
      testSetVersion: testSet.version,
      executor: executor.name,
    });
    const resultFile = resultFiles.resultUri(request.requestId);

    const cached = await step('database', () => this.deps.results.findCached(cacheKey));
    let document: GradingResult;
    let executionLog: string;
    if (cached?.result) {
      const timestamp = new Date().toISOString();
      document = { requestId: request.requestId, status: 'completed', result: cached.result, resultFile, timestamp };
      executionLog =
        `request ${request.requestId}: identical to ${cached.requestId} ` +
        '(same problem, language, source, test cases, limits and grader); its result is reused.\n';
      const cases = cached.result.testResults;
      for (const testResult of cases) this.publishCase(request.requestId, testResult, cases.length);
    } else {
      const graded = await this.gradeWithExecutor(request, source, testSet, resultFile, log, signal);
      document = graded.result;
      executionLog = graded.log;
    }
    const valid = validateGradingResult(document);
    if (!valid.ok) throw new Error(`internal: produced result violates its schema: ${valid.errors.join('; ')}`);
    await step('s3', () => resultFiles.putResult(request.requestId, JSON.stringify(document, null, 2), executionLog));
    return { document, cacheKey, cached: !!cached };
  }

  private async gradeWithExecutor(
    request: GradingRequest,
    source: string,
    testSet: TestSet,
    resultFile: string,
    log: RequestLog,
    signal: AbortSignal,
  ) {
    const { executor, checkerHost } = this.deps;
    for (;;) {
      try {
        const onCase = (r: TestResult, total: number) => this.publishCase(request.requestId, r, total);
        const graded = await gradeSubmission({ request, source, testSet, executor, checkerHost, resultFile, onCase });
        this.noteExecutor(true);
        return graded;
      } catch (error) {
        if (!(error instanceof ExecutorUnavailableError)) throw error;
        this.noteExecutor(false, error.message);
        const fields = { requestId: request.requestId, executor: executor.name, error: error.message };
        this.opts.metrics?.(executorUnavailableMetricLine(this.opts.environment, fields));
        if (signal.aborted) throw new ShuttingDown();
        const wait = error.retryAfterMs ?? this.opts.executorRetryMs ?? 5000;
        log('warn', 'executor unavailable; holding the request and retrying', { error: error.message, retryInMs: wait });
        await abortableDelay(wait, signal);
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
    const event = { type: 'case' as const, requestId, case: r.case, total, status: r.status, time: r.time, memory: r.memory };
    this.deps.progress.progress(event).catch(() => undefined);
  }
}

/** Resolves after ms, or at once when the signal aborts (the caller then sees the worker is stopping). */
function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
