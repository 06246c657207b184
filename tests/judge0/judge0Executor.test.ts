/**
 * The Judge0 adapter against a server that follows Judge0's API and really runs the programs in
 * the local sandbox.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createJudge0Executor, Judge0Executor } from '../../worker/src/executors/judge0';
import { ExecutorUnavailableError, Executor } from '../../worker/src/executors/port';
import { createSandboxExecutor } from '../../worker/src/executors/sandbox';
import { FakeJudge0, startFakeJudge0 } from '../helpers/fakeJudge0';

const SUM_PY = 'a, b = map(int, input().split())\nprint(a + b)';
const limits = { timeLimitMs: 2000, memoryLimitMb: 128, outputLimitBytes: 1 << 20 };
const sumCases = (n: number) => Array.from({ length: n }, (_, i) => ({ index: i + 1, input: `${i} ${i}\n` }));
const fast = { pollInitialMs: 20, pollMaxMs: 100, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 50))) };

describe('Judge0 executor', function () {
  this.timeout(120_000);
  let sandbox: Executor;
  let workRoot: string;
  let judge0: FakeJudge0;

  before(async () => {
    workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'judge0-'));
    sandbox = await createSandboxExecutor({ concurrency: 2, workRoot, uidBase: 62200 });
  });
  after(() => fs.rmSync(workRoot, { recursive: true, force: true }));
  afterEach(() => judge0?.close());

  const start = async (opts: Partial<Parameters<typeof startFakeJudge0>[0]> = {}) => {
    judge0 = await startFakeJudge0({ executor: sandbox, authToken: 'tok', ...opts });
    return judge0;
  };

  it('resolves language ids from /languages, newest version first', async () => {
    await start();
    const executor = (await createJudge0Executor({ baseUrl: judge0.baseUrl, authToken: 'tok', ...fast })) as Judge0Executor;
    const report = await executor.execute({ id: 'c', language: 'c', source: '#include <stdio.h>\nint main(){puts("gcc9");}', cases: [{ index: 1, input: '' }], limits });
    assert.equal(report.runs[0].outcome.stdout, 'gcc9\n');
    assert.equal(executor.batchSize, 20);
  });

  it('runs every case for real in one batch POST and a few polls, streaming each case', async () => {
    await start();
    const executor = await createJudge0Executor({ baseUrl: judge0.baseUrl, authToken: 'tok', ...fast });
    judge0.requests.length = 0;
    const seen: number[] = [];
    const report = await executor.execute({ id: 'sum', language: 'python', source: SUM_PY, cases: sumCases(5), limits }, (r) => seen.push(r.index));
    assert.equal(report.compile.ok, true);
    assert.deepEqual(report.runs.map((r) => [r.index, r.outcome.status, r.outcome.stdout]), [[1, 'exited', '0\n'], [2, 'exited', '2\n'], [3, 'exited', '4\n'], [4, 'exited', '6\n'], [5, 'exited', '8\n']]);
    assert.deepEqual(seen.sort(), [1, 2, 3, 4, 5]);
    assert.equal(judge0.requests.filter((r) => r === 'POST /submissions/batch').length, 1);
    // In Queue, Processing, then final: at least three polls, all batched.
    assert.ok(judge0.requests.filter((r) => r === 'GET /submissions/batch').length >= 3);
    assert.equal(judge0.requests.filter((r) => r.startsWith('GET /submissions/') && r !== 'GET /submissions/batch').length, 0, 'no per-token polling');
  });

  it('splits more cases than the batch limit into several POSTs', async () => {
    await start({ maxBatchSize: 3 });
    const executor = await createJudge0Executor({ baseUrl: judge0.baseUrl, authToken: 'tok', ...fast });
    judge0.requests.length = 0;
    const report = await executor.execute({ id: 'many', language: 'python', source: SUM_PY, cases: sumCases(7), limits });
    assert.equal(report.runs.length, 7);
    assert.ok(report.runs.every((r) => r.outcome.status === 'exited'));
    assert.equal(judge0.requests.filter((r) => r === 'POST /submissions/batch').length, 3);
  });

  it('reports a compile error once, with the compiler output', async () => {
    await start();
    const executor = await createJudge0Executor({ baseUrl: judge0.baseUrl, authToken: 'tok', ...fast });
    const report = await executor.execute({ id: 'ce', language: 'cpp', source: 'int main() { return x; }', cases: sumCases(3), limits });
    assert.equal(report.compile.ok, false);
    assert.match(report.compile.output, /was not declared/);
    assert.deepEqual(report.runs, []);
  });

  it('maps time limits, runtime errors and signals', async () => {
    await start();
    const executor = await createJudge0Executor({ baseUrl: judge0.baseUrl, authToken: 'tok', ...fast });
    const run = async (language: 'python' | 'c', source: string) => (await executor.execute({ id: 'x', language, source, cases: [{ index: 1, input: '' }], limits: { ...limits, timeLimitMs: 1000 } })).runs[0].outcome;
    assert.equal((await run('python', 'while True: pass')).status, 'time-limit');
    assert.deepEqual(await run('python', 'import sys\nsys.exit(4)').then((o) => [o.status, o.exitCode]), ['exited', 4]);
    assert.deepEqual(await run('c', 'int main(){ volatile int *p = 0; return *p; }').then((o) => [o.status, o.signal]), ['signaled', 'SIGSEGV']);
  });

  it('infers memory limit exceeded, which Judge0 cannot report', async () => {
    await start();
    const executor = await createJudge0Executor({ baseUrl: judge0.baseUrl, authToken: 'tok', ...fast });
    const c = await executor.execute({ id: 'mle', language: 'c', source: '#include <stdlib.h>\n#include <string.h>\nint main(){for(;;){char*p=malloc(1<<20); if(p) memset(p,1,1<<20);}}', cases: [{ index: 1, input: '' }], limits: { ...limits, memoryLimitMb: 64 } });
    assert.equal(c.runs[0].outcome.status, 'memory-limit');
    const py = await executor.execute({ id: 'mle2', language: 'python', source: 'x = []\nwhile True: x.append(bytearray(1 << 20))', cases: [{ index: 1, input: '' }], limits: { ...limits, memoryLimitMb: 64 } });
    assert.equal(py.runs[0].outcome.status, 'memory-limit');
  });

  it('retries a case that ended in Internal Error, then reports IE if it persists', async () => {
    await start();
    const executor = await createJudge0Executor({ baseUrl: judge0.baseUrl, authToken: 'tok', ...fast, internalErrorRetries: 1 });
    judge0.faults.forceStatus = { count: 1, status: 13 };
    const recovered = await executor.execute({ id: 'ie', language: 'python', source: SUM_PY, cases: sumCases(2), limits });
    assert.ok(recovered.runs.every((r) => r.outcome.status === 'exited'), JSON.stringify(recovered.runs));
    judge0.faults.forceStatus = { count: 2, status: 14 };
    const persistent = await executor.execute({ id: 'ie2', language: 'python', source: SUM_PY, cases: sumCases(1), limits });
    assert.equal(persistent.runs[0].outcome.status, 'internal-error');
    assert.match(persistent.runs[0].outcome.message ?? '', /Exec Format Error/);
  });

  it('retries 5xx responses and then succeeds', async () => {
    await start();
    const executor = await createJudge0Executor({ baseUrl: judge0.baseUrl, authToken: 'tok', ...fast });
    judge0.faults.failNext = { count: 2, status: 502 };
    const report = await executor.execute({ id: 'r', language: 'python', source: SUM_PY, cases: sumCases(1), limits });
    assert.equal(report.runs[0].outcome.stdout, '0\n');
  });

  it('waits out 503 "queue is full" and resubmits', async () => {
    await start({ maxQueueSize: 2 });
    const executor = await createJudge0Executor({ baseUrl: judge0.baseUrl, authToken: 'tok', ...fast });
    judge0.faults.failNext = { count: 1, status: 503 };
    const report = await executor.execute({ id: 'q', language: 'python', source: SUM_PY, cases: sumCases(2), limits });
    assert.equal(report.runs.length, 2);
  });

  it('fails clearly, without retry storms, when the token is rejected', async () => {
    await start();
    await assert.rejects(createJudge0Executor({ baseUrl: judge0.baseUrl, authToken: 'wrong', ...fast }), (e: Error) => e instanceof ExecutorUnavailableError && /rejected the auth token/.test(e.message));
    assert.equal(judge0.requests.length, 1);
  });

  it('opens the circuit after repeated failures, then half-opens after the cool-down', async () => {
    await start();
    const executor = await createJudge0Executor({ baseUrl: judge0.baseUrl, authToken: 'tok', ...fast, requestAttempts: 2, breakerFailureThreshold: 2, breakerCoolDownMs: 300 });
    judge0.faults.failNext = { count: 100, status: 500 };
    await assert.rejects(executor.execute({ id: 'b1', language: 'python', source: SUM_PY, cases: sumCases(1), limits }), ExecutorUnavailableError);
    const before = judge0.requests.length;
    await assert.rejects(executor.execute({ id: 'b2', language: 'python', source: SUM_PY, cases: sumCases(1), limits }), /circuit open/);
    assert.equal(judge0.requests.length, before, 'an open circuit sends nothing');
    judge0.faults.failNext = { count: 0, status: 500 };
    await new Promise((r) => setTimeout(r, 350));
    const report = await executor.execute({ id: 'b3', language: 'python', source: SUM_PY, cases: sumCases(1), limits });
    assert.equal(report.runs[0].outcome.stdout, '0\n');
  });

  it('gives up on submissions stuck In Queue as "unavailable", not as a verdict', async () => {
    await start();
    const executor = await createJudge0Executor({ baseUrl: judge0.baseUrl, authToken: 'tok', ...fast, jobDeadlineMs: 500 });
    judge0.faults.stuck = true;
    await assert.rejects(executor.execute({ id: 's', language: 'python', source: SUM_PY, cases: sumCases(1), limits }), (e: Error) => e instanceof ExecutorUnavailableError && /stuck In Queue/.test(e.message));
  });

  it('times out a hanging server', async () => {
    await start();
    const executor = await createJudge0Executor({ baseUrl: judge0.baseUrl, authToken: 'tok', ...fast, requestTimeoutMs: 200, requestAttempts: 2 });
    judge0.faults.hang = true;
    await assert.rejects(executor.execute({ id: 'h', language: 'python', source: SUM_PY, cases: sumCases(1), limits }), (e: Error) => e instanceof ExecutorUnavailableError && /unreachable after 2 tries/.test(e.message));
  });

  it('names a language the server lacks', async () => {
    await start();
    const executor = (await createJudge0Executor({ baseUrl: judge0.baseUrl, authToken: 'tok', ...fast })) as Judge0Executor;
    (executor as unknown as { languageIds: Map<string, number> }).languageIds.delete('java');
    await assert.rejects(executor.execute({ id: 'j', language: 'java', source: '', cases: sumCases(1), limits }), /offers no java compiler/);
  });
});
