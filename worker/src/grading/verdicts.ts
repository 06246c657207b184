/**
 * From run facts to verdicts: one per case, then the overall verdict and score.
 *
 * Overall verdict: AC when every case is AC; otherwise the most severe failing verdict by DMOJ's
 * precedence IE > TLE > MLE > OLE > RE > WA (a judge fault first, then the verdicts that hide what
 * a full run would have shown). CE applies to every case and wins outright.
 * Score: the weights of accepted cases (plus partial points) over the total weight, x100, rounded down to an integer
 * (the contract's type; rounding down keeps 100 for "every case passed").
 */
import type { RunOutcome } from '../executors/port';
import type { TestResult, Verdict } from '../../../core/src/contracts/result';
import type { CheckResult } from './checkers';

export const PRECEDENCE: Verdict[] = ['IE', 'TLE', 'MLE', 'OLE', 'RE', 'WA'];

export function caseVerdict(outcome: RunOutcome, check: () => CheckResult): { status: Verdict; message?: string; points?: number } {
  switch (outcome.status) {
    case 'time-limit':
      return { status: 'TLE', message: outcome.message };
    case 'memory-limit':
      return { status: 'MLE', message: outcome.message };
    case 'output-limit':
      return { status: 'OLE', message: outcome.message };
    case 'internal-error':
      return { status: 'IE', message: outcome.message ?? 'executor error' };
    case 'signaled':
      return { status: 'RE', message: `killed by ${outcome.signal ?? 'a signal'}` };
    case 'exited': {
      if (outcome.exitCode !== 0) return { status: 'RE', message: `exit code ${outcome.exitCode}` };
      const result = check();
      if (result.checkerFailed) return { status: 'IE', message: result.message };
      if (result.ok) return { status: 'AC', ...(result.message ? { message: result.message } : {}) };
      return { status: 'WA', message: result.message, ...(result.points !== undefined ? { points: result.points } : {}) };
    }
  }
}

/**
 * An interactive case: a failed interactor (crashed, over its limits, exit 3) is IE; then a limit the
 * program hit (a deadlock ends as TLE by wall clock); then the interactor's word (its "wrong" wins over
 * the program's crash, often just the pipe the interactor closed); then the program's own exit (RE).
 */
export function interactiveCaseVerdict(outcome: RunOutcome, said: CheckResult): { status: Verdict; message?: string; points?: number } {
  if (said.checkerFailed) return { status: 'IE', message: said.message };
  if (outcome.status !== 'exited' && outcome.status !== 'signaled') return caseVerdict(outcome, () => said);
  if (said.checkerFailed || !said.ok) return caseVerdict({ ...outcome, status: 'exited', exitCode: 0 }, () => said);
  return caseVerdict(outcome, () => said);
}

export function overallVerdict(cases: Array<Pick<TestResult, 'status'>>, compileFailed = false): Verdict {
  if (compileFailed) return 'CE';
  if (cases.length === 0) return 'IE';
  if (cases.every((c) => c.status === 'AC')) return 'AC';
  for (const verdict of PRECEDENCE) if (cases.some((c) => c.status === verdict)) return verdict;
  return 'WA';
}

export function score(cases: Array<Pick<TestResult, 'case' | 'status' | 'points'>>, weights: Map<number, number>): number {
  const total = cases.reduce((sum, c) => sum + (weights.get(c.case) ?? 1), 0);
  if (total === 0) return 0;
  // An accepted case earns its weight; a case with partial points (checker programs) that fraction of it.
  const earned = cases.reduce((sum, c) => sum + (c.status === 'AC' ? 1 : (c.points ?? 0)) * (weights.get(c.case) ?? 1), 0);
  // The epsilon absorbs binary fractions (0.29 * 100 = 28.999...) before rounding down.
  return Math.floor((earned / total) * 100 + 1e-9);
}
