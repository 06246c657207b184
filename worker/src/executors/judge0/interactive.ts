/**
 * Interactive problems on Judge0: one multi-file submission per case. Its zip holds the contestant's
 * source with a compile script (the language's compile_cmd from GET /languages/:id and our flags),
 * the interactor built once per test-set version (programs.ts) and the case's input.txt; its run
 * script connects program and interactor through two FIFOs inside the one isolate box:
 *
 *   interactor /dev/fd/3 output.txt  > to_program  < to_interactor   (fd 3: the case input)
 *   program                          < to_program  > to_interactor
 *
 * (opened in that order, so neither open blocks forever). The program runs in a subshell under
 * `ulimit -t` and the subshell's `times` gives the program's own CPU time (its children only, not the
 * interactor's); the run script then prints a short report on stdout. What isolate measures is the
 * whole box: the box's CPU limit is the program's plus the interactor's allowance, its wall limit
 * ends a deadlock (Judge0 "Time Limit Exceeded": TLE), and memory (limit and the reported peak) is
 * the box's, program and interactor together (the interactor gets INTERACTOR_MEMORY_MB more).
 * The interactor ignores SIGPIPE, so a program that quits early is judged by what the interactor
 * read, not reported as an interactor crash.
 *
 * Both run as the box's one uid. The case input is therefore opened for the interactor (fd 3, passed
 * as /dev/fd/3) and deleted before the program starts, so the program cannot simply open it; a
 * program that searches /proc for the interactor's open files or signals it is not stopped (a killed
 * interactor is IE, never AC). Problems where that matters need the sandbox executor (own uids).
 */
import type { Language } from '../../../../core/src/languages';
import type { CaseRun, CompileOutcome, ExecutionJob, InteractorOutcome, RunOutcome } from '../port';
import { ExecutorUnavailableError } from '../port';
import type { Judge0LanguageRow } from './catalog';
import type { BuiltProgram, ProgramBuilder } from './programs';
import type { ProjectResult, ProjectRunner } from './projects';
import { JUDGE0_STATUS, SIGNAL_NAMES } from './statuses';
import { ClampedLimits, clampLimits, COMPILER_OPTIONS, ConfigInfo, JAVAC_OPTIONS, runScript } from './submissions';

/** What the interactor may use on top of the program's limits (CPU ms, memory MB). */
export const INTERACTOR_CPU_MS = 5_000;
export const INTERACTOR_MEMORY_MB = 64;
/** Cases of one job in Judge0 at once (after the first, which shows whether the program compiles). */
const PARALLEL_CASES = 4;
/** The interactor's own CPU limit (`ulimit -t`), below its allowance so it ends before the box does. */
const INTERACTOR_CPU_SECONDS = 3;

export interface InteractiveDeps {
  builder: ProgramBuilder;
  runner: ProjectRunner;
  /** GET /languages/:id of the Judge0 language serving ours. */
  languageRow: (language: Language) => Promise<Judge0LanguageRow | undefined>;
  /** Limits of the box for a case whose program has `job.limits` (interactor allowance included, clamped). */
  boxLimits: (job: ExecutionJob) => ClampedLimits;
}

/** The box of one case: the program's limits plus the interactor's allowance, clamped to the server's maxima. */
export function interactionBoxLimits(job: ExecutionJob, config: ConfigInfo): ClampedLimits {
  const { timeLimitMs, memoryLimitMb } = job.limits;
  const wallMs = job.limits.wallLimitMs ?? timeLimitMs * 2 + 1000;
  const withInteractor = {
    ...job.limits,
    timeLimitMs: timeLimitMs + INTERACTOR_CPU_MS,
    wallLimitMs: wallMs + INTERACTOR_CPU_MS,
    memoryLimitMb: memoryLimitMb + INTERACTOR_MEMORY_MB,
  };
  return clampLimits(withInteractor, job.language, config);
}

export async function executeInteractive(deps: InteractiveDeps, job: ExecutionJob, onCase?: (run: CaseRun) => void) {
  const spec = job.interactor!;
  const program = { language: spec.language, files: spec.files, sourceFile: spec.sourceFile };
  const failAll = (message: string) => {
    const runs = job.cases.map((c) => ({ index: c.index, outcome: interactorFailed(message) }));
    runs.forEach((r) => onCase?.(r));
    return { compile: { ok: true, output: '', timeMs: 0 } as CompileOutcome, runs };
  };
  const built = await deps.builder.build(program, spec.version, 'interactor');
  if (!built.ok) return failAll(built.message);
  const row = await deps.languageRow(job.language);
  if (!row?.run_cmd || !row.source_file) return failAll(`this Judge0 gives no run command for ${job.language} (GET /languages/:id)`);

  const limits = deps.boxLimits(job);
  const files = caseFiles(job, row, built);
  const runs: CaseRun[] = [];
  let compileOutput = '';
  let compileError: string | undefined;
  const runCase = async (testCase: { index: number; input: string }) => {
    if (compileError !== undefined || job.skip?.(testCase.index)) return;
    let outcome: RunOutcome;
    try {
      const result = await deps.runner.run({ files: { ...files, 'input.txt': testCase.input }, limits });
      if (result.submission.status.id === JUDGE0_STATUS.COMPILATION_ERROR) {
        compileError ??= result.compileOutput;
        return;
      }
      compileOutput ||= result.compileOutput;
      outcome = readInteractiveRun(result, job.limits.timeLimitMs, limits);
    } catch (error) {
      if (error instanceof ExecutorUnavailableError) throw error;
      outcome = interactorFailed(`Judge0 could not run the interaction: ${(error as Error).message}`);
    }
    const run = { index: testCase.index, outcome };
    runs.push(run);
    onCase?.(run);
  };
  // The first case alone (a compile error then stops the job), the rest a few at a time.
  const [first, ...rest] = job.cases;
  if (first) await runCase(first);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(PARALLEL_CASES, rest.length) }, async () => {
      while (next < rest.length) await runCase(rest[next++]);
    }),
  );
  if (compileError !== undefined) return { compile: { ok: false, output: compileError, timeMs: 0 }, runs: [] };
  runs.sort((a, b) => a.index - b.index);
  return { compile: { ok: true, output: compileOutput, timeMs: 0 }, runs };
}

function caseFiles(job: ExecutionJob, row: Judge0LanguageRow, built: Extract<BuiltProgram, { ok: true }>): Record<string, string | Buffer> {
  const options = job.language === 'java' ? JAVAC_OPTIONS : (COMPILER_OPTIONS[job.language] ?? '');
  const runCommand =
    job.language === 'java' || job.language === 'javascript'
      ? runScript(job.language, row.run_cmd!, job.limits.memoryLimitMb).trim()
      : row.run_cmd!;
  const cpuSeconds = Math.ceil(job.limits.timeLimitMs / 1000) + 1;
  const files: Record<string, string | Buffer> = {
    [row.source_file!]: job.source,
    [built.artifact.name]: built.artifact.data,
    run: interactionScript(runCommand, built.command, cpuSeconds),
  };
  if (row.compile_cmd) files.compile = `${row.compile_cmd.replace('%s', options)}\n`;
  return files;
}

/** The run script (bash): FIFOs, the program in a timed subshell, the interactor, then the report. */
export function interactionScript(programCommand: string, interactorCommand: string, programCpuSeconds: number): string {
  return [
    'chmod +x interactor 2>/dev/null',
    // The input leaves the box's directory before the program starts: only the interactor holds it (fd 3).
    'exec 3< input.txt && rm -f input.txt || exit 97',
    'mkfifo to_program to_interactor || exit 97',
    '(',
    `  ulimit -t ${programCpuSeconds}`,
    `  ${programCommand} < to_program > to_interactor 3<&-`,
    '  echo $? > program.exit',
    '  times > program.times',
    ') &',
    "trap '' PIPE",
    '(',
    `  ulimit -t ${INTERACTOR_CPU_SECONDS}`,
    `  ${interactorCommand} /dev/fd/3 output.txt`,
    ') > to_program < to_interactor 2> interactor.err',
    'echo $? > interactor.exit',
    'wait',
    'echo "program-exit $(cat program.exit)"',
    'echo "program-times $(tail -n 1 program.times)"',
    'echo "interactor-exit $(cat interactor.exit)"',
    'echo "interactor-stderr"',
    'head -c 2000 interactor.err',
    '',
  ].join('\n');
}

/** bash `times`: "0m0.120s 0m0.010s" (user, sys) -> ms. */
function timesMs(line: string): number | undefined {
  const parts = [...line.matchAll(/(\d+)m([\d.]+)s/g)];
  if (parts.length !== 2) return undefined;
  return Math.round(parts.reduce((sum, m) => sum + Number(m[1]) * 60_000 + Number(m[2]) * 1000, 0));
}

export function readInteractiveRun(
  result: Pick<ProjectResult, 'submission' | 'stdout' | 'stderr' | 'message'>,
  timeLimitMs: number,
  box: ClampedLimits,
): RunOutcome {
  const s = result.submission;
  const wallMs = Math.round(Number(s.wall_time ?? s.time ?? 0) * 1000);
  const memoryMb = Math.round(((s.memory ?? 0) / 1024) * 10) / 10;
  const base = { stdout: '', stderr: result.stderr, wallMs, memoryMb, signal: null, exitCode: null };
  const judge0 = `Judge0 status ${s.status.id} ${s.status.description}${result.message ? `: ${result.message.trim()}` : ''}`;
  if (s.status.id === JUDGE0_STATUS.TIME_LIMIT) {
    // The box hit its limit: a deadlock or a program that never stops; the interactor did not fail.
    const interactor: InteractorOutcome = {
      status: 'exited',
      exitCode: 0,
      signal: null,
      stdout: '',
      stderr: '',
      message: 'stopped with the box',
    };
    return {
      ...base,
      status: 'time-limit',
      timeMs: Math.round(Number(s.time ?? 0) * 1000),
      message: `the interaction hit the box's time limit (${judge0})`,
      interactor,
    };
  }
  const report = parseReport(result.stdout.toString('utf8'));
  if (s.status.id !== JUDGE0_STATUS.ACCEPTED || !report) {
    return { ...base, status: 'internal-error', timeMs: 0, message: `the interaction did not run to its report (${judge0})` };
  }
  const interactor = exitFacts(report.interactorExit);
  const interactorOutcome: InteractorOutcome = { ...interactor, stdout: '', stderr: report.interactorStderr };
  const program = exitFacts(report.programExit);
  const timeMs = report.programMs;
  const outcome: RunOutcome = {
    ...base,
    status: program.status,
    exitCode: program.exitCode,
    signal: program.signal,
    timeMs,
    interactor: interactorOutcome,
  };
  if (timeMs > timeLimitMs || program.signal === 'SIGXCPU')
    return { ...outcome, status: 'time-limit', message: `CPU time ${timeMs} ms over ${timeLimitMs} ms` };
  if (program.signal === 'SIGKILL' && (s.memory ?? 0) >= box.memory_limit * 0.9) {
    return {
      ...outcome,
      status: 'memory-limit',
      message: `the box's memory limit (${Math.round(box.memory_limit / 1024)} MB, interactor included) was reached`,
    };
  }
  return outcome;
}

function exitFacts(code: number): Pick<RunOutcome, 'status' | 'exitCode' | 'signal'> {
  if (code > 128) return { status: 'signaled', exitCode: null, signal: SIGNAL_NAMES[code - 128] ?? `SIG${code - 128}` };
  return { status: 'exited', exitCode: code, signal: null };
}

function parseReport(
  text: string,
): { programExit: number; programMs: number; interactorExit: number; interactorStderr: string } | undefined {
  const marker = text.indexOf('interactor-stderr\n');
  if (marker < 0) return undefined;
  const field = (name: string) => new RegExp(`^${name} (.*)$`, 'm').exec(text.slice(0, marker))?.[1]?.trim() ?? '';
  const programExit = Number.parseInt(field('program-exit'), 10);
  const interactorExit = Number.parseInt(field('interactor-exit'), 10);
  const programMs = timesMs(field('program-times'));
  if (!Number.isInteger(programExit) || !Number.isInteger(interactorExit) || programMs === undefined) return undefined;
  return { programExit, programMs, interactorExit, interactorStderr: text.slice(marker + 'interactor-stderr\n'.length) };
}

function interactorFailed(message: string): RunOutcome {
  const interactor: InteractorOutcome = { status: 'internal-error', exitCode: null, signal: null, stdout: '', stderr: '', message };
  return {
    status: 'internal-error',
    exitCode: null,
    signal: null,
    stdout: '',
    stderr: '',
    timeMs: 0,
    wallMs: 0,
    memoryMb: 0,
    message,
    interactor,
  };
}
