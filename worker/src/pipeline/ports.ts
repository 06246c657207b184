/**
 * What the grading pipeline needs from the world, each as small as the pipeline uses it. The
 * shipped implementations: S3Store (sources, test sets, result files), MysqlResultStore (results),
 * StompOutbox (results, progress, dead letters), an Executor (executors/port.ts). Tests use
 * in-memory fakes of the same interfaces.
 */
import type { GradingResult } from '../../../core/src/contracts/result';
import type { GradingProgressEvent } from '../../../core/src/contracts/progress';
import type { RequestMeta, RequestRecord } from '../../../core/src/results/mysqlStore';
import type { TestSet } from '../problems/testSet';

export type { RequestMeta, RequestRecord };

/**
 * Submitted sources. Rejects with SourceNotFoundError (missing), ForeignBucketError (outside the
 * grading bucket) or SourceTooLargeError (storage/s3Store.ts): none of them is retried.
 */
export interface SourceStore {
  readSource(uri: string): Promise<string>;
}

/** A problem's test cases; rejects with TestSetError when the set is invalid or missing. */
export interface TestSets {
  readTestSet(prefixUri: string): Promise<TestSet>;
}

/** results/{requestId}/result.json and execution.log. */
export interface ResultFiles {
  resultUri(requestId: string): string;
  putResult(requestId: string, resultJson: string, executionLog: string): Promise<unknown>;
}

/**
 * One row per request id: attempts, the request's fingerprint, the final result (written once: the
 * first final result stays), whether it was published, and the result cache.
 */
export interface ResultStore {
  getRecord(requestId: string): Promise<RequestRecord | undefined>;
  /** Counts an attempt; returns the count including this one. */
  beginAttempt(meta: RequestMeta): Promise<number>;
  releaseAttempt(requestId: string): Promise<void>;
  /** A failed row back to pending (a replay from the DLQ); false when the row is not failed. */
  reopenFailed(requestId: string): Promise<boolean>;
  /** Stores the result unless a final one is stored; returns the stored final result (the earlier one if there was). */
  saveResult(meta: RequestMeta, result: GradingResult, cacheKey?: string): Promise<GradingResult>;
  markPublished(requestId: string): Promise<void>;
  findCached(cacheKey: string): Promise<GradingResult | undefined>;
}

export interface ResultPublisher {
  /** The result on grading-results (persistent, correlated by requestId); resolves once the broker has it. */
  publish(result: GradingResult): Promise<void>;
  /** The result to a requester's reply-to destination (already checked by replyDestination). */
  reply(destination: string, result: GradingResult, correlationId: string): Promise<void>;
}

/** Live progress; best effort (a lost event is recovered by the final result). */
export interface ProgressPublisher {
  progress(event: GradingProgressEvent): Promise<void>;
}

/** What grading-dlq keeps of a request that got a failed result (or none: no readable id). */
export interface DeadLetter {
  /** The original message body, unchanged. */
  body: string;
  reason: string;
  detail: string;
  originalDestination: string;
  originalMessageId: string;
  failedAt: string;
  requestId?: string;
}

export interface DeadLetters {
  deadLetter(letter: DeadLetter): Promise<void>;
}
