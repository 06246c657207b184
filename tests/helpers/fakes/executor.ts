/**
 * An executor that computes each case's output with a function instead of running a program
 * (worker/src/executors/port.ts): it reports facts the way the real ones do, one onCase per
 * finished case, and can be told to be unavailable (ExecutorUnavailableError) or to fail.
 */
import type { CaseRun, ExecutionJob, ExecutionReport, Executor } from '../../../worker/src/executors/port';
import { ExecutorUnavailableError } from '../../../worker/src/executors/port';

export class FakeExecutor implements Executor {
  readonly name = 'fake';
  readonly jobs: ExecutionJob[] = [];
  /** The next calls throw these, one per call (e.g. ExecutorUnavailableError, or a bug). */
  readonly failures: unknown[] = [];
  /** Every call is unavailable while set. */
  unavailable?: string;
  /** The wait an unavailable executor asks for (Judge0's maintenance mode does); unset, the worker's own. */
  unavailableRetryMs?: number;

  constructor(private readonly program: (input: string) => string = (input) => input) {}

  async execute(job: ExecutionJob, onCase?: (run: CaseRun) => void): Promise<ExecutionReport> {
    this.jobs.push(job);
    if (this.failures.length) throw this.failures.shift();
    if (this.unavailable) throw new ExecutorUnavailableError(this.unavailable, this.unavailableRetryMs);
    const runs = job.cases.map((c) => {
      const stdout = this.program(c.input);
      const outcome = { status: 'exited' as const, exitCode: 0, signal: null, stdout, stderr: '', timeMs: 1, wallMs: 1, memoryMb: 1 };
      return { index: c.index, outcome };
    });
    for (const run of runs) onCase?.(run);
    return { compile: { ok: true, output: '', timeMs: 0 }, runs };
  }

  async close(): Promise<void> {}
}
