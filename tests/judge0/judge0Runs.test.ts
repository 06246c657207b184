/**
 * A run with custom input through the Judge0 adapter (worker/src/runs/execute.ts): one submission
 * carrying the user's stdin, against the test server that answers like Judge0 1.13.1
 * (tests/helpers/judge0TestServer.ts) and really runs the program in the local sandbox.
 */
import assert from 'node:assert/strict';
import { RUN_LIMITS, RunRequest, validateRunResult } from '../../core/src/contracts';
import { createJudge0Executor, Judge0Executor } from '../../worker/src/executors/judge0';
import { ExecutorUnavailableError } from '../../worker/src/executors/port';
import { executeRun } from '../../worker/src/runs/execute';
import { Judge0TestServer, startJudge0TestServer } from '../helpers/judge0TestServer';

const fast = { pollInitialMs: 20, pollMaxMs: 100, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 50))) };

const request = (fields: Partial<RunRequest>): RunRequest => ({
  mode: 'run',
  runId: 'run_judge0',
  userId: 'u',
  problemId: 'sum',
  language: 'python',
  source: 'print(1)',
  stdin: '',
  testCases: 's3://bucket/problems/sum/testcases/',
  timeLimit: 2000,
  memoryLimit: 128,
  timestamp: new Date().toISOString(),
  ...fields,
});

describe('runs with custom input on the Judge0 executor', function () {
  this.timeout(180_000);
  let judge0: Judge0TestServer;
  let executor: Judge0Executor;

  before(async () => {
    judge0 = await startJudge0TestServer({ authToken: 'tok', uidBase: 62300 });
    executor = await createJudge0Executor({ baseUrl: judge0.baseUrl, authToken: 'tok', ...fast });
  });

  after(async () => {
    await executor?.close();
    await judge0?.close();
  });

  const posted = () =>
    judge0.posted.flatMap((p) => ((p.body as { submissions?: unknown[] }).submissions ?? [p.body]) as Array<Record<string, unknown>>);

  it('sends one submission with the stdin and returns stdout and stderr', async () => {
    const before = posted().length;
    const source = 'import sys\nnums = sys.stdin.read().split()\nprint(sum(map(int, nums)))\nprint("got", len(nums), file=sys.stderr)\n';
    const result = await executeRun(request({ source, stdin: '40 2\n' }), {}, executor);
    assert.ok(validateRunResult(result).ok, JSON.stringify(result));
    assert.equal(result.status, 'OK');
    assert.equal(result.stdout, '42\n');
    assert.equal(result.stderr, 'got 2\n');
    const sent = posted().slice(before);
    assert.equal(sent.length, 1, 'a single submission');
    assert.equal(Buffer.from(String(sent[0].stdin), 'base64').toString('utf8'), '40 2\n');
  });

  it('reports RE with exit code and stderr, CE with the compiler output, and bounds stdout', async () => {
    const re = await executeRun(request({ source: 'import sys\nsys.stderr.write("bad\\n")\nsys.exit(3)\n' }), {}, executor);
    assert.deepEqual([re.status, re.exitCode, re.stderr], ['RE', 3, 'bad\n']);
    const ce = await executeRun(request({ language: 'c', source: 'int main( { }' }), {}, executor);
    assert.equal(ce.status, 'CE');
    assert.match(ce.compileOutput ?? '', /error/);
    const big = await executeRun(request({ source: `print("x" * ${RUN_LIMITS.stdoutChars * 2})` }), {}, executor);
    assert.equal(big.status, 'OK');
    assert.equal(big.stdout.length, RUN_LIMITS.stdoutChars);
    assert.equal(big.stdoutBytes, RUN_LIMITS.stdoutChars * 2 + 1);
    assert.equal(big.stdoutTruncated, true);
  });

  it('passes an unavailable Judge0 on to the caller (the worker answers IE after its tries)', async () => {
    const down = await createJudge0Executor({ baseUrl: judge0.baseUrl, authToken: 'tok', ...fast }).catch((error) => error);
    assert.ok(!(down instanceof Error));
    await judge0.close();
    await assert.rejects(executeRun(request({}), {}, down as Judge0Executor), ExecutorUnavailableError);
    await (down as Judge0Executor).close();
    judge0 = await startJudge0TestServer({ authToken: 'tok', uidBase: 62300 });
  });
});
