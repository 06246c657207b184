/**
 * The grading pipeline over in-memory fakes of its ports (tests/helpers/fakes): what each kind of
 * delivery ends in (outcome for the message, stored row, published result, DLQ copy, files), with
 * no broker, database, S3 or sandbox. The same rules run against the real services in
 * tests/integration/worker*.test.ts.
 */
import assert from 'node:assert/strict';
import type { GradingResult } from '../../core/src/contracts/result';
import { validateGradingResult } from '../../core/src/contracts/result';
import type { Headers } from '../../core/src/queue/stomp';
import type { Outcome } from '../../worker/src/consumer/types';
import { ExecutorUnavailableError } from '../../worker/src/executors/port';
import { GRADER_VERSION } from '../../worker/src/grading/version';
import { GradingPipeline, PipelineOptions } from '../../worker/src/pipeline/gradingPipeline';
import { requestFingerprint, resultCacheKey, sha256 } from '../../worker/src/pipeline/rules';
import { FakeOutbox } from '../helpers/fakes/broker';
import { FakeExecutor } from '../helpers/fakes/executor';
import { InMemoryBucket, InMemoryResultStore } from '../helpers/fakes/stores';

const REQUESTS = '/queue/grading-requests';
const DESTINATIONS = {
  requests: REQUESTS,
  priority: '/queue/grading-priority',
  results: '/queue/grading-results',
  dlq: '/queue/grading-dlq',
  progress: '/topic/grading-progress',
};
const ACK: Outcome = { action: 'ack' };
/** "a b" -> a + b: the fake executor's program for problem `sum`. */
const sum = (input: string) =>
  `${input
    .trim()
    .split(/\s+/)
    .map(Number)
    .reduce((a, b) => a + b, 0)}\n`;
const connectionReset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });

describe('grading pipeline', () => {
  let bucket: InMemoryBucket;
  let results: InMemoryResultStore;
  let outbox: FakeOutbox;
  let executor: FakeExecutor;
  let logs: Array<{ level: string; msg: string; fields: Record<string, unknown> }>;
  let metrics: string[];
  let pipeline: GradingPipeline;
  let nextMessageId: number;

  const build = (opts: Partial<PipelineOptions> = {}) => {
    pipeline = new GradingPipeline(
      {
        sources: bucket,
        testSets: bucket,
        resultFiles: bucket,
        results,
        executor,
        publisher: outbox,
        progress: outbox,
        deadLetters: outbox,
        log: (level, msg, fields = {}) => logs.push({ level, msg, fields }),
      },
      {
        environment: 'test',
        maxAttempts: 3,
        destinations: DESTINATIONS,
        retry: { attempts: 3, initialDelayMs: 1, maxDelayMs: 2 },
        executorRetryMs: 1,
        metrics: (line) => metrics.push(line),
        ...opts,
      },
    );
  };

  beforeEach(() => {
    bucket = new InMemoryBucket('grading-files');
    bucket.put('problems/sum/testcases/1.in', '1 2\n');
    bucket.put('problems/sum/testcases/1.out', '3\n');
    bucket.put('problems/sum/testcases/2.in', '20 22\n');
    bucket.put('problems/sum/testcases/2.out', '42\n');
    results = new InMemoryResultStore();
    outbox = new FakeOutbox();
    executor = new FakeExecutor(sum);
    logs = [];
    metrics = [];
    nextMessageId = 1;
    build();
  });

  const request = (requestId: string, source = 'print(sum(map(int, input().split())))', problemId = 'sum') => ({
    requestId,
    userId: 'user_1',
    problemId,
    language: 'python' as const,
    sourceFile: bucket.put(`submissions/${requestId}/solution.py`, source),
    testCases: `s3://grading-files/problems/${problemId}/testcases/`,
    timeLimit: 1000,
    memoryLimit: 256,
    timestamp: '2026-01-01T00:00:00Z',
  });
  const deliver = (body: unknown, headers: Headers = {}, signal = new AbortController().signal) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return pipeline.process({ body: text, headers: { 'message-id': `ID:test-${nextMessageId++}`, ...headers }, source: REQUESTS }, signal);
  };
  const logged = (msg: string) => logs.filter((l) => l.msg === msg);
  const resultFile = (requestId: string) => JSON.parse(bucket.resultFiles.get(requestId)!.resultJson) as GradingResult;

  describe('a valid request', () => {
    it('is graded once, stored, written, published with its progress, and only then acked', async () => {
      const outcome = await deliver(request('req_ok'));
      assert.deepEqual(outcome, ACK);
      const [published] = outbox.published;
      assert.equal(outbox.published.length, 1);
      assert.ok(validateGradingResult(published).ok, JSON.stringify(published));
      assert.equal(published.status, 'completed');
      assert.equal(published.result?.verdict, 'AC');
      assert.equal(published.resultFile, 's3://grading-files/results/req_ok/result.json');
      assert.deepEqual(resultFile('req_ok'), published);
      const row = results.rows.get('req_ok')!;
      assert.deepEqual([row.status, row.attempts, row.published], ['completed', 1, true]);
      assert.deepEqual(row.document, published);
      // Durable before published, published before recorded as such.
      const order = results.calls.filter((c) => c === 'saveResult' || c === 'markPublished');
      assert.deepEqual(order, ['saveResult', 'markPublished']);
      assert.deepEqual(
        outbox.events.map((e) => e.type),
        ['case', 'case', 'final'],
      );
      assert.equal(pipeline.stats.graded, 1);
      assert.equal(metrics.length, 1);
      assert.match(metrics[0], /"Graded"/);
      assert.deepEqual(outbox.deadLetters, []);
    });

    it('reuses the result of an identical earlier submission; the cache key holds the grader version and executor', async () => {
      const source = 'print(sum(map(int, input().split())))  # cached';
      await deliver(request('req_first', source));
      assert.deepEqual(await deliver(request('req_second', source)), ACK);
      assert.equal(executor.jobs.length, 1, 'graded once');
      const second = outbox.publishedFor('req_second')[0];
      assert.equal(second.result?.verdict, 'AC');
      assert.match(bucket.resultFiles.get('req_second')!.executionLog, /identical to req_first/);
      assert.equal(pipeline.stats.cacheHits, 1);
      const testSet = await bucket.readTestSet('s3://grading-files/problems/sum/testcases/');
      const key = resultCacheKey({
        ...request('req_x', source),
        sourceSha256: sha256([source]),
        testSetVersion: testSet.version,
        executor: 'fake',
      });
      assert.equal(results.rows.get('req_first')!.cacheKey, key);
      assert.ok(GRADER_VERSION >= 1);
      assert.equal(
        outbox.events.filter((e) => e.requestId === 'req_second' && e.type === 'case').length,
        2,
        'progress for the reused cases too',
      );
    });

    it('counts attempts and fails one delivered more than maxAttempts times, without running it', async () => {
      const source = 'while True: pass  # crashes the worker';
      const req = request('req_crashy', source);
      // Three earlier deliveries that never finished (the worker died on each).
      const meta = { requestId: req.requestId, requestHash: requestFingerprint(req), sourceSha256: sha256([source]) };
      for (let i = 0; i < 3; i++) await results.beginAttempt(meta);
      assert.deepEqual(await deliver(req), ACK);
      const [result] = outbox.publishedFor('req_crashy');
      assert.equal(result.reason, 'max-attempts-exceeded');
      assert.match(result.error!, /delivered 4 times/);
      assert.equal(executor.jobs.length, 0);
      assert.equal(outbox.deadLetters[0].reason, 'max-attempts-exceeded');
    });
  });

  describe('invalid messages', () => {
    it('invalid JSON with a readable requestId: a failed result, result.json, and the original body in the DLQ', async () => {
      const body = '{"requestId": "req_broken", "userId": ';
      assert.deepEqual(await deliver(body, { 'message-id': 'ID:broken-1' }), ACK);
      const [result] = outbox.published;
      assert.ok(validateGradingResult(result).ok, JSON.stringify(result));
      assert.deepEqual([result.requestId, result.status, result.reason], ['req_broken', 'failed', 'invalid-json']);
      assert.deepEqual(resultFile('req_broken'), result);
      const [letter] = outbox.deadLetters;
      assert.equal(letter.body, body, 'the original body, unchanged');
      assert.deepEqual(
        [letter.reason, letter.originalDestination, letter.originalMessageId, letter.requestId],
        ['invalid-json', REQUESTS, 'ID:broken-1', 'req_broken'],
      );
      assert.equal(results.rows.get('req_broken')!.status, 'failed');

      assert.deepEqual(await deliver(body), ACK, 'the same message again is a duplicate');
      assert.equal(outbox.published.length, 1, 'one result per request');
      assert.equal(outbox.deadLetters.length, 1);
    });

    it('invalid JSON without a readable requestId: only the DLQ copy', async () => {
      assert.deepEqual(await deliver('{not json'), ACK);
      assert.deepEqual(outbox.published, []);
      assert.equal(outbox.deadLetters.length, 1);
      assert.equal(outbox.deadLetters[0].reason, 'invalid-json');
      assert.equal(outbox.deadLetters[0].requestId, undefined);
      assert.equal(logged('invalid request without a readable requestId: dead-lettered only').length, 1);
    });

    it('a request that fails its schema: schema-validation with every error', async () => {
      const { timeLimit: _omitted, ...noLimit } = request('req_schema');
      await deliver({ ...noLimit, language: 'cobol' });
      const [result] = outbox.published;
      assert.equal(result.reason, 'schema-validation');
      assert.match(result.error!, /language: "cobol" is not one of/);
      assert.match(result.error!, /timeLimit: is required/);
      assert.equal(executor.jobs.length, 0);
    });

    it('hands the message back when it cannot look the id up (nothing published, nothing dead-lettered)', async () => {
      results.failures.getRecord = [connectionReset(), connectionReset(), connectionReset()];
      const outcome = await deliver('{"requestId": "req_db_down", "userId": ');
      assert.equal(outcome.action, 'hand-back');
      assert.deepEqual([outbox.published, outbox.deadLetters], [[], []]);
    });
  });

  describe('reused requestIds', () => {
    it('fails a reuse with other fields or another source as request-id-reused, and leaves the first request alone', async () => {
      const first = request('req_reused');
      await deliver(first);
      const stored = results.rows.get('req_reused')!.document;
      const file = bucket.resultFiles.get('req_reused');

      assert.deepEqual(await deliver({ ...first, timeLimit: 2000 }), ACK);
      bucket.put('submissions/req_reused/solution.py', 'print(0)  # other code under the same key');
      assert.deepEqual(await deliver(first), ACK);

      const reused = outbox.publishedFor('req_reused').slice(1);
      assert.deepEqual(
        reused.map((r) => [r.status, r.reason, r.resultFile]),
        [
          ['failed', 'request-id-reused', undefined],
          ['failed', 'request-id-reused', undefined],
        ],
      );
      assert.match(reused[0].error!, /the fields differ/);
      assert.match(reused[1].error!, /the source differs/);
      assert.deepEqual(
        outbox.deadLetters.map((l) => [l.reason, l.requestId]),
        [
          ['request-id-reused', 'req_reused'],
          ['request-id-reused', 'req_reused'],
        ],
      );
      assert.deepEqual(results.rows.get('req_reused')!.document, stored, 'the first request keeps its row');
      assert.equal(bucket.resultFiles.get('req_reused'), file, 'and its files');
      const finals = outbox.events.filter((e) => e.requestId === 'req_reused' && e.type === 'final');
      assert.equal(finals.length, 1, 'watchers of the first request see only its result');
      assert.equal(executor.jobs.length, 1);
    });
  });

  describe('redeliveries and publish failures', () => {
    it('a redelivery of a published request publishes nothing and is not graded again', async () => {
      await deliver(request('req_dup'));
      assert.deepEqual(await deliver(request('req_dup'), { redelivered: 'true' }), ACK);
      assert.deepEqual(await deliver({ ...request('req_dup'), timestamp: '2026-02-02T00:00:00Z' }), ACK, 'a re-sent copy too');
      assert.equal(outbox.publishedFor('req_dup').length, 1);
      assert.equal(executor.jobs.length, 1);
      assert.equal(results.rows.get('req_dup')!.attempts, 1);
      assert.equal(pipeline.stats.duplicates, 2);
      assert.equal(logged('duplicate delivery of a finished request: its result is already published')[0].fields.redelivered, true);
    });

    it('never turns a stored `completed` into `failed` when publishing fails; the redelivery publishes it once', async () => {
      outbox.failPublish = 3; // every try of the first delivery
      const outcome = await deliver(request('req_unpublished'));
      assert.equal(outcome.action, 'hand-back', 'returned to the broker, not acked and not held');
      assert.deepEqual(outbox.published, []);
      assert.deepEqual(outbox.deadLetters, [], 'a publish failure is not a failed request');
      const row = results.rows.get('req_unpublished')!;
      assert.deepEqual([row.status, row.published], ['completed', false]);
      assert.equal(resultFile('req_unpublished').status, 'completed');

      assert.deepEqual(await deliver(request('req_unpublished'), { redelivered: 'true' }), ACK);
      const published = outbox.publishedFor('req_unpublished');
      assert.deepEqual(
        published.map((r) => r.status),
        ['completed'],
      );
      assert.deepEqual(published[0], row.document, 'the stored result, as stored');
      assert.equal(executor.jobs.length, 1, 'not graded again');
      assert.equal(pipeline.stats.republished, 1);

      assert.deepEqual(await deliver(request('req_unpublished'), { redelivered: 'true' }), ACK);
      assert.equal(outbox.publishedFor('req_unpublished').length, 1, 'and never twice');
      assert.equal(results.rows.get('req_unpublished')!.status, 'completed');
    });

    it('keeps the final result another delivery stored first and publishes that one', async () => {
      const req = request('req_race');
      const earlier: GradingResult = { requestId: 'req_race', status: 'completed', timestamp: '2026-01-01T00:00:01Z' };
      const save = results.saveResult.bind(results);
      results.saveResult = async (meta, result, cacheKey) => {
        // A concurrent duplicate finished first.
        await save(meta, { ...earlier, result: result.result }, cacheKey);
        return save(meta, result, cacheKey);
      };
      assert.deepEqual(await deliver(req), ACK);
      assert.equal(logged('another delivery stored a final result first; keeping it').length, 1);
      assert.deepEqual(
        outbox.publishedFor('req_race').map((r) => r.timestamp),
        [earlier.timestamp],
      );
      assert.equal(pipeline.stats.graded, 0, 'this delivery did not deliver its own outcome');
    });
  });

  describe('errors', () => {
    it('retries allow-listed transient errors and then grades', async () => {
      bucket.failures.readSource = [connectionReset(), connectionReset()];
      results.failures.beginAttempt = [Object.assign(new Error('Deadlock found'), { code: 'ER_LOCK_DEADLOCK' })];
      assert.deepEqual(await deliver(request('req_flaky')), ACK);
      assert.equal(outbox.published[0].status, 'completed');
      assert.deepEqual(
        logged('transient failure; retrying').map((l) => l.fields.kind),
        ['s3', 's3', 'database'],
      );
    });

    it('fails a transient error that outlasts its retries as transient-failure-exhausted', async () => {
      bucket.failures.readSource = [connectionReset(), connectionReset(), connectionReset()];
      await deliver(request('req_s3_down'));
      const [result] = outbox.published;
      assert.equal(result.reason, 'transient-failure-exhausted');
      assert.match(result.error!, /s3: read ECONNRESET/);
      assert.equal(bucket.calls.filter((c) => c === 'readSource').length, 3);
      assert.equal(outbox.deadLetters[0].reason, 'transient-failure-exhausted');
    });

    it('fails any other error at once as internal-error, without retries', async () => {
      executor.failures.push(new TypeError("Cannot read properties of undefined (reading 'stdout')"));
      await deliver(request('req_bug'));
      const [result] = outbox.published;
      assert.equal(result.reason, 'internal-error');
      assert.match(result.error!, /reading 'stdout'/);
      assert.equal(executor.jobs.length, 1);
      assert.deepEqual(logged('transient failure; retrying'), []);
      assert.equal(resultFile('req_bug').reason, 'internal-error', 'failed results get result.json too');
    });

    it('does not retry a database error that is not on the allow-list', async () => {
      results.failures.findCached = [Object.assign(new Error('You have an error in your SQL syntax'), { code: 'ER_PARSE_ERROR' })];
      await deliver(request('req_sql'));
      assert.equal(outbox.published[0].reason, 'internal-error');
      assert.equal(results.calls.filter((c) => c === 'findCached').length, 1);
    });

    it('fails a missing source as source-not-found and an unknown problem as invalid-problem-or-source, neither retried', async () => {
      const missing = { ...request('req_gone'), sourceFile: 's3://grading-files/submissions/req_gone/gone.py' };
      await deliver(missing);
      await deliver(request('req_noproblem', 'print(1)', 'no-such-problem'));
      await deliver({ ...request('req_foreign'), sourceFile: 's3://elsewhere/solution.py' });
      assert.deepEqual(
        outbox.published.map((r) => [r.requestId, r.reason]),
        [
          ['req_gone', 'source-not-found'],
          ['req_noproblem', 'invalid-problem-or-source'],
          ['req_foreign', 'invalid-problem-or-source'],
        ],
      );
      assert.match(outbox.published[0].error!, /gone\.py does not exist/);
      assert.match(outbox.published[1].error!, /no test cases/);
      assert.deepEqual(logged('transient failure; retrying'), []);
      assert.match(bucket.resultFiles.get('req_noproblem')!.executionLog, /reason: invalid-problem-or-source/);
    });

    it('keeps the failed result without resultFile when S3 cannot take result.json', async () => {
      bucket.failures.putResult = [new Error('Access Denied')];
      await deliver(request('req_nofile', 'print(1)', 'no-such-problem'));
      const [result] = outbox.published;
      assert.equal(result.reason, 'invalid-problem-or-source');
      assert.equal(result.resultFile, undefined);
      assert.equal(logged('could not write the failed result to S3').length, 1);
    });
  });

  describe('an unavailable executor', () => {
    it('is waited for without counting an attempt, and the request is graded when it is back', async () => {
      executor.failures.push(new ExecutorUnavailableError('Judge0 queue is full'), new ExecutorUnavailableError('still full'));
      assert.deepEqual(await deliver(request('req_wait')), ACK);
      assert.equal(outbox.published[0].status, 'completed');
      assert.equal(executor.jobs.length, 3);
      assert.equal(results.rows.get('req_wait')!.attempts, 1);
      assert.equal(logged('executor unavailable; holding the request and retrying').length, 2);
      assert.equal(pipeline.executorStatus.available, true);
      assert.equal(metrics.filter((m) => m.includes('ExecutorUnavailable')).length, 2);
    });

    it('on shutdown is left for redelivery (no outcome, the attempt given back), ending its wait early', async () => {
      build({ executorRetryMs: 600_000 });
      executor.unavailable = 'Judge0 down';
      const stopping = new AbortController();
      const outcome = deliver(request('req_stop'), {}, stopping.signal);
      while (executor.jobs.length === 0) await new Promise((resolve) => setImmediate(resolve));
      assert.equal(pipeline.executorStatus.available, false);
      assert.equal(pipeline.executorStatus.error, 'Judge0 down');
      stopping.abort();
      assert.deepEqual(await outcome, { action: 'leave' });
      assert.deepEqual([outbox.published, outbox.deadLetters], [[], []]);
      const row = results.rows.get('req_stop')!;
      assert.deepEqual([row.status, row.attempts], ['pending', 0]);
      assert.equal(logged('left for redelivery: shutting down while the executor is unavailable').length, 1);
    });
  });

  describe('reply-to and DLQ replays', () => {
    it("sends the result to reply-to, correlated by the request's correlation-id, else its message-id", async () => {
      await deliver(request('req_reply1'), { 'reply-to': '/queue/site-replies', 'correlation-id': 'site-corr-1' });
      await deliver(request('req_reply2'), { 'reply-to': '/temp-queue/replies', 'message-id': 'ID:request-2' });
      assert.deepEqual(
        outbox.replies.map((r) => [r.destination, r.correlationId, r.result.requestId]),
        [
          ['/queue/site-replies', 'site-corr-1', 'req_reply1'],
          ['/temp-queue/replies', 'ID:request-2', 'req_reply2'],
        ],
      );
    });

    it('ignores a reply-to naming its own queues, and a failed reply costs nothing else', async () => {
      await deliver(request('req_loop'), { 'reply-to': REQUESTS });
      assert.deepEqual(outbox.replies, []);
      assert.equal(logged('reply-to ignored: not a destination results may be sent to').length, 1);
      outbox.failReplies = true;
      assert.deepEqual(await deliver(request('req_gone_requester'), { 'reply-to': '/temp-queue/closed' }), ACK);
      assert.equal(outbox.publishedFor('req_gone_requester').length, 1);
      assert.equal(logged('could not send the result to reply-to').length, 1);
    });

    it('grades a failed request again when it is replayed from the DLQ, but never reopens a completed one', async () => {
      const req = request('req_replay', 'print(1)', 'late-problem');
      await deliver(req);
      assert.equal(outbox.published[0].reason, 'invalid-problem-or-source');
      bucket.put('problems/late-problem/testcases/1.in', '2 3\n');
      bucket.put('problems/late-problem/testcases/1.out', '5\n');
      assert.deepEqual(await deliver(req), ACK);
      assert.equal(outbox.publishedFor('req_replay').length, 1, 'a plain redelivery is a duplicate');
      assert.deepEqual(await deliver(req, { 'x-dlq-replay': 'true' }), ACK);
      assert.deepEqual(
        outbox.publishedFor('req_replay').map((r) => r.status),
        ['failed', 'completed'],
      );
      assert.deepEqual(await deliver(req, { 'x-dlq-replay': 'true' }), ACK);
      assert.equal(outbox.publishedFor('req_replay').length, 2, 'a completed result is not graded again');
    });
  });
});
