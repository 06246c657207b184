/**
 * Subtask scoring (IOI/DMOJ batches). A case's fraction is 1 when accepted, its partial points
 * (a checker program's `points`) otherwise, 0 when it failed. A subtask scored `all` earns its
 * points only when every case is accepted; `min` earns points x the lowest fraction. A subtask whose
 * dependency did not earn full points earns nothing. The overall score is earned over all points,
 * x100, rounded down (the contract's integer 0..100).
 */
import type { SubtaskResult, TestResult, Verdict } from '../../../core/src/contracts/result';
import type { Subtask } from '../problems/testSet';

export function caseFraction(result: Pick<TestResult, 'status' | 'points'>): number {
  if (result.status === 'AC') return 1;
  return result.points ?? 0;
}

export function scoreSubtasks(
  subtasks: Subtask[],
  results: Array<Pick<TestResult, 'case' | 'status' | 'points'>>,
): { subtasks: SubtaskResult[]; score: number } {
  const byCase = new Map(results.map((r) => [r.case, r]));
  const earnedByName = new Map<string, number>();
  const scored = subtasks.map((subtask) => {
    const fractions = subtask.cases.map((n) => {
      const result = byCase.get(n);
      return result ? caseFraction(result) : 0;
    });
    const lowest = Math.min(1, ...fractions);
    const dependenciesMet = subtask.dependencies.every((d) => {
      const points = subtasks.find((s) => s.name === d)?.points ?? 0;
      return (earnedByName.get(d) ?? 0) >= points - 1e-9;
    });
    let earned = subtask.scoring === 'min' ? subtask.points * lowest : lowest >= 1 ? subtask.points : 0;
    if (!dependenciesMet) earned = 0;
    earned = Math.round(earned * 1000) / 1000;
    earnedByName.set(subtask.name, earned);
    return { name: subtask.name, points: subtask.points, score: earned };
  });
  const total = subtasks.reduce((sum, s) => sum + s.points, 0);
  const earned = scored.reduce((sum, s) => sum + s.score, 0);
  return { subtasks: scored, score: total > 0 ? Math.min(100, Math.floor((earned / total) * 100 + 1e-9)) : 0 };
}

/**
 * Which cases can no longer change the score: those whose every subtask has failed (a case below 1
 * under `all` scoring, a case at 0 under `min`), directly or through a failed dependency.
 */
export class SubtaskShortCircuit {
  private readonly failure = new Map<string, Verdict>();
  private readonly byCase = new Map<number, Subtask[]>();

  constructor(private readonly subtasks: Subtask[]) {
    for (const s of subtasks) for (const n of s.cases) this.byCase.set(n, [...(this.byCase.get(n) ?? []), s]);
  }

  record(result: Pick<TestResult, 'case' | 'status' | 'points'>): void {
    const fraction = caseFraction(result);
    for (const s of this.byCase.get(result.case) ?? []) {
      const failed = s.scoring === 'min' ? fraction <= 0 : fraction < 1;
      if (failed && !this.failure.has(s.name)) this.failure.set(s.name, result.status);
    }
  }

  /** The verdict that made the case unnecessary, or undefined while it still counts. */
  reasonToSkip(index: number): Verdict | undefined {
    const subtasks = this.byCase.get(index);
    if (!subtasks?.length) return undefined;
    let reason: Verdict | undefined;
    for (const s of subtasks) {
      const why = this.deadBecause(s, new Set());
      if (!why) return undefined;
      reason ??= why;
    }
    return reason;
  }

  private deadBecause(subtask: Subtask, seen: Set<string>): Verdict | undefined {
    if (seen.has(subtask.name)) return undefined;
    seen.add(subtask.name);
    const own = this.failure.get(subtask.name);
    if (own) return own;
    for (const name of subtask.dependencies) {
      const dependency = this.subtasks.find((s) => s.name === name);
      const why = dependency && this.deadBecause(dependency, seen);
      if (why) return why;
    }
    return undefined;
  }
}
