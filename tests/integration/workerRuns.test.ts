/**
 * Runs with custom input through the real worker (worker/src/runs/): a `"mode": "run"` message on
 * grading-requests, executed once in the sandbox on the given stdin under the problem's limits, its
 * result published as a `run` event on the progress topic, and never anything on grading-results.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { LocalActiveMq } from '../../scripts/services/activemq';
import type { LocalMariaDb } from '../../scripts/services/mariadb';
import type { LocalS3 } from '../../scripts/services/s3';
import { RUN_LIMITS, RunRequest, RunResult, validateProgressEvent } from '../../core/src/contracts';
import { InboundMessage, StompConnection } from '../../core/src/queue/stomp';
import { privateActiveMq, sharedMariaDb, sharedS3 } from '../helpers/services';
import { connectTo } from '../helpers/stompProbe';
import { seedProblems, startWorker, WorkerProcess } from '../helpers/workerHarness';

class Inbox {
  readonly messages: InboundMessage[] = [];
  constructor(conn: StompConnection, destination: string) {
    conn.subscribe(destination, { ack: 'auto' }, (m) => this.messages.push(m));
  }
  async waitFor(predicate: (m: InboundMessage) => boolean, timeoutMs = 60_000): Promise<InboundMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error('timed out waiting for a message');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('worker: runs with custom input (integration)', function () {
  this.timeout(180_000);
  let broker: LocalActiveMq;
  let db: LocalMariaDb;
  let s3: LocalS3;
  let conn: StompConnection;
  let progress: Inbox;
  let results: Inbox;
  let dlq: Inbox;
  let worker: WorkerProcess;

  const runRequest = (fields: Partial<RunRequest>): RunRequest => ({
    mode: 'run',
    runId: `run_${randomUUID().replace(/-/g, '')}`,
    userId: 'user_runs',
    problemId: 'sum',
    language: 'python',
    source: 'print(1)',
    stdin: '',
    testCases: `s3://${s3.bucket}/problems/${fields.problemId ?? 'sum'}/testcases/`,
    timeLimit: 2000,
    memoryLimit: 256,
    timestamp: new Date().toISOString(),
    ...fields,
  });
  /** Sends a run the way the gateway does (non-persistent, with an expiry) and waits for its `run` event. */
  const run = async (fields: Partial<RunRequest>, body?: string): Promise<RunResult> => {
    const request = runRequest(fields);
    await conn.send('/queue/grading-requests', body ?? JSON.stringify(request), { expires: String(Date.now() + 120_000) });
    const message = await progress.waitFor((m) => m.headers['correlation-id'] === request.runId, 90_000);
    const event = JSON.parse(message.body);
    const checked = validateProgressEvent(event);
    assert.ok(checked.ok, JSON.stringify(checked));
    assert.equal(event.type, 'run');
    assert.equal(event.runId, request.runId);
    return event.result as RunResult;
  };

  before(async () => {
    [broker, db, s3] = await Promise.all([privateActiveMq('runs'), sharedMariaDb(), sharedS3()]);
    await seedProblems(s3);
    conn = await connectTo(broker);
    progress = new Inbox(conn, '/topic/grading-progress');
    results = new Inbox(conn, '/queue/grading-results');
    dlq = new Inbox(conn, '/queue/grading-dlq');
    worker = await startWorker({ broker, db, s3 });
  });

  after(async () => {
    await worker?.stop('SIGKILL');
    await conn?.close();
    await broker?.stop();
  });

  it('runs a program once on the given stdin and returns its stdout and stderr', async () => {
    const source =
      'import sys\ndata = sys.stdin.read().split()\nprint(sum(map(int, data)))\nprint("note: summed", len(data), file=sys.stderr)\n';
    const result = await run({ source, stdin: '40 2\n' });
    assert.equal(result.status, 'OK', JSON.stringify(result));
    assert.equal(result.stdout, '42\n');
    assert.equal(result.stdoutBytes, 3);
    assert.equal(result.stdoutTruncated, false);
    assert.equal(result.stderr, 'note: summed 2\n');
    assert.equal(result.exitCode, 0);
    assert.ok(result.memory >= 1, 'memory in whole MB, rounded up');
  });

  it("applies the problem's per-language limits (manifest) over the request's", async () => {
    // slow-python: timeLimit 500 ms, python x5; java 1500 ms / 256 MB.
    const python = await run({ problemId: 'slow-python', source: 'print(1)', timeLimit: 2000, memoryLimit: 128 });
    assert.deepEqual(python.limits, { timeLimit: 2500, memoryLimit: 128, outputLimit: 16 * 1024 * 1024 });
  });

  it('reports RE with the exit code and stderr, CE with the compiler output, TLE at the limit', async () => {
    const re = await run({ source: 'import sys\nprint("partial")\nsys.stderr.write("boom: bad input\\n")\nsys.exit(3)\n' });
    assert.equal(re.status, 'RE');
    assert.equal(re.exitCode, 3);
    assert.equal(re.stdout, 'partial\n');
    assert.match(re.stderr, /boom: bad input/);
    assert.equal(re.message, 'exit code 3');

    const ce = await run({ language: 'c', source: 'int main( { return 0; }\n' });
    assert.equal(ce.status, 'CE');
    assert.match(ce.compileOutput ?? '', /error/);
    assert.equal(ce.stdout, '');

    const tle = await run({ source: 'while True:\n    pass\n', timeLimit: 500 });
    assert.equal(tle.status, 'TLE');
    assert.match(tle.message ?? '', /time limit/);
  });

  it('takes stdin up to its bound, and bounds the stdout excerpt and says it is truncated', async () => {
    const stdin = 'y'.repeat(RUN_LIMITS.stdinChars);
    const result = await run({
      source: `import sys\nassert len(sys.stdin.read()) == ${stdin.length}\nprint("x" * ${RUN_LIMITS.stdoutChars + 1000})`,
      stdin,
    });
    assert.equal(result.status, 'OK');
    assert.equal(result.stdout.length, RUN_LIMITS.stdoutChars);
    assert.equal(result.stdoutBytes, RUN_LIMITS.stdoutChars + 1001);
    assert.equal(result.stdoutTruncated, true);
  });

  it('answers IE for an interactive problem and for a problem without test cases', async () => {
    const interactive = await run({ problemId: 'guess-number', source: 'print(1)' });
    assert.equal(interactive.status, 'IE');
    assert.match(interactive.message ?? '', /interactive/);
    const unknown = await run({ problemId: 'no-such-problem' });
    assert.equal(unknown.status, 'IE');
    assert.match(unknown.message ?? '', /no-such-problem/);
  });

  it('dead-letters an invalid run and tells its owner (IE) when the runId is readable', async () => {
    const request = runRequest({});
    const body = JSON.stringify({ ...request, stdin: 'x'.repeat(RUN_LIMITS.stdinChars + 1), extra: true });
    const result = await run(request, body);
    assert.equal(result.status, 'IE');
    assert.match(result.message ?? '', /stdin/);
    assert.match(result.message ?? '', /extra: is not a known field/);
    const dead = await dlq.waitFor((m) => m.body === body);
    assert.equal(dead.headers.grading_error_reason, 'schema-validation');
  });

  it('never publishes anything on grading-results for a run', () => {
    // Every run above has published its event; a grading publishes its result before its progress event.
    assert.deepEqual(
      results.messages.map((m) => m.body.slice(0, 100)),
      [],
    );
  });
});
