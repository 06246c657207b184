/**
 * Grades one submission: runs it once through the executor (compile once, every case), judges
 * each case as it finishes (progress), and builds the result document and execution.log.
 * Deterministic given the executor's facts; ExecutorUnavailableError propagates (retry, not a verdict).
 *
 * Hidden test data stays in the worker: the result (result.json, MySQL, progress) says verdict,
 * time and memory per case; what the checker found (quoting expected and actual output), exit codes
 * and signals go to execution.log only, except for the cases the manifest marks as public samples.
 * Output never accumulates: each case's stdout is compared while it streams in (or, from an executor
 * that cannot stream, right when its case finishes) and only a short prefix is kept for the log.
 */
import type { GradingRequest } from '../contracts/request';
import type { GradingResult, TestResult } from '../contracts/result';
import type { CaseRun, Executor, OutputSink, RunOutcome } from '../executors/port';
import type { TestSet } from '../problems/testSet';
import { OutputCheck, streamingCheckerFor } from './checkers';
import { logBlock, logLine } from './logText';
import { caseVerdict, overallVerdict, score } from './verdicts';

export const DEFAULT_OUTPUT_LIMIT_BYTES = 16 * 1024 * 1024;
const COMPILE_OUTPUT_LIMIT = 8 * 1024;
/** Characters of a case's stdout kept (for execution.log) once it is judged. */
const STDOUT_KEPT_CHARS = 256;
const STDERR_LOGGED_CHARS = 1000;
/** Pieces in which an executor's whole stdout string is fed to the checker. */
const FEED_CHARS = 64 * 1024;

/**
 * Who reads the result: `public` (the worker: web page, API, database) gets per-case messages for
 * sample cases only; `author` (the problem author's CLI, who owns the tests) gets every message.
 */
export type Audience = 'public' | 'author';

export interface GradeInput {
  request: Pick<GradingRequest, 'requestId' | 'language' | 'timeLimit' | 'memoryLimit'>;
  source: string;
  testSet: TestSet;
  executor: Executor;
  /** Where result.json will live (s3:// or file://); omitted by callers that store nothing. */
  resultFile?: string;
  onCase?: (result: TestResult, total: number) => void;
  now?: () => Date;
  /** Default `public`. */
  audience?: Audience;
}

export interface GradeOutput {
  result: GradingResult;
  /** execution.log: compile output, per-case facts, stderr snippets, checker messages. */
  log: string;
}

interface CaseOutput {
  check: OutputCheck;
  bytes: number;
}

export async function gradeSubmission(input: GradeInput): Promise<GradeOutput> {
  const { request, testSet } = input;
  const limits = {
    // A problem's manifest may set its own limits; otherwise the request's.
    timeLimitMs: testSet.timeLimitMs ?? request.timeLimit,
    memoryLimitMb: testSet.memoryLimitMb ?? request.memoryLimit,
    outputLimitBytes: testSet.outputLimitBytes ?? DEFAULT_OUTPUT_LIMIT_BYTES,
  };
  const startCheck = streamingCheckerFor(testSet.checker);
  const cases = new Map(testSet.cases.map((c) => [c.index, c]));
  const publicDetails = (index: number) => input.audience === 'author' || cases.get(index)?.sample === true;
  const total = testSet.cases.length;
  const outputs = new Map<number, CaseOutput>();
  const judged = new Map<number, { result: TestResult; outcome: RunOutcome; detail?: string }>();

  const outputOf = (index: number): CaseOutput => {
    let output = outputs.get(index);
    if (!output) {
      output = { check: startCheck(cases.get(index)?.expected ?? ''), bytes: 0 };
      outputs.set(index, output);
    }
    return output;
  };
  const openOutput = (index: number): OutputSink => {
    const output = outputOf(index);
    return {
      write(chunk) {
        output.bytes += chunk.length;
        output.check.write(chunk);
      },
    };
  };

  const judge = (run: CaseRun): TestResult => {
    const output = outputOf(run.index);
    outputs.delete(run.index);
    const streamed = run.outcome.stdoutBytes !== undefined;
    const bytes = streamed ? run.outcome.stdoutBytes! : Buffer.byteLength(run.outcome.stdout);
    let outcome: RunOutcome = run.outcome;
    // Executors that cannot bound output (Judge0) still get OLE past the limit.
    if (outcome.status === 'exited' && bytes > limits.outputLimitBytes) {
      outcome = { ...outcome, status: 'output-limit', message: `output exceeded ${limits.outputLimitBytes} bytes` };
    }
    const verdict = caseVerdict(outcome, () => {
      if (!streamed) feed(output.check, run.outcome.stdout);
      return output.check.end();
    });
    const result: TestResult = { case: run.index, status: verdict.status, time: Math.round(outcome.timeMs), memory: wholeMbUp(outcome.memoryMb) };
    const detail = verdict.message?.slice(0, 500);
    if (detail && publicDetails(run.index)) result.message = detail;
    // The executor handed the outcome over: keep a prefix for the log, let the rest be collected.
    run.outcome.stdout = run.outcome.stdout.slice(0, STDOUT_KEPT_CHARS);
    judged.set(run.index, { result, outcome: { ...outcome, stdout: run.outcome.stdout, stdoutBytes: bytes }, detail });
    return result;
  };

  const report = await input.executor.execute(
    {
      id: request.requestId,
      language: request.language,
      source: input.source,
      cases: testSet.cases.map((c) => ({ index: c.index, input: c.input })),
      limits,
      openOutput,
    },
    (run) => input.onCase?.(judge(run), total),
  );

  const log: string[] = [`request ${request.requestId}: ${request.language}, ${total} case(s), limits ${limits.timeLimitMs} ms / ${limits.memoryLimitMb} MB, executor ${input.executor.name}`];
  const timestamp = (input.now?.() ?? new Date()).toISOString();
  const base = { requestId: request.requestId, status: 'completed' as const, ...(input.resultFile ? { resultFile: input.resultFile } : {}), timestamp };

  if (!report.compile.ok) {
    const compileOutput = report.compile.output.slice(0, COMPILE_OUTPUT_LIMIT);
    log.push('compile: FAILED', logBlock(compileOutput));
    const testResults: TestResult[] = testSet.cases.map((c) => ({ case: c.index, status: 'CE', time: 0, memory: 0 }));
    return { result: { ...base, result: { verdict: 'CE', score: 0, executionTime: 0, memoryUsage: 0, testResults, compileOutput } }, log: log.join('\n') + '\n' };
  }
  log.push(`compile: ok (${report.compile.timeMs} ms)${report.compile.output ? `\n${logBlock(report.compile.output.slice(0, COMPILE_OUTPUT_LIMIT))}` : ''}`);

  for (const run of report.runs) if (!judged.has(run.index)) judge(run);
  const missing = 'the executor returned no run for this case';
  const testResults = testSet.cases.map(
    (c) => judged.get(c.index)?.result ?? ({ case: c.index, status: 'IE', time: 0, memory: 0, ...(publicDetails(c.index) ? { message: missing } : {}) } as TestResult),
  );
  for (const r of testResults) {
    const entry = judged.get(r.case);
    const run = entry?.outcome;
    const detail = entry ? entry.detail : missing;
    const facts = `time=${r.time}ms wall=${run?.wallMs ?? 0}ms memory=${r.memory}MB exit=${run?.exitCode ?? '-'}${run?.signal ? ` signal=${run.signal}` : ''}`;
    log.push(`case ${r.case}: ${r.status} ${facts}${detail ? ` (${logLine(detail)})` : ''}`);
    if (run && r.status !== 'AC' && run.stdoutBytes) log.push(`  stdout (${run.stdoutBytes} bytes) began: ${logLine(JSON.stringify(run.stdout.slice(0, 120)))}`);
    if (run?.stderr) log.push(`  stderr:\n${logBlock(run.stderr.slice(0, STDERR_LOGGED_CHARS), '    ')}`);
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

/** Feeds a whole stdout string to a check in bounded pieces (never one more full-size copy). */
function feed(check: OutputCheck, stdout: string): void {
  for (let i = 0; i < stdout.length; ) {
    let end = Math.min(stdout.length, i + FEED_CHARS);
    // Do not split a surrogate pair between two pieces.
    if (end < stdout.length && /[\uD800-\uDBFF]/.test(stdout[end - 1])) end++;
    check.write(Buffer.from(stdout.slice(i, end), 'utf8'));
    i = end;
  }
}
