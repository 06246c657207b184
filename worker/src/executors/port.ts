/**
 * The executor port: runs one submission's program against the inputs of its test cases.
 * It reports facts (exit, signal, time, memory, output); the grading engine turns them into
 * verdicts. Two adapters implement it: the local sandbox and Judge0.
 */
import type { Language } from '../../../core/src/languages';

export interface ExecutionLimits {
  /** CPU time limit per test case, ms. */
  timeLimitMs: number;
  /** Wall-clock limit per test case, ms (catches sleeping programs). Adapters default it from timeLimitMs. */
  wallLimitMs?: number;
  /** Memory limit per test case, MB. */
  memoryLimitMb: number;
  /** Largest stdout accepted per test case, bytes; more is OLE. */
  outputLimitBytes: number;
}

/** Receives a case's stdout while the program writes it. */
export interface OutputSink {
  write(chunk: Buffer): void;
  /** The program closed its stdout (optional: interaction ends the other side's input here). */
  end?(): void;
}

export interface ExecutionJob {
  /** Correlates logs; the worker passes the grading request id. */
  id: string;
  language: Language;
  source: string;
  /** Test case inputs; `index` is the case number n of {n}.in (1-based). */
  cases: Array<{ index: number; input: string }>;
  limits: ExecutionLimits;
  /**
   * Optional: where each case's stdout goes as it is written. An executor that streams into it
   * reports only a bounded prefix in `RunOutcome.stdout` (and the total in `stdoutBytes`), so its
   * memory does not grow with the output. Executors that cannot stream ignore it.
   */
  openOutput?: (index: number) => OutputSink;
  /**
   * Optional: asked right before a case starts; true means its result can no longer matter (its
   * subtasks already failed) and the executor may leave it out of `runs`. Executors that submit
   * every case at once ignore it.
   */
  skip?: (index: number) => boolean;
  /**
   * Interactive problems: the program talks to this interactor instead of reading a fixed input.
   * Only executors with `interactive: true` accept it (the local sandbox).
   */
  interactor?: InteractorJob;
}

export interface InteractorJob {
  language: 'cpp' | 'python';
  /** Source and headers. */
  files: Map<string, string>;
  sourceFile: string;
  /** Test-set version: the compiled interactor is cached per version. */
  version: string;
}

/** What the interactor of a case did (its exit code decides the verdict, as a checker's does). */
export interface InteractorOutcome {
  status: RunStatus;
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  message?: string;
}

/** An executor that can run interactive problems. */
export function isInteractiveExecutor(executor: Executor): boolean {
  return (executor as { interactive?: boolean }).interactive === true;
}

/** Why a program stopped, before any output is compared. */
export type RunStatus =
  | 'exited' // ran to completion; exitCode tells success (0) or failure
  | 'signaled' // killed by a signal it raised itself (SIGSEGV, SIGFPE, SIGABRT...)
  | 'time-limit' // CPU or wall limit hit
  | 'memory-limit' // killed by the memory limit (or failed allocation at the limit)
  | 'output-limit' // wrote more than outputLimitBytes
  | 'internal-error'; // the executor failed for this case (not the program's fault)

export interface RunOutcome {
  status: RunStatus;
  exitCode: number | null;
  signal: string | null;
  /**
   * The program's stdout; only a prefix when the executor streamed it to the job's `openOutput`.
   * Consumers of `onCase` may drop it once judged (the engine keeps a bounded prefix), so an
   * executor hands the outcome over and does not read `stdout` back afterwards.
   */
  stdout: string;
  /** Total stdout bytes, when `stdout` holds only a prefix of them. */
  stdoutBytes?: number;
  /** Truncated stderr, for execution.log only. */
  stderr: string;
  /** CPU time, ms. */
  timeMs: number;
  wallMs: number;
  /** Peak memory, MB. */
  memoryMb: number;
  /** Executor's own explanation (e.g. "Judge0 status 13 Internal Error"). */
  message?: string;
  /** Interactive problems: the interactor's run for this case. */
  interactor?: InteractorOutcome;
}

export interface CompileOutcome {
  ok: boolean;
  /** Compiler output (stdout + stderr), truncated. Empty for interpreted languages. */
  output: string;
  timeMs: number;
}

export interface CaseRun {
  index: number;
  outcome: RunOutcome;
}

export interface ExecutionReport {
  compile: CompileOutcome;
  /** One run per case in input order (but cases `skip` declined); empty when compilation failed. */
  runs: CaseRun[];
}

export interface Executor {
  readonly name: string;
  /**
   * Compiles once (when the language needs it) and runs every case. `onCase` fires as each
   * case finishes, in any order, so the worker can stream progress.
   * Throws ExecutorUnavailableError when the executor itself cannot work right now.
   */
  execute(job: ExecutionJob, onCase?: (run: CaseRun) => void): Promise<ExecutionReport>;
  /** Releases processes, timers and sockets. */
  close(): Promise<void>;
}

/** The executor (not the submission) is broken or overloaded: retry later, do not judge. */
export class ExecutorUnavailableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ExecutorUnavailableError';
  }
}
