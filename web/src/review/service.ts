/**
 * Code review on request: only for a graded submission, only by its author, one stored review per
 * submission unless the author asks to regenerate. Each generation costs a model call, so three
 * budgets apply, checked in this order: per account, per client address (both per instance), and
 * a global daily budget shared by every instance through the database. Reading a stored review
 * costs nothing and is not limited.
 */
import { isLanguage, Language } from '../../../core/src/languages';
import { TokenBucketLimiter } from '../rateLimit';
import type { CodeReviews, ProblemSource } from '../ports';
import { ReviewError } from './errors';
import { Reviewer, ReviewNotConfiguredError, ReviewServiceError } from './port';
import type { ReviewStore, StoredReview } from './store';

export interface ReviewServiceDeps {
  store: ReviewStore;
  /** The configured reviewer, or why there is none (a `disabled` ReviewError). */
  reviewer: Reviewer | ReviewNotConfiguredError;
  problems: ProblemSource;
  readSource(requestId: string, language: Language): Promise<string | undefined>;
  /** Generations per user. Default 3 at once, then 10 per hour. */
  userRateLimit?: { capacity: number; refillPerSecond: number };
  /** Generations per client address. Default 5 at once, then 30 per hour. */
  addressRateLimit?: { capacity: number; refillPerSecond: number };
  /** Model calls per UTC day across every gateway instance. Default 1000. */
  dailyModelCalls?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
}

export interface ReviewOutcome {
  review: StoredReview;
  /** False when the stored review was returned. */
  created: boolean;
}

export class ReviewService implements CodeReviews {
  private readonly limiter: TokenBucketLimiter;
  private readonly addressLimiter: TokenBucketLimiter;
  /** One generation per submission at a time in this instance; a second request waits for it. */
  private readonly inFlight = new Map<string, Promise<ReviewOutcome>>();

  constructor(private readonly deps: ReviewServiceDeps) {
    this.limiter = new TokenBucketLimiter(deps.userRateLimit ?? { capacity: 3, refillPerSecond: 10 / 3600 });
    this.addressLimiter = new TokenBucketLimiter(deps.addressRateLimit ?? { capacity: 5, refillPerSecond: 30 / 3600 });
  }

  /** False when no reviewer is configured: the page hides "Review my code" (GET /api/auth says so). */
  get enabled(): boolean {
    return !(this.deps.reviewer instanceof ReviewNotConfiguredError);
  }

  async get(requestId: string): Promise<StoredReview> {
    const review = await this.deps.store.get(requestId);
    if (!review)
      throw new ReviewError(
        'not-found',
        `submission ${requestId} has no review; ask for one with POST /api/submissions/${requestId}/review`,
      );
    return review;
  }

  async request(requestId: string, userId: string, opts: { regenerate?: boolean; clientAddress?: string } = {}): Promise<ReviewOutcome> {
    const submission = await this.deps.store.submission(requestId);
    if (!submission) throw new ReviewError('not-found', `no graded submission ${requestId}`);
    if (submission.userId !== userId) throw new ReviewError('not-author', 'only the author of a submission can ask for its review');
    if (submission.status === 'pending')
      throw new ReviewError(
        'not-graded',
        `submission ${requestId} is still being graded; ask for a review once its final result has arrived`,
      );
    if (submission.status !== 'completed' || !submission.verdict) {
      throw new ReviewError(
        'not-gradable',
        `grading of submission ${requestId} failed without a verdict, so there is nothing to review; submit again`,
      );
    }
    if (!opts.regenerate) {
      const stored = await this.deps.store.get(requestId);
      if (stored) return { review: stored, created: false };
    }
    const pending = this.inFlight.get(requestId);
    if (pending) return pending;

    const reviewer = this.deps.reviewer;
    if (reviewer instanceof ReviewNotConfiguredError) throw new ReviewError('disabled', reviewer.message);
    const verdict = submission.verdict;
    // Registered before the first await, so a second click joins this generation instead of starting one.
    const generation = (async () => {
      await this.takeBudget(userId, opts.clientAddress ?? 'unknown');
      return this.generate(reviewer, { ...submission, verdict }, Boolean(opts.regenerate));
    })();
    this.inFlight.set(requestId, generation);
    try {
      return await generation;
    } finally {
      this.inFlight.delete(requestId);
    }
  }

  /** Per account, per address, then the shared daily budget; each refusal names which budget ran out. */
  private async takeBudget(userId: string, clientAddress: string): Promise<void> {
    const byUser = this.limiter.take(userId);
    if (!byUser.allowed)
      throw tooManyReviews(
        `too many review requests from your account; retry in ${byUser.retryAfterSeconds} s`,
        'account',
        byUser.retryAfterSeconds,
      );
    const byAddress = this.addressLimiter.take(clientAddress);
    if (!byAddress.allowed)
      throw tooManyReviews(
        `too many review requests from your network address; retry in ${byAddress.retryAfterSeconds} s`,
        'address',
        byAddress.retryAfterSeconds,
      );
    const limit = this.deps.dailyModelCalls ?? 1000;
    if (!(await this.deps.store.reserveModelCall(limit))) {
      const midnight = new Date();
      midnight.setUTCHours(24, 0, 0, 0);
      const seconds = Math.max(1, Math.ceil((midnight.getTime() - Date.now()) / 1000));
      throw tooManyReviews(
        `the daily code review budget (${limit} reviews for everyone) is used up; it resets at 00:00 UTC`,
        'daily',
        seconds,
      );
    }
  }

  private async generate(
    reviewer: Reviewer,
    submission: { requestId: string; userId: string; problemId: string; language: string; verdict: string },
    replace: boolean,
  ): Promise<ReviewOutcome> {
    const { requestId, language } = submission;
    if (!isLanguage(language)) throw new Error(`submission ${requestId} has an unknown language "${language}"`);
    const [sourceCode, problem] = await Promise.all([
      this.deps.readSource(requestId, language),
      this.deps.problems.get(submission.problemId),
    ]);
    if (sourceCode === undefined)
      throw new ReviewError('source-gone', `the source of submission ${requestId} is no longer stored, so it cannot be reviewed`);
    let review;
    try {
      review = await reviewer.review({
        problemId: submission.problemId,
        problemDescription: problem?.description ?? '',
        language,
        verdict: submission.verdict,
        sourceCode,
      });
    } catch (error) {
      if (!(error instanceof ReviewServiceError)) throw error;
      this.deps.log?.('warn', 'review service failed', { requestId, status: error.status, error: error.message });
      throw new ReviewError('reviewer-failed', 'the review service did not answer; try again in a minute', { retryAfterSeconds: 60 });
    }
    const stored = await this.deps.store.save({ ...review, requestId, verdict: submission.verdict }, submission.userId, { replace });
    this.deps.log?.('info', 'review stored', { requestId, model: stored.model, regenerated: replace });
    return { review: stored, created: true };
  }
}

function tooManyReviews(message: string, budget: 'account' | 'address' | 'daily', retryAfterSeconds: number): ReviewError {
  return new ReviewError('budget-exhausted', message, { budget, retryAfterSeconds });
}
