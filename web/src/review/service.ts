/**
 * Code review on request: only for a graded submission, only by its author, one stored review per
 * submission unless the author asks to regenerate, and a per-user limit on generations (each one
 * costs a model call; reading a stored review costs nothing and is not limited).
 */
import { isLanguage, Language } from '../../../worker/src/languages';
import { HttpError } from '../http';
import { TokenBucketLimiter } from '../rateLimit';
import type { ProblemSource } from '../server';
import { Reviewer, ReviewNotConfiguredError, ReviewServiceError } from './port';
import type { ReviewStore, StoredReview } from './store';

export interface ReviewServiceDeps {
  store: ReviewStore;
  /** The configured reviewer, or why there is none (answered as 503). */
  reviewer: Reviewer | ReviewNotConfiguredError;
  problems: ProblemSource;
  readSource(requestId: string, language: Language): Promise<string | undefined>;
  /** Generations per user. Default 3 at once, then 10 per hour. */
  userRateLimit?: { capacity: number; refillPerSecond: number };
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

export interface ReviewOutcome {
  review: StoredReview;
  /** False when the stored review was returned. */
  created: boolean;
}

export class ReviewService {
  private readonly limiter: TokenBucketLimiter;
  /** One generation per submission at a time in this instance; a second request waits for it. */
  private readonly inFlight = new Map<string, Promise<ReviewOutcome>>();

  constructor(private readonly deps: ReviewServiceDeps) {
    this.limiter = new TokenBucketLimiter(deps.userRateLimit ?? { capacity: 3, refillPerSecond: 10 / 3600 });
  }

  async get(requestId: string): Promise<StoredReview> {
    const review = await this.deps.store.get(requestId);
    if (!review) throw new HttpError(404, 'not_found', `submission ${requestId} has no review; ask for one with POST /api/submissions/${requestId}/review`);
    return review;
  }

  async request(requestId: string, userId: string, opts: { regenerate?: boolean } = {}): Promise<ReviewOutcome> {
    const submission = await this.deps.store.submission(requestId);
    if (!submission) throw new HttpError(404, 'not_found', `no graded submission ${requestId}`);
    if (submission.userId !== userId) throw new HttpError(403, 'forbidden', 'only the author of a submission can ask for its review');
    if (submission.status === 'pending') throw new HttpError(409, 'not_graded', `submission ${requestId} is still being graded; ask for a review once its final result has arrived`);
    if (submission.status !== 'completed' || !submission.verdict) {
      throw new HttpError(409, 'not_gradable', `grading of submission ${requestId} failed without a verdict, so there is nothing to review; submit again`);
    }
    if (!opts.regenerate) {
      const stored = await this.deps.store.get(requestId);
      if (stored) return { review: stored, created: false };
    }
    const pending = this.inFlight.get(requestId);
    if (pending) return pending;

    const reviewer = this.deps.reviewer;
    if (reviewer instanceof ReviewNotConfiguredError) throw new HttpError(503, 'review_unavailable', reviewer.message);
    const allowed = this.limiter.take(userId);
    if (!allowed.allowed) {
      throw new HttpError(429, 'rate_limited', `too many review requests from user ${userId}; retry in ${allowed.retryAfterSeconds} s`, undefined, { 'retry-after': String(allowed.retryAfterSeconds) });
    }
    const generation = this.generate(reviewer, { ...submission, verdict: submission.verdict }, Boolean(opts.regenerate));
    this.inFlight.set(requestId, generation);
    try {
      return await generation;
    } finally {
      this.inFlight.delete(requestId);
    }
  }

  private async generate(reviewer: Reviewer, submission: { requestId: string; userId: string; problemId: string; language: string; verdict: string }, replace: boolean): Promise<ReviewOutcome> {
    const { requestId, language } = submission;
    if (!isLanguage(language)) throw new Error(`submission ${requestId} has an unknown language "${language}"`);
    const [sourceCode, problem] = await Promise.all([this.deps.readSource(requestId, language), this.deps.problems.get(submission.problemId)]);
    if (sourceCode === undefined) throw new HttpError(410, 'source_gone', `the source of submission ${requestId} is no longer stored, so it cannot be reviewed`);
    let review;
    try {
      review = await reviewer.review({ problemId: submission.problemId, problemDescription: problem?.description ?? '', language, verdict: submission.verdict, sourceCode });
    } catch (error) {
      if (!(error instanceof ReviewServiceError)) throw error;
      this.deps.log?.('warn', 'review service failed', { requestId, status: error.status, error: error.message });
      throw new HttpError(502, 'review_failed', 'the review service did not answer; try again in a minute', undefined, { 'retry-after': '60' });
    }
    const stored = await this.deps.store.save({ ...review, requestId, verdict: submission.verdict }, submission.userId, { replace });
    this.deps.log?.('info', 'review stored', { requestId, model: stored.model, regenerated: replace });
    return { review: stored, created: true };
  }
}
