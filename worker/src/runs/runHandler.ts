/**
 * A run message (`"mode": "run"` on grading-requests, core/src/contracts/run.ts) from delivery to
 * ack: validated, run once (execute.ts), its result published as a `run` event on the progress
 * topic. Never anything on grading-results, nothing stored: a run is not a submission.
 *
 * - not a valid run: the original to grading-dlq (the worker's dead-letter format and reason), and
 *   an IE result when its runId can be read, so its owner learns why at once;
 * - past its `expires` header (it waited in the queue longer than its owner waits): dropped;
 * - problem unreadable, executor unavailable for a while, anything unexpected: an IE result saying so
 *   (a run is cheap to repeat; holding it would only make its owner wait longer);
 * - the result cannot be published: the message is handed back (a run request is non-persistent,
 *   so the broker drops it rather than dead-lettering it; its owner sees it expire).
 * A run that crashes the worker is redelivered until its expiry: the queue lifetime bounds the loop.
 * A problem's limits are cached for a minute per worker (a changed manifest applies to runs within a minute).
 */
import type { Logger } from '../../../core/src/log';
import type { RunProgressEvent } from '../../../core/src/contracts/progress';
import { readableRunId, RunRequest, RunResult, validateRunRequest, validateRunResult } from '../../../core/src/contracts/run';
import type { InboundMessage } from '../../../core/src/queue/stomp';
import { ExecutorUnavailableError, Executor } from '../executors/port';
import { isTransientError, withRetry } from '../retry';
import { executeRun, notRun, RunLimitsSource } from './execute';
import { runMetricLine } from './metrics';

/** What the handler reads of a delivery (the worker's consumer hands it a Delivery; tests an InboundMessage). */
export type RunMessage = Pick<InboundMessage, 'body' | 'headers'>;

export interface RunHandlerDeps {
  session: {
    send(destination: string, body: string, headers?: Record<string, string>, timeoutMs?: number): Promise<void>;
    ack(message: RunMessage): Promise<void>;
    nack(message: RunMessage): Promise<void>;
  };
  /** The problem's limits from its test set (the worker's S3 store: readTestSet). */
  readProblem(testCasesUri: string): Promise<RunLimitsSource>;
  executor: Executor;
  log: Logger;
  /** The progress topic. */
  progress: string;
  /** Sends the original message to grading-dlq with a reason (the worker's own dead-letter path). */
  deadLetter(reason: string, detail: string): Promise<void>;
  /** EMF lines (metrics.ts) and the environment they name; none when absent. */
  metrics?: (line: string) => void;
  environment?: string;
  /** Tries while the executor is unavailable, and the pause between them. Default 3 tries, 5 s. */
  executorTries?: number;
  executorRetryMs?: number;
  now?: () => Date;
}

export async function handleRun(message: RunMessage, deps: RunHandlerDeps): Promise<void> {
  const expires = Number(message.headers.expires);
  if (expires > 0 && expires < Date.now()) {
    deps.log('info', 'run expired in the queue; dropped', { runId: readableRunId(message.body) });
    return ack(message, deps);
  }
  let data: unknown;
  let errors: string[];
  try {
    data = JSON.parse(message.body);
    const checked = validateRunRequest(data);
    if (checked.ok) return await runValid(message, checked.value, deps);
    errors = checked.errors;
  } catch (error) {
    errors = [`body is not JSON: ${(error as Error).message}`];
  }
  return rejectInvalid(message, data === undefined ? 'invalid-json' : 'schema-validation', errors.join('; '), deps);
}

async function rejectInvalid(message: RunMessage, reason: string, detail: string, deps: RunHandlerDeps): Promise<void> {
  const runId = readableRunId(message.body);
  deps.log('warn', 'invalid run request', { runId, reason, detail: detail.slice(0, 500) });
  try {
    await deps.deadLetter(reason, detail);
    if (runId) await publish(notRun({ runId }, `the run request is invalid (${reason}): ${detail}`, deps.now), deps);
  } catch (error) {
    return handBack(message, error, deps);
  }
  return ack(message, deps);
}

async function runValid(message: RunMessage, request: RunRequest, deps: RunHandlerDeps): Promise<void> {
  const started = Date.now();
  const result = await produce(request, deps);
  const checked = validateRunResult(result);
  const document = checked.ok
    ? result
    : notRun({ runId: request.runId }, 'internal error: the run result does not match its schema', deps.now);
  if (!checked.ok) deps.log('error', 'run result violates its schema', { runId: request.runId, errors: checked.errors });
  try {
    await publish(document, deps);
  } catch (error) {
    return handBack(message, error, deps);
  }
  const ms = Date.now() - started;
  deps.log('info', 'run finished', { runId: request.runId, userId: request.userId, status: document.status, ms });
  deps.metrics?.(runMetricLine(deps.environment ?? 'unknown', document.status, ms, { runId: request.runId }));
  return ack(message, deps);
}

/** The run's result; every failure of the run itself becomes an IE result saying why. */
async function produce(request: RunRequest, deps: RunHandlerDeps): Promise<RunResult> {
  let problem: RunLimitsSource;
  try {
    problem = await withRetry(() => problemLimits(request.testCases, deps), {
      attempts: 3,
      initialDelayMs: 300,
      maxDelayMs: 2000,
      retryable: isTransientError,
    });
  } catch (error) {
    deps.log('warn', 'run: problem not readable', { runId: request.runId, error: (error as Error).message });
    return notRun({ runId: request.runId }, `could not read problem ${request.problemId}'s limits; try again later`, deps.now);
  }
  const tries = deps.executorTries ?? 3;
  for (let attempt = 1; ; attempt++) {
    try {
      return await executeRun(request, problem, deps.executor, deps.now);
    } catch (error) {
      if (error instanceof ExecutorUnavailableError && attempt < tries) {
        const wait = Math.min(error.retryAfterMs ?? Infinity, deps.executorRetryMs ?? 5000);
        deps.log('warn', 'run: executor unavailable; retrying', { runId: request.runId, error: error.message, retryInMs: wait });
        await new Promise((resolve) => setTimeout(resolve, wait));
        continue;
      }
      const busy = error instanceof ExecutorUnavailableError;
      deps.log(busy ? 'warn' : 'error', 'run could not be done', { runId: request.runId, error: (error as Error).message });
      return notRun(
        { runId: request.runId },
        busy ? 'no executor is available right now; try again in a minute' : 'internal error while running the program',
        deps.now,
      );
    }
  }
}

/** Problems' limits by test-case prefix, for a minute: a user runs again and again, and a test set can be large. */
const LIMITS_TTL_MS = 60_000;
const LIMITS_CACHED = 500;
const limitsCache = new Map<string, { limits: RunLimitsSource; at: number }>();

/** Only the limits of the test set are kept (its test data is let go at once). */
async function problemLimits(testCases: string, deps: RunHandlerDeps): Promise<RunLimitsSource> {
  const hit = limitsCache.get(testCases);
  if (hit && Date.now() - hit.at < LIMITS_TTL_MS) return hit.limits;
  const { timeLimitMs, memoryLimitMb, outputLimitBytes, languageLimits, interactorProgram } = await deps.readProblem(testCases);
  const limits: RunLimitsSource = { timeLimitMs, memoryLimitMb, outputLimitBytes, languageLimits };
  if (interactorProgram) limits.interactorProgram = interactorProgram;
  limitsCache.delete(testCases);
  limitsCache.set(testCases, { limits, at: Date.now() });
  while (limitsCache.size > LIMITS_CACHED) limitsCache.delete(limitsCache.keys().next().value as string);
  return limits;
}

async function publish(result: RunResult, deps: RunHandlerDeps): Promise<void> {
  const event: RunProgressEvent = { type: 'run', runId: result.runId, result };
  const headers = { 'correlation-id': result.runId, grading_run_id: result.runId, grading_status: result.status };
  await withRetry(() => deps.session.send(deps.progress, JSON.stringify(event), headers, 5000), {
    attempts: 3,
    initialDelayMs: 500,
    maxDelayMs: 2000,
  });
}

async function ack(message: RunMessage, deps: RunHandlerDeps): Promise<void> {
  await deps.session.ack(message).catch((error) => deps.log('info', 'run: ack not delivered', { error: (error as Error).message }));
}

async function handBack(message: RunMessage, error: unknown, deps: RunHandlerDeps): Promise<void> {
  deps.log('error', 'run outcome not delivered; returning the message', {
    runId: readableRunId(message.body),
    error: (error as Error).message,
  });
  await deps.session.nack(message).catch(() => undefined);
}
