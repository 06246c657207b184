/**
 * Grades one submission: runs it once through the executor (compile once, every case), judges
 * each case as it finishes (progress), and builds the result document and execution.log.
 * Deterministic given the executor's facts; ExecutorUnavailableError propagates (retry, not a verdict).
 */
import type { GradingRequest } from '../contracts/request';
import type { GradingResult, TestResult } from '../contracts/result';
import type { CaseRun, Executor } from '../executors/port';
import type { TestSet } from '../problems/testSet';
import { checkerFor } from './checkers';
import { caseVerdict, overallVerdict, score } from './verdicts';

export const DEFAULT_OUTPUT_LIMIT_BYTES = 16 * 1024 * 1024;
const COMPILE_OUTPUT_LIMIT = 8 * 1024;

export interface GradeInput {
  request: Pick<GradingRequest, 'requestId' | 'language' | 'timeLimit' | 'memoryLimit'>;
  source: string;
  testSet: TestSet;
  executor: Executor;
  /** Where result.json will live (s3:// or file://); omitted by callers that store nothing. */
  resultFile?: string;
  onCase?: (result: TestResult, total: number) => void;
  now?: () => Date;
}

export interface GradeOutput {
  result: GradingResult;
  /** execution.log: compile output, per-case facts, stderr snippets, checker messages. */
  log: string;
}

export async function gradeSubmission(input: GradeInput): Promise<GradeOutput> {
  const { request, testSet } = input;
  const limits = {
    // A problem's manifest may set its own limits; otherwise the request's.
    timeLimitMs: testSet.timeLimitMs ?? request.timeLimit,
    memoryLimitMb: testSet.memoryLimitMb ?? request.memoryLimit,
    outputLimitBytes: testSet.outputLimitBytes ?? DEFAULT_OUTPUT_LIMIT_BYTES,
  };
  const checker = checkerFor(testSet.checker);
  const expected = new Map(testSet.cases.map((c) => [c.index, c.expected]));
  const total = testSet.cases.length;
  const judged = new Map<number, { result: TestResult; run: CaseRun }>();

  const judge = (run: CaseRun): TestResult => {
    const verdict = caseVerdict(run.outcome, () => checker(expected.get(run.index) ?? '', run.outcome.stdout));
    const result: TestResult = { case: run.index, status: verdict.status, time: Math.round(run.outcome.timeMs), memory: wholeMbUp(run.outcome.memoryMb) };
    if (verdict.message) result.message = verdict.message.slice(0, 500);
    judged.set(run.index, { result, run });
    return result;
  };

  const report = await input.executor.execute(
    { id: request.requestId, language: request.language, source: input.source, cases: testSet.cases.map((c) => ({ index: c.index, input: c.input })), limits },
    (run) => input.onCase?.(judge(run), total),
  );

  const log: string[] = [`request ${request.requestId}: ${request.language}, ${total} case(s), limits ${limits.timeLimitMs} ms / ${limits.memoryLimitMb} MB, executor ${input.executor.name}`];
  const timestamp = (input.now?.() ?? new Date()).toISOString();
  const base = { requestId: request.requestId, status: 'completed' as const, ...(input.resultFile ? { resultFile: input.resultFile } : {}), timestamp };

  if (!report.compile.ok) {
    const compileOutput = report.compile.output.slice(0, COMPILE_OUTPUT_LIMIT);
    log.push('compile: FAILED', compileOutput);
    const testResults: TestResult[] = testSet.cases.map((c) => ({ case: c.index, status: 'CE', time: 0, memory: 0 }));
    return { result: { ...base, result: { verdict: 'CE', score: 0, executionTime: 0, memoryUsage: 0, testResults, compileOutput } }, log: log.join('\n') + '\n' };
  }
  log.push(`compile: ok (${report.compile.timeMs} ms)${report.compile.output ? `\n${report.compile.output.slice(0, COMPILE_OUTPUT_LIMIT)}` : ''}`);

  for (const run of report.runs) if (!judged.has(run.index)) judge(run);
  const testResults = testSet.cases.map(
    (c) => judged.get(c.index)?.result ?? ({ case: c.index, status: 'IE', time: 0, memory: 0, message: 'the executor returned no run for this case' } as TestResult),
  );
  for (const r of testResults) {
    const run = judged.get(r.case)?.run.outcome;
    log.push(`case ${r.case}: ${r.status} time=${r.time}ms wall=${run?.wallMs ?? 0}ms memory=${r.memory}MB exit=${run?.exitCode ?? '-'}${run?.signal ? ` signal=${run.signal}` : ''}${r.message ? ` (${r.message})` : ''}`);
    if (run?.stderr) log.push(`  stderr: ${run.stderr.slice(0, 1000).replace(/\n/g, '\n  ')}`);
  }
  const weights = new Map(testSet.cases.map((c) => [c.index, c.weight]));
  const verdict = overallVerdict(testResults);
  log.push(`verdict: ${verdict}`);
  return {
    result: {
      ...base,
      result: {
        verdict,
        score: score(testResults, weights),
        executionTime: Math.max(0, ...testResults.map((r) => r.time)),
        memoryUsage: Math.max(0, ...testResults.map((r) => r.memory)),
        testResults,
      },
    },
    log: log.join('\n') + '\n',
  };
}

/** The contract's memory unit: whole MB, rounded up (a run that used any memory never reads 0). */
function wholeMbUp(mb: number): number {
  return Math.max(0, Math.ceil(mb - 1e-9));
}
