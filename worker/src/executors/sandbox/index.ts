/**
 * The local sandbox executor: compiles once per submission, then runs the cases in parallel, each
 * in fresh namespaces started by a long-lived sandbox cell (cell.ts), as its own unprivileged uid.
 *
 * Options:
 * - concurrency: sandboxes running at once across all jobs (default: CPU cores).
 * - workRoot: where job directories live (default /tmp/grading-sandbox); must not be shared with
 *   anything the programs should not see (only the job's own directory is mounted).
 * - uidBase, uidCount: the uids programs run as, uidBase .. uidBase + uidCount - 1 (default 61000,
 *   64). Each run locks its uid host-wide (see uidLocks.ts), so runs never share one: RLIMIT_NPROC
 *   stays per run and no run can signal another. Workers on one host may share the range.
 * - lockDir: where the uid locks live (default /run/grading-sandbox/uid-locks); every worker using
 *   the same uids must use the same directory.
 *
 * Each job's directory is a tmpfs of its own (bounded, and shown inside as a bare tmpfs).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CaseRun, CompileOutcome, ExecutionJob, ExecutionReport, Executor, ExecutorUnavailableError } from '../port';
import type { CheckerProgram } from '../../problems/testSet';
import type { CheckerHost, PrepareResult } from '../../grading/programChecker';
import { CgroupVersion, detectCgroupVersion, prepareCgroups } from './cgroup';
import { ARTIFACT, CHECKER_LIMITS, SandboxCheckerHost } from './checkerHost';
import { runInteractiveCase } from './interaction';
import { runInSandbox, SandboxLimits, SandboxRunResult, SandboxRunSpec } from './runner';
import { cellPool, closeIdleCells, ensureCellHelper, removeStaleCells } from './cell';
import { ensureSeccompFilter } from './seccomp';
import { COMPILE_LIMITS, TOOLCHAINS } from './toolchains';
import { isProcessAlive, startTimeOf, UidLocks } from './uidLocks';

export interface SandboxOptions {
  concurrency?: number;
  workRoot?: string;
  uidBase?: number;
  uidCount?: number;
  lockDir?: string;
}

const REQUIRED_BINARIES: Array<[string, string]> = [
  ['/usr/bin/gcc', 'apt-get install -y gcc'],
  ['/usr/bin/python3', 'apt-get install -y python3 python3-seccomp'],
];

/** Names this process in its job dirs: pid and start time, so a dead owner's dirs can be told apart. */
const OWNER = `${process.pid}_${startTimeOf(process.pid)}`;

/** Size of a job's tmpfs (source, compiled program, class files). */
const BOX_BYTES = 128 * 1024 * 1024;

export class SandboxUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxUnavailableError';
  }
}

export async function createSandboxExecutor(options: SandboxOptions = {}): Promise<Executor & CheckerHost> {
  const missing = REQUIRED_BINARIES.filter(([bin]) => !existsSync(bin));
  if (missing.length)
    throw new SandboxUnavailableError(`local sandbox: missing ${missing.map(([bin, fix]) => `${bin} (${fix})`).join(', ')}`);
  if (process.getuid?.() !== 0) {
    throw new SandboxUnavailableError(
      'local sandbox: must run as root to create per-run cgroups and switch to the sandbox uids (or use EXECUTOR=judge0)',
    );
  }
  const workRoot = options.workRoot ?? path.join(os.tmpdir(), 'grading-sandbox');
  // Sandbox uids must be able to traverse to their job dir (and list nothing on the way).
  await fsp.mkdir(workRoot, { recursive: true });
  await fsp.chmod(workRoot, 0o711);
  const cgroupVersion = detectCgroupVersion();
  await prepareCgroups(cgroupVersion);
  await removeStaleCells(cgroupVersion);
  const seccomp = await ensureSeccompFilter(path.join(workRoot, 'cache'));
  await ensureCellHelper(path.dirname(seccomp.file)).catch((error: Error) => {
    throw new SandboxUnavailableError(`local sandbox: ${error.message}`);
  });
  const concurrency = options.concurrency ?? Math.max(1, os.cpus().length);
  const uidBase = options.uidBase ?? 61000;
  const uidCount = options.uidCount ?? 64;
  if (uidCount < concurrency) throw new SandboxUnavailableError(`local sandbox: uidCount ${uidCount} is below concurrency ${concurrency}`);
  const locks = new UidLocks(
    options.lockDir ?? '/run/grading-sandbox/uid-locks',
    Array.from({ length: uidCount }, (_, i) => uidBase + i),
  );
  const executor = new SandboxExecutor(cgroupVersion, seccomp.file, locks, { concurrency, workRoot });
  await executor.removeStaleJobDirs();
  await executor.selfTest();
  return executor;
}

class SandboxExecutor implements Executor, CheckerHost {
  readonly name = 'sandbox';
  /** Runs interactive problems (port `ExecutionJob.interactor`). */
  readonly interactive = true;
  private readonly freeSlots: number[];
  private readonly waiting: Array<(slot: number) => void> = [];
  private readonly checkers: SandboxCheckerHost;
  private checkersAccess() {
    return new SandboxCheckerHost({
      workRoot: this.opts.workRoot,
      makeJobDir: (id) => this.makeJobDir(id),
      removeJobDir: (dir) => this.removeJobDir(dir),
      run: (spec, beforeRun) => this.runAsSlot(spec, beforeRun),
    });
  }

  constructor(
    private readonly cgroupVersion: CgroupVersion,
    private readonly seccompFile: string,
    private readonly locks: UidLocks,
    private readonly opts: { concurrency: number; workRoot: string },
  ) {
    this.freeSlots = Array.from({ length: opts.concurrency }, (_, i) => i);
    this.checkers = this.checkersAccess();
  }

  /** Runs /bin/true in a sandbox, so a host without user namespaces fails at start with the fix. */
  async selfTest(): Promise<void> {
    const dir = await this.makeJobDir('selftest');
    try {
      const result = await this.withSlot((uid) =>
        runInSandbox({
          name: `selftest-${process.pid}-u${uid}-${randomBytes(4).toString('hex')}`,
          boxDir: dir,
          writableBox: false,
          command: ['/bin/true'],
          stdin: '',
          uid,
          limits: { timeLimitMs: 2000, wallLimitMs: 5000, memoryLimitMb: 64, memoryHeadroomMb: 0, outputLimitBytes: 1024, pids: 8 },
          cgroupVersion: this.cgroupVersion,
          seccompFile: this.seccompFile,
        }),
      );
      if (result.status !== 'exited' || result.exitCode !== 0) {
        throw new SandboxUnavailableError(
          `local sandbox self-test failed (${result.status}, exit ${result.exitCode}): ${result.stderr.trim() || result.message || ''}. ` +
            'The sandbox cell runs as root and needs mount, pid and network namespaces (CAP_SYS_ADMIN: a privileged container or the host).',
        );
      }
    } finally {
      await this.removeJobDir(dir);
    }
  }

  async execute(job: ExecutionJob, onCase?: (run: CaseRun) => void): Promise<ExecutionReport> {
    const toolchain = TOOLCHAINS[job.language];
    if (!toolchain) throw new Error(`sandbox: no toolchain for language ${job.language}`);
    const dir = await this.makeJobDir(job.id);
    try {
      await fsp.writeFile(path.join(dir, toolchain.sourceFile), job.source, { mode: 0o644 });
      const compile = await this.compile(job, dir);
      if (!compile.ok) return { compile, runs: [] };
      // Test runs see the directory read-only, as root-owned files they cannot change.
      await fsp.chown(dir, 0, 0);
      await fsp.chmod(dir, 0o755);

      const limits: SandboxLimits = {
        timeLimitMs: job.limits.timeLimitMs,
        wallLimitMs: job.limits.wallLimitMs ?? job.limits.timeLimitMs * 2 + 1000,
        memoryLimitMb: job.limits.memoryLimitMb,
        memoryHeadroomMb: toolchain.memoryHeadroomMb,
        outputLimitBytes: job.limits.outputLimitBytes,
        pids: toolchain.pids,
      };
      const command = toolchain.run({ memoryLimitMb: job.limits.memoryLimitMb });
      if (job.interactor) return { compile, runs: await this.runInteractive(job, dir, command, limits, onCase) };
      const runs = await Promise.all(
        job.cases.map((testCase) =>
          this.withSlot(async (uid): Promise<CaseRun | undefined> => {
            // Cases queue for slots: one whose subtasks already failed is not started at all.
            if (job.skip?.(testCase.index)) return undefined;
            const outcome = await runInSandbox({
              name: `run-${process.pid}-u${uid}-${randomBytes(4).toString('hex')}`,
              boxDir: dir,
              writableBox: false,
              command,
              stdin: testCase.input,
              uid,
              limits,
              cgroupVersion: this.cgroupVersion,
              seccompFile: this.seccompFile,
              stdoutSink: job.openOutput?.(testCase.index),
            });
            const { memoryLimitHit: _hit, ...facts } = outcome;
            const run: CaseRun = { index: testCase.index, outcome: facts };
            onCase?.(run);
            return run;
          }),
        ),
      );
      return { compile, runs: runs.filter((r): r is CaseRun => r !== undefined) };
    } finally {
      await this.removeJobDir(dir).catch(() => undefined);
    }
  }

  /** Every case against the job's interactor (interaction.ts); an interactor that does not compile makes every case IE. */
  private async runInteractive(
    job: ExecutionJob,
    dir: string,
    command: string[],
    limits: SandboxLimits,
    onCase?: (run: CaseRun) => void,
  ): Promise<CaseRun[]> {
    const spec = job.interactor!;
    const built = await this.checkers.compiledProgram(spec, spec.version);
    const failed = (index: number, message: string): CaseRun => ({
      index,
      outcome: {
        status: 'internal-error',
        exitCode: null,
        signal: null,
        stdout: '',
        stderr: '',
        timeMs: 0,
        wallMs: 0,
        memoryMb: 0,
        message,
      },
    });
    if (!built.ok) {
      const runs = job.cases.map((c) => failed(c.index, built.message.replace(/^checker/, 'interactor')));
      runs.forEach((r) => onCase?.(r));
      return runs;
    }
    const artifact = ARTIFACT[spec.language];
    const interactorCommand =
      spec.language === 'cpp'
        ? [`./${artifact}`, 'input.txt', 'output.txt']
        : ['/usr/bin/python3', '-S', '-B', artifact, 'input.txt', 'output.txt'];
    const interactorLimits = { ...CHECKER_LIMITS, wallLimitMs: limits.wallLimitMs + 5000, outputLimitBytes: limits.outputLimitBytes };
    // A case takes one slot (the two sides mostly wait for each other) and a second uid for the interactor.
    const runs = await Promise.all(
      job.cases.map((testCase) =>
        this.withSlot(async (uid): Promise<CaseRun | undefined> => {
          if (job.skip?.(testCase.index)) return undefined;
          const lease = await this.locks.acquire();
          const box = await this.makeJobDir(`${job.id}-interactor-${testCase.index}`);
          try {
            await fsp.copyFile(built.file, path.join(box, artifact));
            await fsp.chmod(path.join(box, artifact), 0o755);
            await fsp.writeFile(path.join(box, 'input.txt'), testCase.input, { mode: 0o644 });
            await fsp.chown(box, lease.uid, lease.uid);
            const outcome = await runInteractiveCase({
              program: { boxDir: dir, writableBox: false, command, limits },
              interactor: { boxDir: box, command: interactorCommand, limits: interactorLimits },
              run: (runSpec, side) =>
                runInSandbox({
                  ...runSpec,
                  name: `${side}-${process.pid}-u${uid}-${randomBytes(4).toString('hex')}`,
                  uid: side === 'program' ? uid : lease.uid,
                  cgroupVersion: this.cgroupVersion,
                  seccompFile: this.seccompFile,
                }),
            });
            const { memoryLimitHit: _hit, ...facts } = outcome;
            const run: CaseRun = { index: testCase.index, outcome: facts };
            onCase?.(run);
            return run;
          } finally {
            lease.release();
            await this.removeJobDir(box).catch(() => undefined);
          }
        }),
      ),
    );
    return runs.filter((r): r is CaseRun => r !== undefined);
  }

  /** Testlib checkers (checkerHost.ts): compiled once per test-set version, run in this sandbox. */
  prepareChecker(program: CheckerProgram, version: string, jobId: string): Promise<PrepareResult> {
    return this.checkers.prepareChecker(program, version, jobId);
  }

  private runAsSlot(
    spec: Pick<SandboxRunSpec, 'boxDir' | 'writableBox' | 'command' | 'stdin' | 'limits' | 'stdoutSink'>,
    beforeRun?: (uid: number) => Promise<void>,
  ): Promise<SandboxRunResult> {
    return this.withSlot(async (uid) => {
      await beforeRun?.(uid);
      return runInSandbox({
        ...spec,
        name: `aux-${process.pid}-u${uid}-${randomBytes(4).toString('hex')}`,
        uid,
        cgroupVersion: this.cgroupVersion,
        seccompFile: this.seccompFile,
      });
    });
  }

  async close(): Promise<void> {
    // Every run's processes are gone when it returns; what stays between runs are the idle cells.
    await closeIdleCells();
  }

  private async compile(job: ExecutionJob, dir: string): Promise<CompileOutcome> {
    const toolchain = TOOLCHAINS[job.language];
    if (!toolchain.compile) return { ok: true, output: '', timeMs: 0 };
    const compileCommand = toolchain.compile;
    return this.withSlot(async (uid) => {
      await fsp.chown(dir, uid, uid);
      const result = await runInSandbox({
        name: `compile-${process.pid}-u${uid}-${randomBytes(4).toString('hex')}`,
        boxDir: dir,
        writableBox: true,
        command: compileCommand,
        stdin: '',
        uid,
        limits: { ...COMPILE_LIMITS, memoryHeadroomMb: 0 },
        cgroupVersion: this.cgroupVersion,
        seccompFile: this.seccompFile,
      });
      const output = `${result.stdout}${result.stderr}`.slice(0, COMPILE_LIMITS.outputLimitBytes);
      const ok = result.status === 'exited' && result.exitCode === 0;
      const why = ok ? '' : result.status === 'exited' ? '' : `\n[compiler stopped: ${result.message ?? result.status}]`;
      return { ok, output: output + why, timeMs: result.timeMs };
    });
  }

  /** A fresh directory with a tmpfs of its own mounted on it, named after its owner process. */
  private async makeJobDir(id: string): Promise<string> {
    const jobs = path.join(this.opts.workRoot, 'jobs');
    await fsp.mkdir(jobs, { recursive: true, mode: 0o711 });
    const safe = id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
    const dir = await fsp.mkdtemp(path.join(jobs, `${OWNER}-${safe}-`));
    try {
      await this.cells().withCell((cell) => cell.mountOp('M', dir, `size=${BOX_BYTES},mode=0755`));
    } catch (error) {
      await fsp.rmdir(dir).catch(() => undefined);
      throw new SandboxUnavailableError(
        `local sandbox: cannot mount a tmpfs for the job (${(error as Error).message}); the worker must run as root with CAP_SYS_ADMIN`,
      );
    }
    return dir;
  }

  /** Job dirs (and their mounts) of workers that died mid-job; other live workers' are left alone. */
  async removeStaleJobDirs(): Promise<void> {
    const jobs = path.join(this.opts.workRoot, 'jobs');
    for (const name of await fsp.readdir(jobs).catch(() => [] as string[])) {
      const owner = /^(\d+)_(\d+)-/.exec(name);
      if (owner && !isProcessAlive(owner[1], owner[2])) await this.removeJobDir(path.join(jobs, name)).catch(() => undefined);
    }
  }

  private async removeJobDir(dir: string): Promise<void> {
    // The cell unmounts lazily as a fallback: every process of the job is dead by now, but a file may still be open briefly.
    await this.cells()
      .withCell((cell) => cell.mountOp('U', dir))
      .catch(() => undefined);
    await fsp.rm(dir, { recursive: true, force: true });
  }

  private cells() {
    return cellPool(this.seccompFile, this.cgroupVersion);
  }

  /** One of `concurrency` slots in this process, and a uid no other run on the host holds. */
  private async withSlot<T>(work: (uid: number) => Promise<T>): Promise<T> {
    const slot = this.freeSlots.pop() ?? (await new Promise<number>((resolve) => this.waiting.push(resolve)));
    try {
      const lease = await this.locks.acquire();
      try {
        return await work(lease.uid);
      } finally {
        lease.release();
      }
    } finally {
      const next = this.waiting.shift();
      if (next) next(slot);
      else this.freeSlots.push(slot);
    }
  }
}

export { ExecutorUnavailableError };
