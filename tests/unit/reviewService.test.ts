import assert from 'node:assert/strict';
import { ReviewError, ReviewErrorReason } from '../../web/src/review/errors';
import { Review, ReviewInput, Reviewer, ReviewNotConfiguredError, ReviewServiceError } from '../../web/src/review/port';
import { ReviewService } from '../../web/src/review/service';
import type { GradedSubmission, ReviewStore, StoredReview } from '../../web/src/review/store';
import type { ProblemSource } from '../../web/src/ports';
import { reviewHttpError } from '../../web/src/server';

class MemoryStore implements ReviewStore {
  submissions = new Map<string, GradedSubmission>();
  reviews = new Map<string, StoredReview>();
  async submission(id: string) {
    return this.submissions.get(id);
  }
  async get(id: string) {
    return this.reviews.get(id);
  }
  async save(review: StoredReview, _userId: string, opts: { replace: boolean }) {
    if (opts.replace || !this.reviews.has(review.requestId)) this.reviews.set(review.requestId, review);
    return this.reviews.get(review.requestId)!;
  }
  /** Model calls per day, as the review_budget table counts them (MySQL version tested in tests/e2e/review.test.ts). */
  calls = new Map<string, number>();
  async reserveModelCall(limit: number, now = new Date()) {
    const day = now.toISOString().slice(0, 10);
    const used = this.calls.get(day) ?? 0;
    if (used >= limit) return false;
    this.calls.set(day, used + 1);
    return true;
  }
}

class SlowReviewer implements Reviewer {
  calls: ReviewInput[] = [];
  async review(input: ReviewInput): Promise<Review> {
    this.calls.push(input);
    await new Promise((r) => setTimeout(r, 20));
    return { text: `review ${this.calls.length}`, model: 'm', promptVersion: 'v', createdAt: new Date().toISOString() };
  }
}

const problems: ProblemSource = {
  list: async () => [],
  exists: async () => true,
  get: async (id) => ({ id, title: 'T', description: `statement of ${id}`, timeLimit: 1000, memoryLimit: 64, testCaseCount: 1 }),
};

function setup(reviewer: Reviewer | ReviewNotConfiguredError = new SlowReviewer(), budgets: { address?: number; daily?: number } = {}) {
  const store = new MemoryStore();
  const add = (requestId: string, status: GradedSubmission['status'], verdict?: string, userId = 'u1') =>
    store.submissions.set(requestId, { requestId, userId, problemId: 'sum', language: 'python', status, verdict });
  const service = new ReviewService({
    store,
    reviewer,
    problems,
    readSource: async () => 'print(1)',
    userRateLimit: { capacity: 2, refillPerSecond: 0.001 },
    addressRateLimit: { capacity: budgets.address ?? 100, refillPerSecond: 0.001 },
    dailyModelCalls: budgets.daily,
  });
  return { store, add, service };
}

/** The service throws domain errors only; the status is what the HTTP layer maps the reason to. */
async function rejectsWith(promise: Promise<unknown>, reason: ReviewErrorReason, status: number, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    if (!(error instanceof ReviewError) || error.reason !== reason) return false;
    const http = reviewHttpError(error);
    return http.status === status && http.code === code;
  });
}

function httpOf(error: unknown) {
  assert.ok(error instanceof ReviewError, `expected a ReviewError, got ${String(error)}`);
  return reviewHttpError(error);
}

describe('ReviewService', () => {
  it('refuses a missing submission, another author and a missing review with domain errors', async () => {
    const { add, service } = setup();
    add('req_a', 'completed', 'AC');
    await rejectsWith(service.request('req_none', 'u1'), 'not-found', 404, 'not_found');
    await rejectsWith(service.request('req_a', 'someone_else'), 'not-author', 403, 'forbidden');
    await rejectsWith(service.get('req_a'), 'not-found', 404, 'not_found');
  });

  it('names a vanished source (410) and a failing model endpoint (502, retry in 60 s), storing nothing', async () => {
    const failing: Reviewer = {
      review: async () => {
        throw new ReviewServiceError('upstream 500 after retries', 500);
      },
    };
    const { add, service, store } = setup(failing);
    add('req_a', 'completed', 'WA');
    await assert.rejects(service.request('req_a', 'u1'), (e: unknown) => {
      const h = httpOf(e);
      const named = (e as ReviewError).reason === 'reviewer-failed' && h.code === 'review_failed';
      return named && h.status === 502 && h.headers['retry-after'] === '60';
    });
    assert.equal(store.reviews.size, 0);

    const gone = new ReviewService({ store, reviewer: new SlowReviewer(), problems, readSource: async () => undefined });
    await rejectsWith(gone.request('req_a', 'u1'), 'source-gone', 410, 'source_gone');
  });

  it('refuses a submission that is still pending or failed without a verdict (409)', async () => {
    const { add, service } = setup();
    add('req_p', 'pending');
    add('req_f', 'failed');
    await rejectsWith(service.request('req_p', 'u1'), 'not-graded', 409, 'not_graded');
    await rejectsWith(service.request('req_f', 'u1'), 'not-gradable', 409, 'not_gradable');
  });

  it('passes the verdict, language, description and source to the reviewer', async () => {
    const reviewer = new SlowReviewer();
    const { add, service } = setup(reviewer);
    add('req_a', 'completed', 'TLE');
    const outcome = await service.request('req_a', 'u1');
    assert.equal(outcome.created, true);
    assert.deepEqual(reviewer.calls, [
      { problemId: 'sum', problemDescription: 'statement of sum', language: 'python', verdict: 'TLE', sourceCode: 'print(1)' },
    ]);
  });

  it('generates once when the author clicks twice at the same time', async () => {
    const reviewer = new SlowReviewer();
    const { add, service } = setup(reviewer);
    add('req_a', 'completed', 'AC');
    const [a, b] = await Promise.all([service.request('req_a', 'u1'), service.request('req_a', 'u1')]);
    assert.equal(reviewer.calls.length, 1);
    assert.equal(a.review.text, b.review.text);
  });

  it('does not spend the rate limit on stored reviews, and refuses past it', async () => {
    const { add, service } = setup();
    add('req_a', 'completed', 'AC');
    await service.request('req_a', 'u1');
    for (let i = 0; i < 5; i++) assert.equal((await service.request('req_a', 'u1')).created, false);
    await service.request('req_a', 'u1', { regenerate: true });
    await rejectsWith(service.request('req_a', 'u1', { regenerate: true }), 'budget-exhausted', 429, 'rate_limited');
  });

  it('answers 503 with the configuration problem when no reviewer is configured', async () => {
    const { add, service } = setup(new ReviewNotConfiguredError('code review is not configured: missing apiKey'));
    add('req_a', 'completed', 'AC');
    await assert.rejects(
      service.request('req_a', 'u1'),
      (e: unknown) => httpOf(e).status === 503 && /missing apiKey/.test(httpOf(e).message),
    );
  });

  it('limits generations per client address across fresh accounts (429 naming the address budget)', async () => {
    const reviewer = new SlowReviewer();
    const { add, service } = setup(reviewer, { address: 2 });
    for (const n of [1, 2, 3]) add(`req_${n}`, 'completed', 'AC', `fresh_${n}`);
    await service.request('req_1', 'fresh_1', { clientAddress: '203.0.113.9' });
    await service.request('req_2', 'fresh_2', { clientAddress: '203.0.113.9' });
    await assert.rejects(service.request('req_3', 'fresh_3', { clientAddress: '203.0.113.9' }), (e: unknown) => {
      const h = httpOf(e);
      return h.status === 429 && h.headers['x-budget'] === 'address' && /network address/.test(h.message);
    });
    await service.request('req_3', 'fresh_3', { clientAddress: '198.51.100.1' });
    assert.equal(reviewer.calls.length, 3);
  });

  it('stops every account once the global daily budget of model calls is spent', async () => {
    const reviewer = new SlowReviewer();
    const { add, service } = setup(reviewer, { daily: 2 });
    for (const n of [1, 2, 3]) add(`req_${n}`, 'completed', 'AC', `user_${n}`);
    await service.request('req_1', 'user_1', { clientAddress: 'a' });
    await service.request('req_2', 'user_2', { clientAddress: 'b' });
    await assert.rejects(service.request('req_3', 'user_3', { clientAddress: 'c' }), (e: unknown) => {
      const h = httpOf(e);
      return (
        h.status === 429 &&
        h.headers['x-budget'] === 'daily' &&
        /daily code review budget \(2 reviews/.test(h.message) &&
        Number(h.headers['retry-after']) > 0
      );
    });
    assert.equal(reviewer.calls.length, 2);
  });
});
