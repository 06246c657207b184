/**
 * Runs a program once on the user's stdin (a run with custom input) through the executor port, under
 * the problem's limits (the manifest's and per-language limits win, as in grading), and turns the
 * facts into a RunResult. Nothing is compared: the result is what the program printed, in bounded
 * excerpts. Only the manifest's limits are read from the test set; no test data reaches the result.
 * ExecutorUnavailableError propagates (the caller decides).
 */
import type { RunRequest, RunResult, RunStatus } from '../../../core/src/contracts/run';
import { RUN_LIMITS } from '../../../core/src/contracts/run';
import { effectiveLimits } from '../grading/engine';
import type { Executor, OutputSink, RunOutcome } from '../executors/port';
import type { TestSet } from '../problems/testSet';

/** What execute() needs of a test set: its limits (and whether the problem is interactive). */
export type RunLimitsSource = Pick<TestSet, 'timeLimitMs' | 'memoryLimitMb' | 'outputLimitBytes' | 'languageLimits' | 'interactorProgram'>;

/** Keeps the first `limit` bytes written to it and counts the rest. */
class PrefixSink implements OutputSink {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  bytes = 0;

  constructor(private readonly limit: number) {}

  write(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.kept >= this.limit) return;
    const part = chunk.subarray(0, this.limit - this.kept);
    this.chunks.push(Buffer.from(part));
    this.kept += part.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

export async function executeRun(
  request: RunRequest,
  problem: RunLimitsSource,
  executor: Executor,
  now = () => new Date(),
): Promise<RunResult> {
  const limits = effectiveLimits(request, problem);
  const base = {
    runId: request.runId,
    limits: { timeLimit: limits.timeLimitMs, memoryLimit: limits.memoryLimitMb, outputLimit: limits.outputLimitBytes },
  };
  if (problem.interactorProgram) {
    return notRun(base, 'this problem is interactive: its program talks to an interactor, so it cannot run on custom input', now);
  }
  // Bytes, then characters: a UTF-8 excerpt of N bytes never has more than N characters.
  const sink = new PrefixSink(RUN_LIMITS.stdoutChars);
  const report = await executor.execute({
    id: request.runId,
    language: request.language,
    source: request.source,
    cases: [{ index: 1, input: request.stdin }],
    limits,
    openOutput: () => sink,
  });
  const timestamp = now().toISOString();
  if (!report.compile.ok) {
    const compileOutput = report.compile.output.slice(0, RUN_LIMITS.compileOutputChars);
    return {
      ...base,
      status: 'CE',
      stdout: '',
      stdoutBytes: 0,
      stdoutTruncated: false,
      stderr: '',
      compileOutput,
      exitCode: null,
      time: 0,
      memory: 0,
      timestamp,
    };
  }
  const run = report.runs.find((r) => r.index === 1)?.outcome;
  if (!run) return notRun(base, 'the executor returned no run', now);
  // Executors that stream (the sandbox) filled the sink; the others (Judge0) return stdout whole.
  const streamed = run.stdoutBytes !== undefined;
  const bytes = streamed ? run.stdoutBytes! : Buffer.byteLength(run.stdout);
  const stdout = (streamed ? sink.text() : run.stdout).slice(0, RUN_LIMITS.stdoutChars);
  const status = bytes > limits.outputLimitBytes && run.status === 'exited' ? 'OLE' : runStatus(run);
  const message = status === 'OLE' && run.status === 'exited' ? `output exceeded ${limits.outputLimitBytes} bytes` : statusMessage(run);
  return {
    ...base,
    status,
    stdout,
    stdoutBytes: bytes,
    stdoutTruncated: bytes > Buffer.byteLength(stdout),
    stderr: run.stderr.slice(0, RUN_LIMITS.stderrChars),
    exitCode: run.exitCode,
    ...(run.signal ? { signal: run.signal.slice(0, 32) } : {}),
    time: Math.max(0, Math.round(run.timeMs)),
    memory: Math.max(0, Math.ceil(run.memoryMb - 1e-9)),
    ...(message ? { message: message.slice(0, RUN_LIMITS.messageChars) } : {}),
    timestamp,
  };
}

function runStatus(run: RunOutcome): RunStatus {
  switch (run.status) {
    case 'exited':
      return run.exitCode === 0 ? 'OK' : 'RE';
    case 'signaled':
      return 'RE';
    case 'time-limit':
      return 'TLE';
    case 'memory-limit':
      return 'MLE';
    case 'output-limit':
      return 'OLE';
    case 'internal-error':
      return 'IE';
  }
}

function statusMessage(run: RunOutcome): string | undefined {
  if (run.status === 'exited') return run.exitCode === 0 ? undefined : `exit code ${run.exitCode}`;
  if (run.status === 'signaled') return `killed by ${run.signal ?? 'a signal'}`;
  return run.message;
}

/** An IE result: the run could not be done (the reason says why; no output). */
export function notRun(base: { runId: string; limits?: RunResult['limits'] }, message: string, now = () => new Date()): RunResult {
  const result: RunResult = {
    ...base,
    status: 'IE',
    stdout: '',
    stdoutBytes: 0,
    stdoutTruncated: false,
    stderr: '',
    exitCode: null,
    time: 0,
    memory: 0,
    timestamp: now().toISOString(),
  };
  result.message = message.slice(0, RUN_LIMITS.messageChars);
  return result;
}
