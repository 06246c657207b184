import assert from 'node:assert/strict';
import { HttpError } from '../../web/src/http';
import { Review, ReviewInput, Reviewer, ReviewNotConfiguredError } from '../../web/src/review/port';
import { ReviewService } from '../../web/src/review/service';
import type { GradedSubmission, ReviewStore, StoredReview } from '../../web/src/review/store';
import type { ProblemSource } from '../../web/src/server';

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

function setup(reviewer: Reviewer | ReviewNotConfiguredError = new SlowReviewer()) {
  const store = new MemoryStore();
  const add = (requestId: string, status: GradedSubmission['status'], verdict?: string) => store.submissions.set(requestId, { requestId, userId: 'u1', problemId: 'sum', language: 'python', status, verdict });
  const service = new ReviewService({ store, reviewer, problems, readSource: async () => 'print(1)', userRateLimit: { capacity: 2, refillPerSecond: 0.001 } });
  return { store, add, service };
}

async function rejectsWith(promise: Promise<unknown>, status: number, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof HttpError && error.status === status && error.code === code);
}

describe('ReviewService', () => {
  it('refuses a submission that is still pending or failed without a verdict (409)', async () => {
    const { add, service } = setup();
    add('req_p', 'pending');
    add('req_f', 'failed');
    await rejectsWith(service.request('req_p', 'u1'), 409, 'not_graded');
    await rejectsWith(service.request('req_f', 'u1'), 409, 'not_gradable');
  });

  it('passes the verdict, language, description and source to the reviewer', async () => {
    const reviewer = new SlowReviewer();
    const { add, service } = setup(reviewer);
    add('req_a', 'completed', 'TLE');
    const outcome = await service.request('req_a', 'u1');
    assert.equal(outcome.created, true);
    assert.deepEqual(reviewer.calls, [{ problemId: 'sum', problemDescription: 'statement of sum', language: 'python', verdict: 'TLE', sourceCode: 'print(1)' }]);
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
    await rejectsWith(service.request('req_a', 'u1', { regenerate: true }), 429, 'rate_limited');
  });

  it('answers 503 with the configuration problem when no reviewer is configured', async () => {
    const { add, service } = setup(new ReviewNotConfiguredError('code review is not configured: missing apiKey'));
    add('req_a', 'completed', 'AC');
    await assert.rejects(service.request('req_a', 'u1'), (e: unknown) => e instanceof HttpError && e.status === 503 && /missing apiKey/.test(e.message));
  });
});
