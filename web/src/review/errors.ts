/**
 * Why the review service refused or failed, as domain errors: the service names the reason, the
 * HTTP layer (server.ts reviewHttpError) alone decides the status each one is answered with.
 */

export type ReviewErrorReason =
  /** No review configured on this gateway (or misconfigured). */
  | 'disabled'
  /** No such graded submission, or no stored review for it. */
  | 'not-found'
  /** Someone other than the author asked. */
  | 'not-author'
  /** The submission is still being graded. */
  | 'not-graded'
  /** Grading failed without a verdict: nothing to review. */
  | 'not-gradable'
  /** The submitted source is no longer stored. */
  | 'source-gone'
  /** A budget (account, address or the shared daily one) is used up. */
  | 'budget-exhausted'
  /** The model endpoint did not answer after retries. */
  | 'reviewer-failed';

export class ReviewError extends Error {
  constructor(
    readonly reason: ReviewErrorReason,
    message: string,
    readonly details: { budget?: 'account' | 'address' | 'daily'; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'ReviewError';
  }
}
