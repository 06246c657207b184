/**
 * `grading-stack problem verify DIR`: grades every reference solution (`<problem>/solutions/<verdict>.<ext>`)
 * with the local sandbox and compares the verdict with the one its name promises.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Executor } from '../../executors/port';
import { gradeSubmission } from '../../grading/engine';
import type { CheckerHost } from '../../grading/programChecker';
import { referenceSolutions } from './folders';
import { validateProblems } from './validate';

export const DEFAULT_TIME_LIMIT_MS = 2000;
export const DEFAULT_MEMORY_LIMIT_MB = 256;

export interface VerifyLine {
  problem: string;
  solution: string;
  expected: string;
  got: string;
  ok: boolean;
}

export async function verifyProblems(dir: string, executor: Executor & CheckerHost): Promise<{ lines: VerifyLine[]; invalid: string[] }> {
  const lines: VerifyLine[] = [];
  const invalid: string[] = [];
  for (const report of await validateProblems(dir, executor)) {
    if (!report.testSet) {
      invalid.push(`${report.problem}: INVALID\n${report.errors.map((e) => `  - ${e}`).join('\n')}`);
      continue;
    }
    const { solutions } = await referenceSolutions(report.dir);
    if (!solutions.length) invalid.push(`${report.problem}: no reference solutions in solutions/ (e.g. solutions/ac.cpp)`);
    for (const solution of solutions) {
      const { result } = await gradeSubmission({
        request: {
          requestId: `verify_${Date.now()}`,
          language: solution.language,
          timeLimit: DEFAULT_TIME_LIMIT_MS,
          memoryLimit: DEFAULT_MEMORY_LIMIT_MB,
        },
        source: await fsp.readFile(solution.file, 'utf8'),
        testSet: report.testSet,
        executor,
        audience: 'author',
      });
      const got = result.result?.verdict ?? 'none';
      const solutionName = path.relative(report.dir, solution.file);
      lines.push({ problem: report.problem, solution: solutionName, expected: solution.expected, got, ok: got === solution.expected });
    }
  }
  return { lines, invalid };
}

export function formatVerify({ lines, invalid }: { lines: VerifyLine[]; invalid: string[] }): string {
  const out = lines.map((l) => `${l.problem}/${l.solution}: ${l.got}${l.ok ? '' : ` (expected ${l.expected}) MISMATCH`}`);
  return [...invalid, ...out].join('\n') + '\n';
}
