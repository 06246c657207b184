/**
 * Testlib checkers on Judge0. The contestant's program runs as an ordinary submission (its time,
 * memory and verdict are its own, exactly as without a checker); each case it finished cleanly is
 * then checked by a second submission, a multi-file program whose zip holds the checker built once
 * per test-set version (programs.ts) and the case's input.txt, output.txt (the program's stdout)
 * and answer.txt, and whose run script is `checker input.txt output.txt answer.txt`.
 *
 * Judge0 reports the checker's exit as a program's: exit 0 is "Accepted", any other code arrives as
 * "Runtime Error (NZEC)" with exit_code (bash passes the checker's code on; 128+N when a signal
 * killed it), a time-out as "Time Limit Exceeded" (isolate_job.rb:246-254, 330-344). Only an exit code
 * in the testlib table means anything (programChecker.ts); a crash, a limit, output cut at
 * max_file_size, a Judge0 error or a file too large to ship is a checker failure: IE, never AC.
 */
import type { CheckResult } from '../../grading/checkers';
import { CaseCheckFile, PreparedChecker, PrepareResult, readTestlibRun } from '../../grading/programChecker';
import type { CheckerProgram } from '../../problems/testSet';
import type { RunOutcome } from '../port';
import type { BuiltProgram, ProgramBuilder } from './programs';
import { ProjectResult, ProjectRunner, projectExit } from './projects';
import { ClampedLimits, clampLimits, ConfigInfo } from './submissions';

/** The checker's own box: generous, but a looping or hoarding checker still ends (as IE). */
export const JUDGE0_CHECKER_LIMITS: ClampedLimits = {
  cpu_time_limit: 5,
  wall_time_limit: 10,
  memory_limit: 512_000,
  stack_limit: 64_000,
  max_file_size: 64,
};

/** The checker's limits clamped to the server's maxima (/config_info). */
export function checkerLimits(config: ConfigInfo): ClampedLimits {
  const l = JUDGE0_CHECKER_LIMITS;
  const limits = { timeLimitMs: l.cpu_time_limit * 1000, wallLimitMs: l.wall_time_limit * 1000, memoryLimitMb: l.memory_limit / 1024 };
  return clampLimits({ ...limits, outputLimitBytes: (l.max_file_size - 1) * 1024 }, 'cpp', config);
}

export interface Judge0CheckerDeps {
  builder: ProgramBuilder;
  runner: ProjectRunner;
  /** Clamps the checker's limits to this server's maxima. */
  limits: () => ClampedLimits;
  /** max_extract_size, KB: Judge0 unzips no file larger (isolate_job.rb:98, config.rb:37). */
  maxExtractKb: () => number;
  /** Why this server cannot run checkers, if it cannot. */
  unsupported: () => string | undefined;
}

export async function prepareJudge0Checker(deps: Judge0CheckerDeps, program: CheckerProgram, version: string): Promise<PrepareResult> {
  const why = deps.unsupported();
  if (why) return { ok: false, message: why };
  const built = await deps.builder.build(program, version, 'checker');
  if (!built.ok) return built;
  return { ok: true, checker: new Judge0PreparedChecker(deps, built) };
}

class Judge0PreparedChecker implements PreparedChecker {
  constructor(
    private readonly deps: Judge0CheckerDeps,
    private readonly built: Extract<BuiltProgram, { ok: true }>,
  ) {}

  openCase(): CaseCheckFile {
    // Judge0 returns a program's stdout whole (bounded by the output limit): kept until checked.
    let chunks: Buffer[] = [];
    return {
      sink: { write: (chunk) => void chunks.push(Buffer.from(chunk)) },
      discard: () => {
        chunks = [];
      },
      check: async (input: string, expected: string): Promise<CheckResult> => {
        const output = Buffer.concat(chunks);
        chunks = [];
        return this.check(input, output, expected);
      },
    };
  }

  private async check(input: string, output: Buffer, expected: string): Promise<CheckResult> {
    const files = { 'input.txt': Buffer.from(input), 'output.txt': output, 'answer.txt': Buffer.from(expected) };
    const maxBytes = this.deps.maxExtractKb() * 1024;
    const tooLarge = Object.entries(files).filter(([, data]) => data.length > maxBytes);
    if (tooLarge.length) {
      const list = tooLarge.map(([name, data]) => `${name} (${data.length} bytes)`).join(', ');
      return {
        ok: false,
        checkerFailed: true,
        message: `checker failed: ${list} larger than Judge0's MAX_EXTRACT_SIZE (${maxBytes / 1024} KB)`,
      };
    }
    const { name, data } = this.built.artifact;
    const run = `chmod +x ${name} 2>/dev/null\n${this.built.command} input.txt output.txt answer.txt\n`;
    const limits = this.deps.limits();
    const result = await this.deps.runner.run({ files: { ...files, [name]: data, run }, limits });
    return readTestlibRun(checkerOutcome(result, limits));
  }

  async close(): Promise<void> {}
}

/** A checker's Judge0 run as run facts for readTestlibRun. */
export function checkerOutcome(
  result: Pick<ProjectResult, 'submission' | 'stdout' | 'stderr' | 'stderrBytes' | 'message'>,
  limits: Pick<ClampedLimits, 'max_file_size'>,
): Pick<RunOutcome, 'status' | 'exitCode' | 'signal' | 'stdout' | 'stderr' | 'message'> {
  const { submission: s, stdout, stderr, message } = result;
  const ended = projectExit(s);
  const facts = { exitCode: ended.exitCode, signal: null, stdout: stdout.subarray(0, 4096).toString('utf8'), stderr };
  // Output cut by RLIMIT_FSIZE: the checker may have died of it with any code (Python: exit 1).
  if (stdout.length >= limits.max_file_size * 1024 || result.stderrBytes >= limits.max_file_size * 1024) {
    return { ...facts, status: 'output-limit', message: `output exceeded Judge0's max_file_size (${limits.max_file_size} KB)` };
  }
  const judge0 = `Judge0 status ${s.status.id} ${s.status.description}${message ? `: ${message.trim()}` : ''}`;
  if (ended.ended === 'exited') return { ...facts, status: 'exited' };
  if (ended.ended === 'time-limit') return { ...facts, status: 'time-limit', message: `time limit (${judge0})` };
  if (ended.ended === 'signaled') return { ...facts, status: 'signaled', message: `killed (${judge0}, exit code ${s.exit_code})` };
  return { ...facts, status: 'internal-error', message: judge0 };
}
