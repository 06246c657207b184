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
import type { GradingRequest } from '../../../core/src/contracts/request';
import type { GradingResult, TestResult, Verdict } from '../../../core/src/contracts/result';
import { CaseRun, Executor, ExecutorUnavailableError, isInteractiveExecutor, OutputSink, RunOutcome } from '../executors/port';
import type { TestSet } from '../problems/testSet';
import { CheckResult, OutputCheck, streamingCheckerFor } from './checkers';
import { logBlock, logLine } from './logText';
import { CheckerHost, isCheckerHost, PreparedChecker } from './programChecker';
import { scoreSubtasks, SubtaskShortCircuit } from './subtasks';
import { caseVerdict, interactiveCaseVerdict, overallVerdict, score } from './verdicts';
import { readTestlibRun } from './programChecker';

export const DEFAULT_OUTPUT_LIMIT_BYTES = 16 * 1024 * 1024;
const COMPILE_OUTPUT_LIMIT = 8 * 1024;
/** No per-language setting may push a case's time limit beyond this, ms. */
const MAX_TIME_LIMIT_MS = 60_000;
/** Characters of a case's stdout kept (for execution.log) once it is judged. */
const STDOUT_KEPT_CHARS = 256;
const STDERR_LOGGED_CHARS = 1000;
/** stderr characters a public case's RE message quotes (the message's limit is 2000). */
const PUBLIC_STDERR_CHARS = 1000;
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
  /** Runs testlib checkers; defaults to the executor when it is one (the local sandbox). */
  checkerHost?: CheckerHost;
}

export interface GradeOutput {
  result: GradingResult;
  /** execution.log: compile output, per-case facts, stderr snippets, checker messages. */
  log: string;
}

/** Where a case's output goes while it runs, and how it is judged once it ended. */
interface CaseOutput {
  write(chunk: Buffer): void;
  finish(): Promise<CheckResult>;
  /** The program failed: the output will not be checked. */
  discard(): void;
}

/** The limits a case runs under: manifest over request, then the manifest's per-language settings. */
export function effectiveLimits(
  request: Pick<GradingRequest, 'language' | 'timeLimit' | 'memoryLimit'>,
  testSet: Pick<TestSet, 'languageLimits' | 'timeLimitMs' | 'memoryLimitMb' | 'outputLimitBytes'>,
) {
  const language = testSet.languageLimits?.[request.language];
  const baseTime = testSet.timeLimitMs ?? request.timeLimit;
  return {
    timeLimitMs: Math.min(MAX_TIME_LIMIT_MS, language?.timeLimit ?? Math.round(baseTime * (language?.timeMultiplier ?? 1))),
    memoryLimitMb: language?.memoryLimit ?? testSet.memoryLimitMb ?? request.memoryLimit,
    outputLimitBytes: testSet.outputLimitBytes ?? DEFAULT_OUTPUT_LIMIT_BYTES,
  };
}

export async function gradeSubmission(input: GradeInput): Promise<GradeOutput> {
  const { request, testSet } = input;
  const limits = effectiveLimits(request, testSet);
  const log: string[] = [
    `request ${request.requestId}: ${request.language}, ${testSet.cases.length} case(s), limits ${limits.timeLimitMs} ms / ${limits.memoryLimitMb} MB, executor ${input.executor.name}`,
  ];
  const startCheck = streamingCheckerFor(testSet.checker);
  const cases = new Map(testSet.cases.map((c) => [c.index, c]));
  const publicDetails = (index: number) => input.audience === 'author' || cases.get(index)?.sample === true;
  const total = testSet.cases.length;
  const outputs = new Map<number, CaseOutput>();
  const judged = new Map<number, { result: TestResult; outcome: RunOutcome; detail?: string }>();

  // Subtasks: a case is not started once every subtask it belongs to has failed (see port `skip`).
  const shortCircuit = testSet.subtasks ? new SubtaskShortCircuit(testSet.subtasks) : undefined;
  const skipped = new Map<number, Verdict>();
  const skip = (index: number): boolean => {
    const why = shortCircuit?.reasonToSkip(index);
    if (why) skipped.set(index, why);
    return why !== undefined;
  };

  let programChecker: PreparedChecker | undefined;
  if (testSet.checkerProgram) {
    const host = input.checkerHost ?? (isCheckerHost(input.executor) ? input.executor : undefined);
    const why = !host
      ? "this problem's testlib checker runs in the worker's local sandbox or on Judge0 (multi-file programs), " +
        `neither of which executor ${input.executor.name} is`
      : await host.prepareChecker(testSet.checkerProgram, testSet.version, request.requestId).then((prepared) => {
          if (prepared.ok) programChecker = prepared.checker;
          return prepared.ok ? undefined : prepared.message;
        });
    if (why) return checkerUnusable(input, log, why);
  }
  const interactor = testSet.interactorProgram;
  if (interactor && !isInteractiveExecutor(input.executor)) {
    const why = "interactive problems run on the worker's local sandbox executor or on a Judge0 with multi-file programs";
    return checkerUnusable(input, log, `${why}; executor ${input.executor.name} cannot run them`);
  }

  const outputOf = (index: number): CaseOutput => {
    let output = outputs.get(index);
    if (output) return output;
    const testCase = cases.get(index);
    if (programChecker) {
      const file = programChecker.openCase(index);
      output = {
        write: (chunk) => file.sink.write(chunk),
        finish: () => file.check(testCase?.input ?? '', testCase?.expected ?? ''),
        discard: file.discard,
      };
    } else {
      const check: OutputCheck = startCheck(testCase?.expected ?? '');
      output = { write: (chunk) => check.write(chunk), finish: async () => check.end(), discard: () => undefined };
    }
    outputs.set(index, output);
    return output;
  };
  const openOutput = (index: number): OutputSink => {
    const output = outputOf(index);
    return { write: (chunk) => output.write(chunk) };
  };

  const judge = async (run: CaseRun): Promise<TestResult> => {
    const output = outputOf(run.index);
    outputs.delete(run.index);
    const streamed = run.outcome.stdoutBytes !== undefined;
    const bytes = streamed ? run.outcome.stdoutBytes! : Buffer.byteLength(run.outcome.stdout);
    let outcome: RunOutcome = run.outcome;
    // Executors that cannot bound output (Judge0) still get OLE past the limit.
    if (outcome.status === 'exited' && bytes > limits.outputLimitBytes) {
      outcome = { ...outcome, status: 'output-limit', message: `output exceeded ${limits.outputLimitBytes} bytes` };
    }
    let checked: CheckResult = { ok: false };
    if (interactor) {
      output.discard();
      const said: CheckResult = outcome.interactor
        ? readTestlibRun(outcome.interactor)
        : { ok: false, checkerFailed: true, message: 'the executor reported no interactor run' };
      if (said.message) said.message = said.message.replace(/^checker failed/, 'interactor failed');
      return finishJudging(run, outcome, bytes, interactiveCaseVerdict(outcome, said));
    }
    if (outcome.status === 'exited' && outcome.exitCode === 0) {
      if (!streamed) feed(output, run.outcome.stdout);
      checked = await output.finish().catch((error: Error) => {
        // The executor that runs the checker (Judge0) is down: retry the submission later, do not judge.
        if (error instanceof ExecutorUnavailableError) throw error;
        return { ok: false, checkerFailed: true, message: `checker could not run: ${error.message}` };
      });
    } else {
      output.discard();
    }
    return finishJudging(
      run,
      outcome,
      bytes,
      caseVerdict(outcome, () => checked),
    );
  };

  const finishJudging = (run: CaseRun, outcome: RunOutcome, bytes: number, verdict: ReturnType<typeof caseVerdict>): TestResult => {
    const result: TestResult = {
      case: run.index,
      status: verdict.status,
      time: Math.round(outcome.timeMs),
      memory: wholeMbUp(outcome.memoryMb),
    };
    if (verdict.points !== undefined) result.points = verdict.points;
    const detail = verdict.message?.slice(0, 500);
    if (detail && publicDetails(run.index)) result.message = withStderr(detail, verdict.status, outcome.stderr);
    // The executor handed the outcome over: keep a prefix for the log, let the rest be collected.
    run.outcome.stdout = run.outcome.stdout.slice(0, STDOUT_KEPT_CHARS);
    judged.set(run.index, { result, outcome: { ...outcome, stdout: run.outcome.stdout, stdoutBytes: bytes }, detail });
    shortCircuit?.record(result);
    return result;
  };

  const pending: Array<Promise<void>> = [];
  let report: Awaited<ReturnType<Executor['execute']>>;
  try {
    report = await input.executor.execute(
      {
        id: request.requestId,
        language: request.language,
        source: input.source,
        cases: testSet.cases.map((c) => ({ index: c.index, input: c.input })),
        limits,
        openOutput,
        ...(shortCircuit ? { skip } : {}),
        ...(interactor ? { interactor: { ...interactor, version: testSet.version } } : {}),
      },
      (run) => pending.push(judge(run).then((result) => input.onCase?.(result, total))),
    );
    await Promise.all(pending);
    for (const run of report.runs) if (!judged.has(run.index)) await judge(run);
  } finally {
    await Promise.allSettled(pending);
    for (const output of outputs.values()) output.discard();
    await programChecker?.close().catch(() => undefined);
  }

  const base = baseResult(input);

  if (!report.compile.ok) {
    const compileOutput = report.compile.output.slice(0, COMPILE_OUTPUT_LIMIT);
    log.push('compile: FAILED', logBlock(compileOutput));
    const testResults: TestResult[] = testSet.cases.map((c) => ({ case: c.index, status: 'CE', time: 0, memory: 0 }));
    return {
      result: { ...base, result: { verdict: 'CE', score: 0, executionTime: 0, memoryUsage: 0, testResults, compileOutput } },
      log: log.join('\n') + '\n',
    };
  }
  log.push(
    `compile: ok (${report.compile.timeMs} ms)${report.compile.output ? `\n${logBlock(report.compile.output.slice(0, COMPILE_OUTPUT_LIMIT))}` : ''}`,
  );

  const missing = 'the executor returned no run for this case';
  const notRun = (index: number): TestResult => {
    const reason = skipped.get(index);
    if (reason) return { case: index, status: reason, time: 0, memory: 0, skipped: true };
    return { case: index, status: 'IE', time: 0, memory: 0, ...(publicDetails(index) ? { message: missing } : {}) };
  };
  const testResults = testSet.cases.map((c) => judged.get(c.index)?.result ?? notRun(c.index));
  for (const r of testResults) {
    const entry = judged.get(r.case);
    const run = entry?.outcome;
    const detail = entry ? entry.detail : r.skipped ? 'skipped: its subtasks had already failed' : missing;
    const facts = `time=${r.time}ms wall=${run?.wallMs ?? 0}ms memory=${r.memory}MB exit=${run?.exitCode ?? '-'}${run?.signal ? ` signal=${run.signal}` : ''}`;
    log.push(`case ${r.case}: ${r.status} ${facts}${detail ? ` (${logLine(detail)})` : ''}`);
    if (run && r.status !== 'AC' && run.stdoutBytes)
      log.push(`  stdout (${run.stdoutBytes} bytes) began: ${logLine(JSON.stringify(run.stdout.slice(0, 120)))}`);
    if (run?.stderr) log.push(`  stderr:\n${logBlock(run.stderr.slice(0, STDERR_LOGGED_CHARS), '    ')}`);
  }
  const weights = new Map(testSet.cases.map((c) => [c.index, c.weight]));
  const verdict = overallVerdict(testResults);
  const subtasks = testSet.subtasks ? scoreSubtasks(testSet.subtasks, testResults) : undefined;
  for (const s of subtasks?.subtasks ?? []) log.push(`subtask ${s.name}: ${s.score} / ${s.points}`);
  log.push(`verdict: ${verdict}`);
  return {
    result: {
      ...base,
      result: {
        verdict,
        score: subtasks ? subtasks.score : score(testResults, weights),
        ...(subtasks ? { subtasks: subtasks.subtasks } : {}),
        executionTime: Math.max(0, ...testResults.map((r) => r.time)),
        memoryUsage: Math.max(0, ...testResults.map((r) => r.memory)),
        testResults,
      },
    },
    log: log.join('\n') + '\n',
  };
}

function baseResult(input: GradeInput) {
  const timestamp = (input.now?.() ?? new Date()).toISOString();
  return {
    requestId: input.request.requestId,
    status: 'completed' as const,
    ...(input.resultFile ? { resultFile: input.resultFile } : {}),
    timestamp,
  };
}

/** The problem's checker cannot judge (it does not compile, or no host runs it): every case is IE, the program does not run. */
function checkerUnusable(input: GradeInput, log: string[], why: string): GradeOutput {
  log.push(`checker: UNUSABLE\n${logBlock(why)}`, 'verdict: IE');
  const message = "the problem's checker cannot run (see execution.log); the problem needs fixing";
  const testResults: TestResult[] = input.testSet.cases.map((c) => ({ case: c.index, status: 'IE', time: 0, memory: 0, message }));
  return {
    result: { ...baseResult(input), result: { verdict: 'IE', score: 0, executionTime: 0, memoryUsage: 0, testResults } },
    log: log.join('\n') + '\n',
  };
}

/**
 * A runtime error's message on a public (sample) case carries the program's own stderr excerpt, so
 * its author sees why it crashed. Never on hidden cases: a program can print its hidden input to stderr.
 */
function withStderr(message: string, status: Verdict, stderr: string): string {
  const excerpt = status === 'RE' ? stderr.trim().slice(0, PUBLIC_STDERR_CHARS) : '';
  return excerpt ? `${message}\nstderr: ${excerpt}` : message;
}

/** The contract's memory unit: whole MB, rounded up (a run that used any memory never reads 0). */
function wholeMbUp(mb: number): number {
  return Math.max(0, Math.ceil(mb - 1e-9));
}

/** Feeds a whole stdout string to a check in bounded pieces (never one more full-size copy). */
function feed(check: Pick<OutputCheck, 'write'>, stdout: string): void {
  for (let i = 0; i < stdout.length;) {
    let end = Math.min(stdout.length, i + FEED_CHARS);
    // Do not split a surrogate pair between two pieces.
    if (end < stdout.length && /[\uD800-\uDBFF]/.test(stdout[end - 1])) end++;
    check.write(Buffer.from(stdout.slice(i, end), 'utf8'));
    i = end;
  }
}
