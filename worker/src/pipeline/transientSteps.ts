/**
 * One S3, database or broker call of the pipeline, retried with back-off on allow-listed transient
 * errors (retry.ts); anything else is thrown at once, and a transient error that outlasts the
 * retries becomes RetriesExhausted (transient-failure-exhausted).
 */
import type { Logger } from '../../../core/src/log';
import { isTransientError, withRetry } from '../retry';
import { RetriesExhausted, StepKind } from './rejections';

export interface StepRetry {
  attempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

// 8 tries, 0.5 s doubling to 8 s: rides out an S3, database or broker outage of 15-30 s.
export const DEFAULT_STEP_RETRY: StepRetry = { attempts: 8, initialDelayMs: 500, maxDelayMs: 8000 };

export type Step = <T>(kind: StepKind, what: () => Promise<T>) => Promise<T>;

export function transientSteps(retry: StepRetry, log: Logger): Step {
  return async (kind, what) => {
    // A broker send fails only when the connection is lost or missing (session.ts): always transient.
    const transient = (error: unknown) => kind === 'broker' || isTransientError(error);
    try {
      return await withRetry(what, {
        ...retry,
        retryable: transient,
        onRetry: (error, attempt, delayMs) => {
          log('warn', 'transient failure; retrying', { kind, error: (error as Error).message, attempt, delayMs });
        },
      });
    } catch (error) {
      throw transient(error) ? new RetriesExhausted(kind, error) : error;
    }
  };
}
