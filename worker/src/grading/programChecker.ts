/**
 * Checker programs in the testlib convention (Codeforces/Polygon): the problem brings a checker that
 * runs as `checker <input> <output> <answer>` and answers with its exit code. A host (the local
 * sandbox) compiles it once per test-set version and runs it sandboxed; this module is the port and
 * the pure reading of what the checker said.
 *
 * Exit codes: 0 accepted; 1 wrong answer; 2 presentation error, 4 (testlib "dirt") and 8 (unexpected
 * end of the output) count as wrong answer; 7 partial points; 3 and anything else is a checker
 * failure (IE: never the contestant's fault). A checker killed by a signal or a limit is a failure.
 * Points (exit 7): a fraction 0..1 of the case, the first token of stdout, or else of stderr after an
 * optional `points ` prefix (testlib's quitp writes `points 0.5 ...` to stderr). Anything else is IE.
 * The comment shown for the case is the checker's stderr (testlib writes there), else its stdout.
 */
import type { OutputSink, RunOutcome } from '../executors/port';
import type { CheckerProgram } from '../problems/testSet';
import type { CheckResult } from './checkers';

/** A case's output spilled to a file for the checker, then judged. */
export interface CaseCheckFile {
  sink: OutputSink;
  /** Runs the checker on the spilled output; removes the case's files. */
  check(input: string, expected: string): Promise<CheckResult>;
  /** Removes the case's files without checking (the program failed before its output mattered). */
  discard(): void;
}

export interface PreparedChecker {
  openCase(index: number): CaseCheckFile;
  close(): Promise<void>;
}

export type PrepareResult = { ok: true; checker: PreparedChecker } | { ok: false; message: string };

export interface CheckerHost {
  /** Compiles the checker (once per `version`, cached) and readies a place for one submission's cases. */
  prepareChecker(program: CheckerProgram, version: string, jobId: string): Promise<PrepareResult>;
}

export function isCheckerHost(value: unknown): value is CheckerHost {
  return typeof (value as Partial<CheckerHost>)?.prepareChecker === 'function';
}

const COMMENT_CHARS = 500;

/** What a finished checker run means for the case. */
export function readTestlibRun(run: Pick<RunOutcome, 'status' | 'exitCode' | 'signal' | 'stdout' | 'stderr' | 'message'>): CheckResult {
  const comment = (run.stderr.trim() || run.stdout.trim()).slice(0, COMMENT_CHARS);
  const failed = (why: string): CheckResult => ({
    ok: false,
    checkerFailed: true,
    message: `checker failed: ${why}${comment ? `: ${comment}` : ''}`,
  });
  if (run.status !== 'exited') return failed(run.message ?? run.status);
  switch (run.exitCode) {
    case 0:
      return { ok: true, ...(comment ? { message: comment } : {}) };
    case 1:
    case 2:
    case 4:
    case 8:
      return { ok: false, message: comment || 'wrong answer' };
    case 7: {
      const points = pointsOf(run.stdout) ?? pointsOf(run.stderr.replace(/^\s*points\s+/, ''));
      if (points === undefined) return failed('exit 7 without a score fraction 0..1 as the first token of stdout or stderr');
      if (points >= 1) return { ok: true, message: comment };
      return { ok: false, points, message: comment };
    }
    default:
      return failed(`exit code ${run.exitCode}`);
  }
}

function pointsOf(text: string): number | undefined {
  const token = text.trim().split(/\s+/)[0] ?? '';
  if (!/^[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(token)) return undefined;
  const value = Number(token);
  return Number.isFinite(value) && value >= 0 && value <= 1 ? value : undefined;
}
