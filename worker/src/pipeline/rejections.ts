/**
 * How a request ends when it is not graded: a Rejection carries the failure reason code
 * (FAILURE_REASONS) and the detail, and asRejection classifies every other error: only the
 * allow-listed transient ones (RetriesExhausted) count as transient-failure-exhausted.
 */
import type { FailureReason, GradingResult } from '../../../core/src/contracts/result';
import { TestSetError } from '../problems/testSet';
import { ForeignBucketError, SourceNotFoundError, SourceTooLargeError } from '../storage/s3Store';

/** A request the worker will not grade: a failed result with this reason, and a DLQ copy. */
export class Rejection extends Error {
  constructor(
    readonly reason: FailureReason,
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}

export type StepKind = 's3' | 'database' | 'broker';

/** An allow-listed transient failure that outlasted its retries. */
export class RetriesExhausted extends Error {
  constructor(
    readonly what: StepKind,
    readonly last: unknown,
  ) {
    super(`${what}: ${(last as Error)?.message ?? String(last)}`);
  }
}

/** The executor is unavailable and the worker is stopping: the request is left for redelivery. */
export class ShuttingDown extends Error {}

/** The failed result for a rejection. */
export function failedResult(requestId: string, rejection: Rejection): GradingResult {
  const error = `${rejection.reason}: ${rejection.detail}`.slice(0, 4000);
  return { requestId, status: 'failed', reason: rejection.reason, error, timestamp: new Date().toISOString() };
}

export function asRejection(error: unknown): Rejection {
  if (error instanceof Rejection) return error;
  if (error instanceof SourceNotFoundError) return new Rejection('source-not-found', error.message);
  if (error instanceof TestSetError || error instanceof ForeignBucketError || error instanceof SourceTooLargeError) {
    return new Rejection('invalid-problem-or-source', error.message);
  }
  if (error instanceof RetriesExhausted) return new Rejection('transient-failure-exhausted', error.message);
  return new Rejection('internal-error', (error as Error)?.message ?? String(error));
}
