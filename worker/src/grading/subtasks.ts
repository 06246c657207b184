/**
 * Subtask scoring (IOI/DMOJ batches). A case's fraction is 1 when accepted, its partial points
 * (a checker program's `points`) otherwise, 0 when it failed. A subtask scored `all` earns its
 * points only when every case is accepted; `min` earns points x the lowest fraction. A subtask whose
 * dependency did not earn full points earns nothing. The overall score is earned over all points,
 * x100, rounded down (the contract's integer 0..100).
 */
import type { SubtaskResult, TestResult } from '../contracts/result';
import type { Subtask } from '../problems/testSet';

export function caseFraction(result: Pick<TestResult, 'status' | 'points'>): number {
  if (result.status === 'AC') return 1;
  return result.points ?? 0;
}

export function scoreSubtasks(subtasks: Subtask[], results: Array<Pick<TestResult, 'case' | 'status' | 'points'>>): { subtasks: SubtaskResult[]; score: number } {
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
