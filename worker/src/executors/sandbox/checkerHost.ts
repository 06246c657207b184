/**
 * Testlib checkers in the local sandbox: compiled once per test-set version (kept under
 * `<workRoot>/checkers/<key>/`), run per case as `checker N.in N.out N.ans` in a fresh sandbox with
 * the case's three files in a job directory of their own (read-only inside). The program's output
 * is spilled to N.out while it runs (bounded by the output limit, which the runner enforces before
 * writing), and the case's files are removed as soon as the case is judged.
 */
import { closeSync, existsSync, openSync, promises as fsp, rmSync, writeSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { CheckResult } from '../../grading/checkers';
import { CaseCheckFile, PreparedChecker, PrepareResult, readTestlibRun } from '../../grading/programChecker';
import type { CheckerProgram } from '../../problems/testSet';
import type { SandboxRunResult, SandboxRunSpec } from './runner';
import { COMPILE_LIMITS } from './toolchains';
import { pruneLeastRecentlyUsed, touchEntry } from '../../storage/lruDir';

/** Compiled checkers and interactors kept under <workRoot>/checkers (one folder each). */
export const MAX_CACHED_PROGRAMS = 64;

/** What the host needs from the sandbox executor. */
export interface SandboxAccess {
  workRoot: string;
  makeJobDir(id: string): Promise<string>;
  removeJobDir(dir: string): Promise<void>;
  /** Runs a command as a locked uid (the spec without uid, cgroup or seccomp details). */
  run(
    spec: Pick<SandboxRunSpec, 'boxDir' | 'writableBox' | 'command' | 'stdin' | 'limits'>,
    beforeRun?: (uid: number) => Promise<void>,
  ): Promise<SandboxRunResult>;
}

/** A checker's own limits: generous, but a looping or hoarding checker still ends (as IE). */
export const CHECKER_LIMITS = {
  timeLimitMs: 5_000,
  wallLimitMs: 10_000,
  memoryLimitMb: 512,
  memoryHeadroomMb: 0,
  outputLimitBytes: 64 * 1024,
  pids: 16,
};

/** A Python checker is not compiled, but its syntax is checked once, as a compile would. */
const PYTHON_SYNTAX_CHECK = 'import sys; compile(open(sys.argv[1]).read(), sys.argv[1], "exec")';

export const ARTIFACT = { cpp: 'checker', python: 'checker.py' } as const;

export class SandboxCheckerHost {
  private readonly compiled = new Map<string, Promise<{ ok: true; file: string } | { ok: false; message: string }>>();

  constructor(private readonly sandbox: SandboxAccess) {}

  async prepareChecker(program: CheckerProgram, version: string, jobId: string): Promise<PrepareResult> {
    const built = await this.compiledProgram(program, version);
    if (!built.ok) return built;
    const dir = await this.sandbox.makeJobDir(`checks-${jobId}`);
    try {
      const artifact = ARTIFACT[program.language];
      await fsp.copyFile(built.file, path.join(dir, artifact));
      await fsp.chmod(path.join(dir, artifact), 0o755);
    } catch (error) {
      await this.sandbox.removeJobDir(dir).catch(() => undefined);
      throw error;
    }
    return { ok: true, checker: new SandboxPreparedChecker(this.sandbox, dir, program.language) };
  }

  /** The compiled program (checker or interactor) for a test-set version, compiled at most once while cached. */
  async compiledProgram(program: CheckerProgram, version: string) {
    const hash = createHash('sha256').update(version).update('\0').update(program.sourceFile);
    for (const name of [...program.files.keys()].sort()) hash.update('\0').update(name).update('\0').update(program.files.get(name)!);
    const key = hash.digest('hex').slice(0, 32);
    let pending = this.compiled.get(key);
    const hit = pending && (await pending.catch(() => undefined));
    if (hit?.ok && !existsSync(hit.file))
      pending = undefined; // pruned: build again
    else if (hit?.ok) void touchEntry(path.dirname(hit.file));
    if (!pending) {
      pending = this.compile(program, key);
      this.compiled.set(key, pending);
      // A host failure (not a compile error) must not stick: the next submission tries again.
      pending.catch(() => this.compiled.delete(key));
    }
    return pending;
  }

  private async compile(program: CheckerProgram, key: string): Promise<{ ok: true; file: string } | { ok: false; message: string }> {
    const cacheDir = path.join(this.sandbox.workRoot, 'checkers', key);
    const file = path.join(cacheDir, ARTIFACT[program.language]);
    if (
      await fsp.stat(file).then(
        () => true,
        () => false,
      )
    )
      return { ok: true, file };
    const dir = await this.sandbox.makeJobDir('checker-compile');
    try {
      for (const [name, content] of program.files) await fsp.writeFile(path.join(dir, name), content, { mode: 0o644 });
      const command =
        program.language === 'cpp'
          ? ['/usr/bin/g++', '-O2', '-std=c++17', '-pipe', '-o', 'checker', program.sourceFile]
          : ['/usr/bin/python3', '-S', '-B', '-c', PYTHON_SYNTAX_CHECK, program.sourceFile];
      const result = await this.sandbox.run(
        { boxDir: dir, writableBox: true, command, stdin: '', limits: { ...COMPILE_LIMITS, memoryHeadroomMb: 0 } },
        (uid) => fsp.chown(dir, uid, uid),
      );
      if (result.status !== 'exited' || result.exitCode !== 0) {
        const output = `${result.stdout}${result.stderr}`.trim().slice(0, 2000);
        const why = result.message ?? `exit ${result.exitCode}`;
        return { ok: false, message: `checker ${program.sourceFile} does not compile (${why}): ${output}` };
      }
      if (program.language === 'python') await fsp.writeFile(path.join(dir, ARTIFACT.python), program.files.get(program.sourceFile)!);
      // Written under a temporary name and renamed, so a concurrent worker never copies half a file.
      await fsp.mkdir(cacheDir, { recursive: true, mode: 0o711 });
      const partial = `${file}.${randomBytes(4).toString('hex')}`;
      await fsp.copyFile(path.join(dir, ARTIFACT[program.language]), partial);
      await fsp.chown(partial, 0, 0);
      await fsp.chmod(partial, 0o755);
      await fsp.rename(partial, file);
      // One folder per test-set version: the least recently used go once there are too many.
      void pruneLeastRecentlyUsed(path.dirname(cacheDir), { maxEntries: MAX_CACHED_PROGRAMS, keep: (name) => name === key });
      return { ok: true, file };
    } finally {
      await this.sandbox.removeJobDir(dir).catch(() => undefined);
    }
  }
}

class SandboxPreparedChecker implements PreparedChecker {
  constructor(
    private readonly sandbox: SandboxAccess,
    private readonly dir: string,
    private readonly language: CheckerProgram['language'],
  ) {}

  openCase(index: number): CaseCheckFile {
    const file = (ext: string) => path.join(this.dir, `${index}.${ext}`);
    let fd: number | undefined = openSync(file('out'), 'w', 0o644);
    // A full job tmpfs (many large outputs at once) must not throw inside the runner's stdout handler.
    let spillError: string | undefined;
    const closeOutput = () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    };
    const remove = () => {
      closeOutput();
      for (const ext of ['in', 'out', 'ans']) rmSync(file(ext), { force: true });
    };
    return {
      sink: {
        write: (chunk) => {
          if (fd === undefined || spillError) return;
          try {
            writeSync(fd, chunk);
          } catch (error) {
            spillError = (error as Error).message;
          }
        },
      },
      discard: remove,
      check: async (input: string, expected: string): Promise<CheckResult> => {
        closeOutput();
        try {
          if (spillError) return { ok: false, checkerFailed: true, message: `the output could not be kept for the checker: ${spillError}` };
          await fsp.writeFile(file('in'), input, { mode: 0o644 });
          await fsp.writeFile(file('ans'), expected, { mode: 0o644 });
          const names = [`${index}.in`, `${index}.out`, `${index}.ans`];
          const command = this.language === 'cpp' ? ['./checker', ...names] : ['/usr/bin/python3', '-S', '-B', 'checker.py', ...names];
          const run = await this.sandbox.run({ boxDir: this.dir, writableBox: false, command, stdin: '', limits: CHECKER_LIMITS });
          return readTestlibRun(run);
        } finally {
          remove();
        }
      },
    };
  }

  async close(): Promise<void> {
    await this.sandbox.removeJobDir(this.dir);
  }
}
