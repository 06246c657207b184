/**
 * Checker and interactor programs built on Judge0 itself, once per test-set version: the worker image
 * has no compiler and no sandbox (EXECUTOR=judge0 on Fargate). Judge0 keeps nothing between
 * submissions (each runs in a fresh isolate box, isolate_job.rb:55-76, 275-283), so a one-time
 * multi-file submission compiles the program with Judge0's own C++ compiler (the compile_cmd of
 * GET /languages/:id) and its run script prints the binary as base64 on stdout; the worker keeps it
 * (in memory, least recently used versions dropped) and ships it in the zip of every later run, where
 * it executes with the same image's libraries (the C++ run_cmd's LD_LIBRARY_PATH). A Python program
 * is syntax-checked the same way and shipped as source. The binary only ever runs inside Judge0 boxes.
 */
import { createHash } from 'node:crypto';
import type { CheckerProgram } from '../../problems/testSet';
import type { Judge0LanguageRow } from './catalog';
import { ExecutorUnavailableError } from '../port';
import { ProjectRunner, projectExit } from './projects';
import type { ClampedLimits } from './submissions';

export type BuiltProgram = { ok: true; artifact: { name: string; data: Buffer }; command: string } | { ok: false; message: string };

export interface ProgramBuilderOptions {
  runner: ProjectRunner;
  /** GET /languages/:id of the Judge0 language serving `cpp` or `python` (commands and source_file). */
  languageRow: (language: 'cpp' | 'python') => Promise<Judge0LanguageRow | undefined>;
  /** max_max_file_size, KB: the largest binary the compile run can print. */
  maxFileSizeKb: () => number;
  /** Built programs kept (one per test-set version and program). Default 32. */
  cacheEntries?: number;
}

const CXX_FLAGS = '-O2 -std=c++17 -s -o program';
const PYTHON_SYNTAX_CHECK = 'import sys; compile(open(sys.argv[1]).read(), sys.argv[1], "exec")';

export class ProgramBuilder {
  private readonly built = new Map<string, Promise<BuiltProgram>>();

  constructor(private readonly opts: ProgramBuilderOptions) {}

  /** The built program for a version, from the cache or built now (a Judge0 outage is not cached). */
  build(program: CheckerProgram, version: string, name: 'checker' | 'interactor'): Promise<BuiltProgram> {
    const hash = createHash('sha256').update(version).update('\0').update(name).update('\0').update(program.sourceFile);
    for (const file of [...program.files.keys()].sort()) hash.update('\0').update(file).update('\0').update(program.files.get(file)!);
    const key = hash.digest('hex');
    let pending = this.built.get(key);
    if (pending) {
      this.built.delete(key); // least recently used goes first: re-insert at the end
    } else {
      pending = this.compile(program, name);
      pending.catch(() => this.built.delete(key));
    }
    this.built.set(key, pending);
    while (this.built.size > (this.opts.cacheEntries ?? 32)) this.built.delete(this.built.keys().next().value!);
    return pending;
  }

  /** Entries cached (tests). */
  get size(): number {
    return this.built.size;
  }

  private async compile(program: CheckerProgram, name: 'checker' | 'interactor'): Promise<BuiltProgram> {
    const row = await this.opts.languageRow(program.language);
    const what = `${name} ${program.sourceFile}`;
    if (!row?.run_cmd || !row.source_file || (program.language === 'cpp' && !row.compile_cmd)) {
      return {
        ok: false,
        message: `${what}: this Judge0 has no ${program.language === 'cpp' ? 'C++' : 'Python'} language with commands to build it`,
      };
    }
    const files: Record<string, string | Buffer> = Object.fromEntries(program.files);
    const maxKb = this.opts.maxFileSizeKb();
    const limits: ClampedLimits = {
      cpu_time_limit: 5,
      wall_time_limit: 10,
      memory_limit: 256_000,
      stack_limit: 64_000,
      max_file_size: maxKb,
    };
    if (program.language === 'cpp') {
      files.compile = `${row.compile_cmd!.replace(row.source_file, program.sourceFile).replace('%s', CXX_FLAGS)}\n`;
      files.run = 'base64 -w 0 program\n';
    } else {
      files.compile = `${pythonBinary(row)} -S -B -c '${PYTHON_SYNTAX_CHECK}' ${program.sourceFile}\n`;
      files.run = 'true\n';
    }
    let result: Awaited<ReturnType<ProjectRunner['run']>>;
    try {
      result = await this.opts.runner.run({ files, limits });
    } catch (error) {
      // Judge0 unavailable: retried later (not cached). Refused (a 422: multi-file programs off): a verdict.
      if (error instanceof ExecutorUnavailableError) throw error;
      return { ok: false, message: `${what}: Judge0 could not build it: ${(error as Error).message}` };
    }
    const ended = projectExit(result.submission);
    if (ended.ended === 'compile-error') {
      return {
        ok: false,
        message: `${name} ${program.sourceFile} does not compile on Judge0: ${result.compileOutput.trim().slice(0, 2000)}`,
      };
    }
    if (ended.ended !== 'exited' || ended.exitCode !== 0) {
      return {
        ok: false,
        message: `${what}: building it on Judge0 ended with ${result.submission.status.description} ${result.message}`.trim(),
      };
    }
    if (program.language === 'python') {
      return {
        ok: true,
        artifact: { name: `${name}.py`, data: Buffer.from(program.files.get(program.sourceFile)!) },
        command: `${pythonBinary(row)} -S -B ${name}.py`,
      };
    }
    if (result.stdout.length >= maxKb * 1024)
      return { ok: false, message: `${what}: the compiled binary is larger than Judge0's MAX_MAX_FILE_SIZE (${maxKb} KB)` };
    const data = Buffer.from(result.stdout.toString('ascii'), 'base64');
    if (data.length < 4 || data.readUInt32BE(0) !== 0x7f454c46)
      return { ok: false, message: `${what}: Judge0 did not return a compiled program` };
    return { ok: true, artifact: { name, data }, command: cxxRun(row, name) };
  }
}

/** The interpreter of Judge0's Python run_cmd ("/usr/local/python-3.8.1/bin/python3 script.py"). */
function pythonBinary(row: Judge0LanguageRow): string {
  return row.run_cmd!.replace(row.source_file!, '').trim();
}

/** Judge0's C++ run_cmd ("LD_LIBRARY_PATH=/usr/local/gcc-9.2.0/lib64 ./a.out") for another binary. */
function cxxRun(row: Judge0LanguageRow, name: string): string {
  return /\.\/a\.out\b/.test(row.run_cmd!) ? row.run_cmd!.replace(/\.\/a\.out\b/, `./${name}`) : `./${name}`;
}
