/**
 * The engine's mapping from executor facts to the result document, with a scripted executor (the
 * real sandbox is exercised by tests/sandbox and the CLI test).
 */
import assert from 'node:assert/strict';
import { validateGradingResult } from '../../core/src/contracts';
import type { CaseRun, ExecutionJob, ExecutionReport, Executor, RunOutcome } from '../../worker/src/executors/port';
import { ExecutorUnavailableError } from '../../worker/src/executors/port';
import { gradeSubmission } from '../../worker/src/grading/engine';
import { buildTestSet } from '../../worker/src/problems/testSet';

class ScriptedExecutor implements Executor {
  readonly name = 'scripted';
  jobs: ExecutionJob[] = [];
  constructor(private readonly script: (job: ExecutionJob) => ExecutionReport | Error) {}
  async execute(job: ExecutionJob, onCase?: (run: CaseRun) => void): Promise<ExecutionReport> {
    this.jobs.push(job);
    const report = this.script(job);
    if (report instanceof Error) throw report;
    for (const run of [...report.runs].reverse()) onCase?.(run);
    return report;
  }
  async close() {}
}

const out = (stdout: string, over: Partial<RunOutcome> = {}): RunOutcome => ({
  status: 'exited',
  exitCode: 0,
  signal: null,
  stdout,
  stderr: '',
  timeMs: 10,
  wallMs: 12,
  memoryMb: 5,
  ...over,
});
const testSet = buildTestSet(
  new Map(
    Object.entries({
      '1.in': '1 2',
      '1.out': '3\n',
      '2.in': '2 2',
      '2.out': '4\n',
      '3.in': '5 5',
      '3.out': '10\n',
      'manifest.json': '{"scores":{"3":2}}',
    }),
  ),
);
const request = { requestId: 'req_e1', language: 'python' as const, timeLimit: 1000, memoryLimit: 64 };

describe('grading engine', () => {
  it('grades every case once, streams progress, and builds a valid result', async () => {
    const executor = new ScriptedExecutor(() => ({
      compile: { ok: true, output: '', timeMs: 0 },
      runs: [
        { index: 1, outcome: out('3\n', { timeMs: 30, memoryMb: 7.25 }) },
        { index: 2, outcome: out('5\n') },
        { index: 3, outcome: out('', { status: 'time-limit', timeMs: 1001, message: 'CPU time limit 1000 ms exceeded' }) },
      ],
    }));
    const progress: Array<[number, string, number]> = [];
    const { result, log } = await gradeSubmission({
      request,
      source: 'print(1)',
      testSet,
      executor,
      resultFile: 's3://b/results/req_e1/result.json',
      onCase: (r, total) => progress.push([r.case, r.status, total]),
    });
    assert.equal(executor.jobs.length, 1, 'one execution (compile once) per submission');
    assert.deepEqual(
      executor.jobs[0].cases.map((c) => c.index),
      [1, 2, 3],
    );
    assert.deepEqual(progress, [
      [3, 'TLE', 3],
      [2, 'WA', 3],
      [1, 'AC', 3],
    ]);
    assert.equal(result.result?.verdict, 'TLE');
    assert.equal(result.result?.score, 25);
    assert.equal(result.result?.executionTime, 1001);
    assert.equal(result.result?.memoryUsage, 8, 'whole MB, rounded up');
    assert.deepEqual(
      result.result?.testResults.map((t) => t.memory),
      [8, 5, 5],
    );
    assert.deepEqual(
      result.result?.testResults.map((t) => t.status),
      ['AC', 'WA', 'TLE'],
    );
    // Case 2 is hidden: what the checker found (it quotes the expected output) stays in the log.
    assert.equal(result.result?.testResults[1].message, undefined);
    assert.match(log, /case 2: WA .*line 1: expected "4", got "5"/);
    assert.ok(validateGradingResult(result).ok);
    assert.match(log, /case 3: TLE/);
  });

  it('marks every case CE and keeps the compiler output when compilation fails', async () => {
    const executor = new ScriptedExecutor(() => ({ compile: { ok: false, output: 'main.c:1: error: expected ;', timeMs: 40 }, runs: [] }));
    const { result } = await gradeSubmission({ request: { ...request, language: 'c' }, source: 'int main(', testSet, executor });
    assert.equal(result.result?.verdict, 'CE');
    assert.equal(result.result?.score, 0);
    assert.deepEqual(
      result.result?.testResults.map((t) => t.status),
      ['CE', 'CE', 'CE'],
    );
    assert.match(result.result?.compileOutput ?? '', /expected ;/);
    assert.ok(validateGradingResult(result).ok);
  });

  it('lets the manifest limits override the request', async () => {
    const executor = new ScriptedExecutor(() => ({ compile: { ok: true, output: '', timeMs: 0 }, runs: [] }));
    const limited = buildTestSet(
      new Map(Object.entries({ '1.in': '', '1.out': '', 'manifest.json': '{"timeLimit":300,"memoryLimit":32}' })),
    );
    const { result } = await gradeSubmission({ request, source: '', testSet: limited, executor });
    assert.deepEqual([executor.jobs[0].limits.timeLimitMs, executor.jobs[0].limits.memoryLimitMb], [300, 32]);
    assert.equal(result.result?.testResults[0].status, 'IE', 'a case the executor never ran is an internal error, not a pass');
  });

  it('propagates an unavailable executor instead of inventing a verdict', async () => {
    const executor = new ScriptedExecutor(() => new ExecutorUnavailableError('judge0 circuit open'));
    await assert.rejects(gradeSubmission({ request, source: '', testSet, executor }), ExecutorUnavailableError);
  });

  it('keeps hidden cases to verdict, time and memory, and shows details of the manifest samples', async () => {
    const withSamples = buildTestSet(
      new Map(
        Object.entries({
          '1.in': '1',
          '1.out': 'one\n',
          '2.in': '2',
          '2.out': 'secret-answer\n',
          '3.in': '3',
          '3.out': 'x\n',
          'manifest.json': '{"samples":[1]}',
        }),
      ),
    );
    // An echo-the-input harvester: it prints its input, fails on purpose with an exit code carrying data.
    const executor = new ScriptedExecutor(() => ({
      compile: { ok: true, output: '', timeMs: 0 },
      runs: [
        { index: 1, outcome: out('1\n') },
        { index: 2, outcome: out('2\n') },
        { index: 3, outcome: out('', { exitCode: 42, stderr: 'leaked-input-3' }) },
      ],
    }));
    const { result, log } = await gradeSubmission({ request, source: '', testSet: withSamples, executor });
    const cases = result.result!.testResults;
    assert.deepEqual(
      cases.map((c) => [c.status, c.message]),
      [
        ['WA', 'line 1: expected "one", got "1"'],
        ['WA', undefined],
        ['RE', undefined],
      ],
    );
    const published = JSON.stringify(result);
    for (const hidden of ['secret-answer', 'exit code 42', 'leaked-input-3']) assert.ok(!published.includes(hidden), hidden);
    assert.match(log, /secret-answer/);
    assert.match(log, /exit code 42/);
    const author = await gradeSubmission({ request, source: '', testSet: withSamples, executor, audience: 'author' });
    assert.match(author.result.result!.testResults[1].message ?? '', /secret-answer/);
  });

  it("quotes the program's stderr in a runtime error's message on a public case only", async () => {
    const files = { '1.in': '1', '1.out': '1\n', '2.in': '2', '2.out': '2\n', 'manifest.json': '{"samples":[1]}' };
    const withSamples = buildTestSet(new Map(Object.entries(files)));
    const trace = 'Traceback (most recent call last):\n  File "main.py", line 1\nZeroDivisionError: division by zero\n';
    const executor = new ScriptedExecutor(() => ({
      compile: { ok: true, output: '', timeMs: 0 },
      runs: [
        { index: 1, outcome: out('', { exitCode: 1, stderr: trace + 'x'.repeat(5000) }) },
        { index: 2, outcome: out('', { exitCode: 1, stderr: 'hidden-input-2' }) },
      ],
    }));
    const { result } = await gradeSubmission({ request, source: '', testSet: withSamples, executor });
    const [sample, hidden] = result.result!.testResults;
    assert.equal(sample.status, 'RE');
    assert.ok(sample.message!.startsWith(`exit code 1\nstderr: ${trace}`), sample.message);
    assert.ok(sample.message!.length <= 2000);
    assert.equal(hidden.message, undefined);
    assert.ok(!JSON.stringify(result).includes('hidden-input-2'));
    assert.ok(validateGradingResult(result).ok);
  });

  it('judges streamed output as it arrives, keeps only a prefix, and reports OLE past the limit for any executor', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 0xff);
    const limited = buildTestSet(
      new Map(
        Object.entries({
          '1.in': '',
          '1.out': '7\n',
          '2.in': '',
          '2.out': '7\n',
          '3.in': '',
          '3.out': '7\n',
          'manifest.json': '{"outputLimit":2097152}',
        }),
      ),
    );
    const outcomes: RunOutcome[] = [];
    const streaming: Executor = {
      name: 'streaming',
      async execute(job, onCase) {
        const runs: CaseRun[] = [];
        // Case 1 streams 7 in two pieces; case 2 streams 1 MB of 0xFF; case 3 (not streamed) returns 3 MB as a string.
        const sink1 = job.openOutput!(1);
        sink1.write(Buffer.from('7'));
        sink1.write(Buffer.from('\n'));
        const sink2 = job.openOutput!(2);
        for (let i = 0; i < 16; i++) sink2.write(big.subarray(0, 65536));
        runs.push({ index: 1, outcome: out('7\n', { stdoutBytes: 2 }) });
        runs.push({ index: 2, outcome: out('\uFFFD'.repeat(10), { stdoutBytes: 1 << 20 }) });
        runs.push({ index: 3, outcome: out(big.toString('utf8')) });
        for (const run of runs) {
          outcomes.push(run.outcome);
          onCase?.(run);
        }
        return { compile: { ok: true, output: '', timeMs: 0 }, runs };
      },
      async close() {},
    };
    const { result, log } = await gradeSubmission({ request, source: '', testSet: limited, executor: streaming });
    assert.deepEqual(
      result.result!.testResults.map((c) => c.status),
      ['AC', 'WA', 'OLE'],
    );
    assert.ok(
      outcomes.every((o) => o.stdout.length <= 256),
      'the engine released every stdout but a prefix',
    );
    assert.match(log, /stdout \(1048576 bytes\) began/);
  });

  it('escapes control characters from programs in execution.log', async () => {
    const executor = new ScriptedExecutor(() => ({
      compile: { ok: true, output: 'warning: \x1b[2J\u202e', timeMs: 1 },
      runs: [
        { index: 1, outcome: out('\x1b]0;owned\x07\r\n', { stderr: 'line\rcase 9: AC\n\x1b[31mred\u0085' }) },
        { index: 2, outcome: out('4\n') },
        { index: 3, outcome: out('10\n') },
      ],
    }));
    const { log } = await gradeSubmission({ request, source: '', testSet, executor });
    assert.doesNotMatch(log, /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]/);
    assert.match(log, /\\x1b\[2J\\u202e/);
    assert.doesNotMatch(log, /^case 9/m, 'a program cannot forge a log line');
  });
});
