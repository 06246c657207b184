/**
 * The worker end to end against real services: ActiveMQ over STOMP (a private broker with the
 * generated XML), MariaDB, s3rver, and submissions really executed in the sandbox.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LocalActiveMq } from '../../scripts/services/activemq';
import type { LocalMariaDb } from '../../scripts/services/mariadb';
import type { LocalS3 } from '../../scripts/services/s3';
import { validateGradingResult } from '../../core/src/contracts';
import type { Language } from '../../core/src/languages';
import { InboundMessage, StompConnection } from '../../core/src/queue/stomp';
import { privateActiveMq, sharedMariaDb, sharedS3 } from '../helpers/services';
import { connectTo } from '../helpers/stompProbe';
import { dbRows, prepareRequest, readS3Text, seedProblems, startWorker, WorkerProcess } from '../helpers/workerHarness';

const SOLUTIONS = path.join(__dirname, '../../examples/solutions');
const solution = (file: string) => fs.readFileSync(path.join(SOLUTIONS, file), 'utf8');

/** Everything that arrives on a destination, kept for the whole test file. */
class Inbox {
  readonly messages: InboundMessage[] = [];
  constructor(conn: StompConnection, destination: string) {
    conn.subscribe(destination, { ack: 'auto' }, (m) => this.messages.push(m));
  }
  async waitFor(predicate: (m: InboundMessage) => boolean, timeoutMs = 60_000, count = 1): Promise<InboundMessage[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.filter(predicate);
      if (found.length >= count) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} message(s); have ${found.length}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  forRequest(requestId: string) {
    return this.messages.filter((m) => m.headers['correlation-id'] === requestId);
  }
}

describe('grading worker (integration)', function () {
  this.timeout(180_000);
  let broker: LocalActiveMq;
  let db: LocalMariaDb;
  let s3: LocalS3;
  let conn: StompConnection;
  let results: Inbox;
  let dlq: Inbox;
  let progress: Inbox;
  let worker: WorkerProcess;

  const submit = async (spec: Parameters<typeof prepareRequest>[1], queue = 'grading-requests') => {
    const request = await prepareRequest(s3, spec);
    await conn.send(`/queue/${queue}`, JSON.stringify(request), { persistent: 'true' });
    return request;
  };
  const resultOf = async (requestId: string, timeoutMs = 90_000) => {
    const [message] = await results.waitFor((m) => m.headers['correlation-id'] === requestId, timeoutMs);
    return JSON.parse(message.body);
  };

  before(async () => {
    [broker, db, s3] = await Promise.all([privateActiveMq('worker'), sharedMariaDb(), sharedS3()]);
    await seedProblems(s3);
    conn = await connectTo(broker);
    results = new Inbox(conn, '/queue/grading-results');
    dlq = new Inbox(conn, '/queue/grading-dlq');
    progress = new Inbox(conn, '/topic/grading-progress');
    worker = await startWorker({ broker, db, s3 });
  });

  after(async () => {
    await worker?.stop('SIGKILL');
    await conn?.close();
    await broker?.stop();
  });

  const languages: Array<[Language, string, string]> = [
    ['python', 'sum/accepted.py', 'AC'],
    ['javascript', 'sum/accepted.js', 'AC'],
    ['c', 'sum/accepted.c', 'AC'],
    ['cpp', 'max-subarray/accepted.cpp', 'AC'],
    ['java', 'sum/Accepted.java', 'AC'],
    ['go', 'sum/accepted.go', 'AC'],
    ['rust', 'sum/accepted.rs', 'AC'],
  ];
  for (const [language, file, verdict] of languages) {
    it(`grades a ${language} submission end to end (${verdict})`, async () => {
      const problemId = file.split('/')[0];
      const request = await submit({ problemId, language, source: solution(file) });
      const result = await resultOf(request.requestId);
      assert.ok(validateGradingResult(result).ok, JSON.stringify(result));
      assert.equal(result.status, 'completed');
      assert.equal(result.result.verdict, verdict, JSON.stringify(result.result));
      assert.equal(result.resultFile, `s3://${s3.bucket}/results/${request.requestId}/result.json`);
      assert.deepEqual(JSON.parse(await readS3Text(s3, `results/${request.requestId}/result.json`)), result);
      assert.match(await readS3Text(s3, `results/${request.requestId}/execution.log`), /verdict: AC|identical to/);
      const [row] = await dbRows(db, request.requestId);
      assert.equal(row.status, 'completed');
      assert.equal(row.verdict, verdict);
      const cases = progress.forRequest(request.requestId).map((m) => JSON.parse(m.body));
      assert.equal(cases.filter((e) => e.type === 'case').length, result.result.testResults.length);
      assert.equal(cases.filter((e) => e.type === 'final').length, 1);
    });
  }

  it('grades wrong answers, compile errors and time limits', async () => {
    const wa = await submit({ problemId: 'sum', language: 'python', source: solution('sum/wrong-answer.py') });
    const ce = await submit({ problemId: 'sum', language: 'c', source: solution('sum/compile-error.c') });
    const tle = await submit({
      problemId: 'max-subarray',
      language: 'python',
      source: solution('max-subarray/time-limit.py'),
      timeLimit: 1000,
    });
    assert.equal((await resultOf(wa.requestId)).result.verdict, 'WA');
    const ceResult = await resultOf(ce.requestId);
    assert.equal(ceResult.result.verdict, 'CE');
    assert.match(ceResult.result.compileOutput, /error/);
    assert.equal((await resultOf(tle.requestId)).result.verdict, 'TLE');
  });

  const workerLines = () => worker.output().split('\n');
  const waitUntil = async (done: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  /** Waits until the worker has logged `msg` for this request (what it decided), so "nothing else came" can be asserted without a sleep. */
  const workerLogged = (requestId: string, msg: string, timeoutMs = 60_000) =>
    waitUntil(
      () => workerLines().some((l) => l.includes(`"msg":"${msg}"`) && l.includes(`"requestId":"${requestId}"`)),
      `the worker logged "${msg}" for ${requestId}`,
      timeoutMs,
    );
  const dlqOf = (requestId: string) => dlq.waitFor((m) => m.headers['correlation-id'] === requestId, 30_000).then(([m]) => m);

  it('gives an invalid request with a readable requestId one failed result, and keeps the original in the DLQ', async () => {
    await conn.send('/queue/grading-requests', '{not json', { persistent: 'true' });
    const request = await prepareRequest(s3, { problemId: 'sum', language: 'python', source: 'print(1)' });
    const badLang = { ...request, requestId: `${request.requestId}_lang`, language: 'cobol' };
    await conn.send('/queue/grading-requests', JSON.stringify(badLang), { persistent: 'true' });
    const { timeLimit: _omit, ...noLimit } = request;
    await conn.send('/queue/grading-requests', JSON.stringify({ ...noLimit, requestId: `${request.requestId}_nolimit` }), {
      persistent: 'true',
    });
    const brokenId = `${request.requestId}_broken`;
    await conn.send('/queue/grading-requests', `{"requestId": "${brokenId}", "userId": `, { persistent: 'true' });

    const dead = await dlq.waitFor((m) => m.body === '{not json' || m.body.includes(request.requestId), 30_000, 4);
    const byBody = (s: string) => dead.find((m) => m.body.includes(s))!;
    const noId = dead.find((m) => m.body === '{not json')!;
    assert.equal(noId.headers['x-error-reason'], 'invalid-json');
    assert.equal(noId.headers.grading_error_reason, 'invalid-json', 'selector-safe name');
    assert.equal(noId.headers['correlation-id'], undefined, 'no id to correlate');
    const lang = byBody(badLang.requestId);
    assert.equal(lang.headers.grading_error_reason, 'schema-validation');
    assert.equal(lang.headers['x-error-reason'], 'schema-validation', 'the old name, kept for a release');
    assert.match(lang.headers.grading_error_detail, /language: "cobol" is not one of/);
    assert.equal(lang.headers.grading_original_destination, '/queue/grading-requests');
    assert.equal(lang.headers['x-original-destination'], '/queue/grading-requests');
    assert.equal(lang.body, JSON.stringify(badLang), 'the original body is kept');
    assert.equal(lang.headers['correlation-id'], badLang.requestId, 'correlated when the id is readable');
    assert.equal(lang.headers.grading_request_id, badLang.requestId);
    assert.match(byBody('_nolimit').headers['x-error-detail'], /timeLimit: is required/);

    for (const [requestId, reason, detail] of [
      [badLang.requestId, 'schema-validation', /language: "cobol" is not one of/],
      [`${request.requestId}_nolimit`, 'schema-validation', /timeLimit: is required/],
      [brokenId, 'invalid-json', /body is not JSON/],
    ] as const) {
      const result = await resultOf(requestId, 30_000);
      assert.ok(validateGradingResult(result).ok, JSON.stringify(result));
      assert.equal(result.status, 'failed');
      assert.equal(result.reason, reason);
      assert.match(result.error, detail);
      assert.deepEqual(JSON.parse(await readS3Text(s3, `results/${requestId}/result.json`)), result, 'failed results get result.json too');
      const [row] = await dbRows(db, requestId);
      assert.equal(row.status, 'failed');
    }

    // The same invalid message again is a duplicate: acked, nothing more published.
    await conn.send('/queue/grading-requests', JSON.stringify(badLang), { persistent: 'true' });
    await workerLogged(badLang.requestId, 'duplicate delivery of a finished request: its result is already published');
    assert.equal(results.forRequest(badLang.requestId).length, 1, 'one result per request');
  });

  it('gives a request whose test cases do not exist one failed result and a DLQ copy', async () => {
    const request = await submit({ problemId: 'no-such-problem', language: 'python', source: 'print(1)' });
    const result = await resultOf(request.requestId);
    assert.equal(result.status, 'failed');
    assert.equal(result.reason, 'invalid-problem-or-source');
    assert.match(result.error, /invalid-problem-or-source: invalid test case set: no test cases/);
    assert.equal(result.resultFile, `s3://${s3.bucket}/results/${request.requestId}/result.json`);
    assert.deepEqual(JSON.parse(await readS3Text(s3, `results/${request.requestId}/result.json`)), result);
    assert.match(await readS3Text(s3, `results/${request.requestId}/execution.log`), /reason: invalid-problem-or-source/);
    const dead = await dlqOf(request.requestId);
    assert.equal(dead.headers['x-error-reason'], 'invalid-problem-or-source');
    assert.equal(dead.headers.grading_error_reason, 'invalid-problem-or-source');
  });

  it('fails a request whose source is missing at once (source-not-found, not retried)', async () => {
    const request = await prepareRequest(s3, { problemId: 'sum', language: 'python', source: 'print(1)' });
    const missing = { ...request, sourceFile: request.sourceFile.replace('solution.py', 'gone.py') };
    await conn.send('/queue/grading-requests', JSON.stringify(missing), { persistent: 'true' });
    const result = await resultOf(request.requestId, 30_000);
    assert.equal(result.reason, 'source-not-found');
    assert.match(result.error, /gone\.py does not exist/);
    assert.equal((await dlqOf(request.requestId)).headers.grading_error_reason, 'source-not-found');
    const retries = worker
      .output()
      .split('\n')
      .filter((l) => l.includes('transient failure; retrying') && l.includes('NoSuchKey'));
    assert.deepEqual(retries, [], 'a missing source is not retried');
  });

  it('publishes one result for a duplicate delivery and grades it once', async () => {
    const request = await prepareRequest(s3, { problemId: 'sum', language: 'python', source: solution('sum/accepted.py') + '\n# dup\n' });
    await conn.send('/queue/grading-requests', JSON.stringify(request), { persistent: 'true' });
    const first = await resultOf(request.requestId);
    assert.equal(first.result.verdict, 'AC');
    await conn.send('/queue/grading-requests', JSON.stringify({ ...request, timestamp: new Date().toISOString() }), { persistent: 'true' });
    await workerLogged(request.requestId, 'duplicate delivery of a finished request: its result is already published');
    assert.equal(results.forRequest(request.requestId).length, 1, 'published once');
    const rows = await dbRows(db, request.requestId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].attempts, 1, 'graded once');
    assert.ok(rows[0].published_at, 'recorded as published');
  });

  it('fails a reused requestId with other content (request-id-reused) and leaves the first result alone', async () => {
    const request = await prepareRequest(s3, { problemId: 'sum', language: 'python', source: solution('sum/accepted.py') + '\n# first\n' });
    await conn.send('/queue/grading-requests', JSON.stringify(request), { persistent: 'true' });
    const first = await resultOf(request.requestId);
    assert.equal(first.status, 'completed');
    const firstFile = await readS3Text(s3, `results/${request.requestId}/result.json`);

    // Other fields under the same id.
    await conn.send('/queue/grading-requests', JSON.stringify({ ...request, timeLimit: request.timeLimit + 1000 }), { persistent: 'true' });
    // Same fields, other code at the same source key.
    await prepareRequest(s3, {
      requestId: request.requestId,
      problemId: 'sum',
      language: 'python',
      source: solution('sum/wrong-answer.py'),
    });
    await conn.send('/queue/grading-requests', JSON.stringify(request), { persistent: 'true' });

    const all = await results.waitFor((m) => m.headers['correlation-id'] === request.requestId, 60_000, 3);
    const reused = all.slice(1).map((m) => JSON.parse(m.body));
    for (const result of reused) {
      assert.ok(validateGradingResult(result).ok, JSON.stringify(result));
      assert.equal(result.status, 'failed');
      assert.equal(result.reason, 'request-id-reused');
      assert.equal(result.resultFile, undefined, 'results/{id}/ belongs to the first request');
    }
    assert.match(reused.map((r) => r.error).join('\n'), /the fields differ/);
    assert.match(reused.map((r) => r.error).join('\n'), /the source differs/);
    const dead = await dlq.waitFor((m) => m.headers['correlation-id'] === request.requestId, 30_000, 2);
    assert.deepEqual(
      dead.map((m) => m.headers.grading_error_reason),
      ['request-id-reused', 'request-id-reused'],
    );
    const [row] = await dbRows(db, request.requestId);
    assert.equal(row.status, 'completed', 'the first request keeps its row');
    assert.deepEqual(typeof row.result_json === 'string' ? JSON.parse(row.result_json) : row.result_json, first);
    assert.equal(await readS3Text(s3, `results/${request.requestId}/result.json`), firstFile);
    // Progress events of one publisher arrive in order: once a later request's final event is in, a reuse's would be too.
    const later = await submit({ problemId: 'sum', language: 'python', source: 'print(3)  # after reuse' });
    await progress.waitFor((m) => m.headers['correlation-id'] === later.requestId && JSON.parse(m.body).type === 'final');
    const finals = progress
      .forRequest(request.requestId)
      .map((m) => JSON.parse(m.body))
      .filter((e) => e.type === 'final');
    assert.deepEqual(
      finals.map((e) => e.result.status),
      ['completed'],
      'watchers of the first request see only its result',
    );
  });

  it("sends the result to reply-to as well, correlated by the request's correlation-id or message-id", async () => {
    const replies = new Inbox(conn, '/queue/site-replies');
    const withCorrelation = await prepareRequest(s3, {
      problemId: 'sum',
      language: 'python',
      source: solution('sum/accepted.py') + '\n# reply 1\n',
    });
    await conn.send('/queue/grading-requests', JSON.stringify(withCorrelation), {
      persistent: 'true',
      'reply-to': '/queue/site-replies',
      'correlation-id': 'site-corr-1',
    });
    const [reply] = await replies.waitFor((m) => m.headers['correlation-id'] === 'site-corr-1');
    assert.deepEqual(JSON.parse(reply.body), await resultOf(withCorrelation.requestId));
    assert.equal(reply.headers.grading_request_id, withCorrelation.requestId);

    const withoutCorrelation = await prepareRequest(s3, { problemId: 'sum', language: 'python', source: 'print(' });
    await conn.send('/queue/grading-requests', JSON.stringify(withoutCorrelation), {
      persistent: 'true',
      'reply-to': '/queue/site-replies',
    });
    const [answer] = await replies.waitFor((m) => m.headers.grading_request_id === withoutCorrelation.requestId);
    assert.match(answer.headers['correlation-id'], /^ID:/, "the request's message-id");

    // A reply-to naming the request queue is ignored (it would come back as a request).
    const looping = await prepareRequest(s3, { problemId: 'sum', language: 'python', source: 'print(2)' });
    await conn.send('/queue/grading-requests', JSON.stringify(looping), { persistent: 'true', 'reply-to': '/queue/grading-requests' });
    await resultOf(looping.requestId);
    await workerLogged(looping.requestId, 'reply-to ignored: not a destination results may be sent to');
  });

  it('reuses the result of an identical earlier submission', async () => {
    const source = solution('sum/accepted.py') + '\n# cache me\n';
    const first = await submit({ problemId: 'sum', language: 'python', source });
    await resultOf(first.requestId);
    const second = await submit({ problemId: 'sum', language: 'python', source });
    const result = await resultOf(second.requestId);
    assert.equal(result.requestId, second.requestId);
    assert.equal(result.result.verdict, 'AC');
    assert.match(await readS3Text(s3, `results/${second.requestId}/execution.log`), new RegExp(`identical to ${first.requestId}`));
  });

  it('takes grading-priority before grading-requests', async () => {
    // Two slots, both held by long gradings (one from each queue), and one more request waiting in the
    // worker from each queue: the slot that frees first takes the priority one. (Which goes first when both
    // are queued before the worker starts depends on its settle delay: tests/unit/consumer.test.ts.)
    await worker.stop('SIGTERM');
    worker = await startWorker({ broker, db, s3 }, { WORKER_CONCURRENCY: '2', GRADING_LOG_LEVEL: 'debug' });
    const logged = (msg: string, queue: string) =>
      workerLines().filter((l) => l.includes(`"msg":"${msg}"`) && l.includes(`"destination":"/queue/${queue}"`));
    const received = (queue: string) => logged('message received', queue).length;
    const dispatched = (queue: string) => logged('message dispatched', queue).length;
    const slowSource = solution('max-subarray/time-limit.py');
    // timeLimit 2000 (prepareRequest's default): each blocker grades for seconds.
    const slow = (tag: string) => ({ problemId: 'max-subarray', language: 'python' as const, source: `${slowSource}\n# ${tag}\n` });
    const blockers = [await submit(slow('blocker n'))];
    await waitUntil(() => dispatched('grading-requests') === 1, 'the worker started grading the first blocker');
    blockers.push(await submit(slow('blocker p'), 'grading-priority'));
    await waitUntil(() => dispatched('grading-priority') === 1, 'the worker started grading the second blocker');
    const normal = await submit({ problemId: 'sum', language: 'python', source: 'a,b=map(int,input().split())\nprint(a+b) # n' });
    const urgent = await submit(
      { problemId: 'sum', language: 'python', source: 'a,b=map(int,input().split())\nprint(a+b) # p' },
      'grading-priority',
    );
    await waitUntil(() => received('grading-requests') === 2 && received('grading-priority') === 2, 'both requests wait in the worker');
    await resultOf(normal.requestId);
    await resultOf(urgent.requestId);
    const lines = workerLines();
    const firstGraded = lines.findIndex((l) => l.includes('"msg":"graded"') && blockers.some((b) => l.includes(b.requestId)));
    const lastReceived = Math.max(...['grading-requests', 'grading-priority'].map((q) => lines.indexOf(logged('message received', q)[1])));
    assert.ok(lastReceived < firstGraded, 'both were waiting before a slot freed');
    const order = lines.filter((l) => l.includes('"msg":"message dispatched"')).map((l) => JSON.parse(l).destination);
    assert.deepEqual(order.slice(2), ['/queue/grading-priority', '/queue/grading-requests'], 'the freed slot took the priority request');
  });

  it('honours message priority within grading-requests (JMSPriority / STOMP priority)', async () => {
    await worker.stop('SIGTERM');
    const low = await prepareRequest(s3, {
      problemId: 'sum',
      language: 'python',
      source: 'a,b=map(int,input().split())\nprint(a+b) # low',
    });
    const high = await prepareRequest(s3, {
      problemId: 'sum',
      language: 'python',
      source: 'a,b=map(int,input().split())\nprint(a+b) # high',
    });
    await conn.send('/queue/grading-requests', JSON.stringify(low), { persistent: 'true', priority: '1' });
    await conn.send('/queue/grading-requests', JSON.stringify(high), { persistent: 'true', priority: '9' });
    worker = await startWorker({ broker, db, s3 }, { WORKER_CONCURRENCY: '1' });
    await resultOf(low.requestId);
    await resultOf(high.requestId);
    const order = results.messages.map((m) => m.headers['correlation-id']).filter((id) => id === low.requestId || id === high.requestId);
    assert.deepEqual(order, [high.requestId, low.requestId]);
  });

  it('loses nothing when killed mid-grading: a new worker stores the result exactly once', async () => {
    const request = await submit({
      problemId: 'max-subarray',
      language: 'python',
      source: solution('max-subarray/time-limit.py'),
      timeLimit: 3000,
    });
    await progress.waitFor((m) => m.headers['correlation-id'] === request.requestId, 60_000);
    await worker.stop('SIGKILL');
    assert.equal(results.forRequest(request.requestId).length, 0, 'no result before the kill');
    worker = await startWorker({ broker, db, s3 });
    const result = await resultOf(request.requestId);
    assert.equal(result.result.verdict, 'TLE');
    const rows = await dbRows(db, request.requestId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].attempts, 2, 'the crashed attempt counted');
    await waitUntil(async () => !!(await dbRows(db, request.requestId))[0]?.published_at, 'the result is recorded as published');
    // The worker's results arrive in the order it sent them: once a later request's result is in, a second
    // result for this request (sent while it was handled) would be in too.
    const later = await submit({ problemId: 'sum', language: 'python', source: 'print(3)  # after the kill' });
    await resultOf(later.requestId);
    assert.equal(results.forRequest(request.requestId).length, 1, 'published once');
  });

  it('recovers when the broker restarts mid-run', async () => {
    const request = await submit({
      problemId: 'max-subarray',
      language: 'python',
      source: solution('max-subarray/time-limit.py') + '\n# restart\n',
      timeLimit: 3000,
    });
    await progress.waitFor((m) => m.headers['correlation-id'] === request.requestId, 60_000);
    await conn.close();
    await broker.restart();
    conn = await connectTo(broker);
    results = new Inbox(conn, '/queue/grading-results');
    progress = new Inbox(conn, '/topic/grading-progress');
    dlq = new Inbox(conn, '/queue/grading-dlq');
    const result = await resultOf(request.requestId, 120_000);
    assert.equal(result.result.verdict, 'TLE');
    assert.equal((await dbRows(db, request.requestId)).length, 1);
    const after = await submit({ problemId: 'sum', language: 'python', source: solution('sum/accepted.py') + '\n# after restart\n' });
    assert.equal((await resultOf(after.requestId)).result.verdict, 'AC');
  });

  it('drains in-flight work on SIGTERM and exits 0', async () => {
    const request = await submit({
      problemId: 'max-subarray',
      language: 'python',
      source: solution('max-subarray/time-limit.py') + '\n# drain\n',
      timeLimit: 2000,
    });
    await progress.waitFor((m) => m.headers['correlation-id'] === request.requestId, 60_000);
    const code = await worker.stop('SIGTERM');
    assert.equal(code, 0);
    assert.equal(
      results.forRequest(request.requestId).length >= 1 || (await dbRows(db, request.requestId))[0]?.status === 'completed',
      true,
    );
    assert.match(worker.output(), /worker drained/);
  });
});
