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
import { validateGradingResult } from '../../worker/src/contracts';
import type { Language } from '../../worker/src/languages';
import { InboundMessage, StompConnection } from '../../worker/src/queue/stomp';
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
    const tle = await submit({ problemId: 'max-subarray', language: 'python', source: solution('max-subarray/time-limit.py'), timeLimit: 1000 });
    assert.equal((await resultOf(wa.requestId)).result.verdict, 'WA');
    const ceResult = await resultOf(ce.requestId);
    assert.equal(ceResult.result.verdict, 'CE');
    assert.match(ceResult.result.compileOutput, /error/);
    assert.equal((await resultOf(tle.requestId)).result.verdict, 'TLE');
  });

  it('dead-letters invalid messages with the reason, and acks them', async () => {
    await conn.send('/queue/grading-requests', '{not json', { persistent: 'true' });
    const request = await prepareRequest(s3, { problemId: 'sum', language: 'python', source: 'print(1)' });
    await conn.send('/queue/grading-requests', JSON.stringify({ ...request, requestId: 'req_badlang', language: 'cobol' }), { persistent: 'true' });
    const { timeLimit: _omit, ...noLimit } = request;
    await conn.send('/queue/grading-requests', JSON.stringify({ ...noLimit, requestId: 'req_nolimit' }), { persistent: 'true' });
    const dead = await dlq.waitFor(() => true, 30_000, 3);
    const byBody = (s: string) => dead.find((m) => m.body.includes(s))!;
    assert.equal(byBody('{not json').headers['x-error-reason'], 'invalid-json');
    assert.equal(byBody('req_badlang').headers['x-error-reason'], 'schema-validation');
    assert.match(byBody('req_badlang').headers['x-error-detail'], /language: "cobol" is not one of/);
    assert.match(byBody('req_nolimit').headers['x-error-detail'], /timeLimit: is required/);
    assert.equal(byBody('req_badlang').headers['x-original-destination'], '/queue/grading-requests');
    assert.equal(byBody('req_badlang').body, JSON.stringify({ ...request, requestId: 'req_badlang', language: 'cobol' }), 'the original body is kept');
  });

  it('dead-letters a request whose test cases do not exist, with a failed result', async () => {
    const request = await submit({ problemId: 'no-such-problem', language: 'python', source: 'print(1)' });
    const result = await resultOf(request.requestId);
    assert.equal(result.status, 'failed');
    assert.match(result.error, /invalid-problem-or-source: invalid test case set: no test cases/);
    const [dead] = await dlq.waitFor((m) => m.headers['correlation-id'] === request.requestId);
    assert.equal(dead.headers['x-error-reason'], 'invalid-problem-or-source');
  });

  it('grades a duplicate delivery once and publishes the same result again', async () => {
    const request = await prepareRequest(s3, { problemId: 'sum', language: 'python', source: solution('sum/accepted.py') + '\n# dup\n' });
    await conn.send('/queue/grading-requests', JSON.stringify(request), { persistent: 'true' });
    const first = await resultOf(request.requestId);
    await conn.send('/queue/grading-requests', JSON.stringify(request), { persistent: 'true' });
    const both = await results.waitFor((m) => m.headers['correlation-id'] === request.requestId, 30_000, 2);
    assert.deepEqual(JSON.parse(both[1].body), first);
    const rows = await dbRows(db, request.requestId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].attempts, 1, 'graded once');
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
    await worker.stop('SIGTERM');
    const normal = await submit({ problemId: 'sum', language: 'python', source: 'a,b=map(int,input().split())\nprint(a+b) # n' });
    const urgent = await submit({ problemId: 'sum', language: 'python', source: 'a,b=map(int,input().split())\nprint(a+b) # p' }, 'grading-priority');
    worker = await startWorker({ broker, db, s3 }, { WORKER_CONCURRENCY: '1' });
    await resultOf(normal.requestId);
    await resultOf(urgent.requestId);
    const order = results.messages.map((m) => m.headers['correlation-id']).filter((id) => id === normal.requestId || id === urgent.requestId);
    assert.deepEqual(order, [urgent.requestId, normal.requestId]);
  });

  it('loses nothing when killed mid-grading: a new worker stores the result exactly once', async () => {
    const request = await submit({ problemId: 'max-subarray', language: 'python', source: solution('max-subarray/time-limit.py'), timeLimit: 3000 });
    await progress.waitFor((m) => m.headers['correlation-id'] === request.requestId, 60_000);
    await worker.stop('SIGKILL');
    assert.equal(results.forRequest(request.requestId).length, 0, 'no result before the kill');
    worker = await startWorker({ broker, db, s3 });
    const result = await resultOf(request.requestId);
    assert.equal(result.result.verdict, 'TLE');
    const rows = await dbRows(db, request.requestId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].attempts, 2, 'the crashed attempt counted');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(results.forRequest(request.requestId).length, 1, 'published once');
  });

  it('recovers when the broker restarts mid-run', async () => {
    const request = await submit({ problemId: 'max-subarray', language: 'python', source: solution('max-subarray/time-limit.py') + '\n# restart\n', timeLimit: 3000 });
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
    const request = await submit({ problemId: 'max-subarray', language: 'python', source: solution('max-subarray/time-limit.py') + '\n# drain\n', timeLimit: 2000 });
    await progress.waitFor((m) => m.headers['correlation-id'] === request.requestId, 60_000);
    const code = await worker.stop('SIGTERM');
    assert.equal(code, 0);
    assert.equal(results.forRequest(request.requestId).length >= 1 || (await dbRows(db, request.requestId))[0]?.status === 'completed', true);
    assert.match(worker.output(), /worker drained/);
  });
});
