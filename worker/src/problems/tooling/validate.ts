/**
 * `grading-stack problem validate DIR`: every problem under DIR checked at once, before it goes live:
 * case pairs and numbering, the manifest against its schema, subtasks covering every case, the
 * checker compiling (in the sandbox, when a checker host is given), reference solution names.
 */
import * as path from 'node:path';
import type { CheckerHost } from '../../grading/programChecker';
import { readTestSetFiles } from '../localFolder';
import { buildTestSet, TestSet, TestSetError } from '../testSet';
import { problemFolders, referenceSolutions } from './folders';

export interface ProblemReport {
  problem: string;
  dir: string;
  errors: string[];
  testSet?: TestSet;
}

export async function validateProblem(dir: string, host?: CheckerHost): Promise<ProblemReport> {
  const report: ProblemReport = { problem: path.basename(path.resolve(dir)), dir, errors: [] };
  try {
    report.testSet = buildTestSet(await readTestSetFiles(dir));
  } catch (error) {
    report.errors.push(...(error instanceof TestSetError ? error.problems : [(error as Error).message]));
  }
  const program = report.testSet?.checkerProgram;
  if (program && host) {
    const prepared = await host.prepareChecker(program, report.testSet!.version, `validate-${report.problem}`);
    if (prepared.ok) await prepared.checker.close();
    else report.errors.push(prepared.message);
  } else if (program) {
    report.errors.push(`checker ${program.sourceFile} not compiled: validation ran without the sandbox`);
  }
  report.errors.push(...(await referenceSolutions(dir)).unnamed);
  if (report.errors.length) delete report.testSet;
  return report;
}

export async function validateProblems(dir: string, host?: CheckerHost): Promise<ProblemReport[]> {
  const reports: ProblemReport[] = [];
  for (const problem of await problemFolders(dir)) reports.push(await validateProblem(problem, host));
  return reports;
}

export function formatReports(reports: ProblemReport[]): string {
  const line = (r: ProblemReport) =>
    r.errors.length ? `${r.problem}: INVALID\n${r.errors.map((e) => `  - ${e}`).join('\n')}` : `${r.problem}: ok`;
  return reports.map(line).join('\n') + '\n';
}
