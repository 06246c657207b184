/**
 * What Judge0 1.13.1's IsolateJob does with one submission (judge0/judge0 v1.13.1
 * app/jobs/isolate_job.rb), with the local bubblewrap sandbox standing in for isolate:
 * - the source goes to the language's source_file in the box (isolate_job.rb:72), a multi-file
 *   program's zip is unpacked into it instead, each file cut at MAX_EXTRACT_SIZE KB (isolate_job.rb:82-110);
 *   a project compiles only when its zip has a `compile` script, which stays in the box, and runs the
 *   zip's own `run` script (isolate_job.rb:113-121, 168-169, 196-201);
 * - compiling writes `compile_cmd % compiler_options` (options stripped of $&;<>|`) to a script and runs
 *   `/bin/bash compile` under the MAX_* limits with stderr joined to stdout (isolate_job.rb:117-150);
 *   its output is kept even when compiling succeeds (isolate_job.rb:160-162); a time-out replaces it by
 *   "Compilation time limit exceeded." (isolate_job.rb:176-178);
 * - running writes `run_cmd + " " + command_line_arguments` to a script and runs `/bin/bash run` with
 *   stdout and stderr redirected to files, RLIMIT_FSIZE = max_file_size KB and RLIMIT_STACK =
 *   stack_limit KB (isolate `-f`, `-k`; isolate_job.rb:196-224). A program killed by a signal is a child
 *   of bash, so bash exits 128+N: isolate reports status RE with that exit code and no exit signal.
 * - the verdict follows determine_status (isolate_job.rb:330-344); exit_code is `exitcode || 0`, so
 *   it is 0 after a time-out (isolate_job.rb:251).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import type { CgroupVersion } from '../../worker/src/executors/sandbox/cgroup';
import { runInSandbox } from '../../worker/src/executors/sandbox/runner';

const exec = promisify(execFile);

export interface BoxLanguage {
  id: number;
  name: string;
  is_archived: boolean;
  source_file: string | null;
  compile_cmd: string | null;
  run_cmd: string | null;
}

export interface BoxSubmission {
  language: BoxLanguage;
  sourceCode: string | null;
  stdin: string;
  additionalFiles: Buffer | null;
  compilerOptions: string;
  commandLineArguments: string;
  cpuTimeLimit: number;
  cpuExtraTime: number;
  wallTimeLimit: number;
  memoryLimit: number;
  stackLimit: number;
  maxProcesses: number;
  maxFileSize: number;
  redirectStderrToStdout: boolean;
}

export interface BoxMaxima {
  maxCpuTimeLimit: number;
  maxWallTimeLimit: number;
  maxMemoryLimit: number;
  maxStackLimit: number;
  maxMaxProcesses: number;
  maxMaxFileSize: number;
  maxExtractSize: number;
}

/** The columns IsolateJob fills in (app/models/submission.rb schema comment). */
export interface BoxResult {
  statusId: number;
  stdout: Buffer | null;
  stderr: Buffer | null;
  compileOutput: Buffer | null;
  time: number | null;
  wallTime: number | null;
  memory: number | null;
  exitCode: number | null;
  exitSignal: number | null;
  message: string | null;
}

interface Isolated {
  status: 'OK' | 'RE' | 'TO' | 'XX';
  exitCode: number;
  time: number;
  wallTime: number;
  memoryKb: number;
  message: string | null;
}

export class Judge0Box {
  constructor(
    private readonly workRoot: string,
    private readonly cgroupVersion: CgroupVersion,
    private readonly maxima: BoxMaxima,
    /** The local sandbox's syscall filter (isolate has none; the box needs one to run at all). */
    private readonly seccompFile: string,
  ) {}

  async perform(sub: BoxSubmission, uid: number): Promise<BoxResult> {
    const dir = await fsp.mkdtemp(path.join(this.workRoot, 'box-'));
    const meta = path.join(dir, '.isolate');
    try {
      await fsp.mkdir(meta);
      const project = sub.language.name === 'Multi-file program'; // app/models/language.rb:18-20
      if (!project) await fsp.writeFile(path.join(dir, sub.language.source_file!), sub.sourceCode ?? '');
      if (project && sub.additionalFiles) {
        await fsp.writeFile(path.join(dir, 'additional_files.zip'), sub.additionalFiles);
        // isolate -f MAX_EXTRACT_SIZE (isolate_job.rb:98): a larger file is cut there and unzip stops. Its
        // "Continue? (y/n)" reads the Resque worker's stdin, no terminal: /dev/null here.
        const unzip = `ulimit -f ${this.maxima.maxExtractSize}; exec /usr/bin/unzip -n -qq additional_files.zip < /dev/null`;
        await exec('/bin/bash', ['-c', unzip], { cwd: dir }).catch(() => undefined);
        await fsp.rm(path.join(dir, 'additional_files.zip'));
      }
      await exec('/bin/chown', ['-R', `${uid}:${uid}`, dir]);

      let compileOutput: Buffer | null = null;
      const compileScript = path.join(dir, 'compile');
      const compiles = project ? await exists(compileScript) : Boolean(sub.language.compile_cmd);
      if (compiles) {
        if (!project) {
          const options = sub.compilerOptions.trim().replace(/[$&;<>|`]/g, '');
          await fsp.writeFile(compileScript, sub.language.compile_cmd!.replace('%s', options));
        }
        const m = this.maxima;
        const compiled = await this.isolate(dir, uid, {
          script: 'compile',
          stdin: '',
          cpu: m.maxCpuTimeLimit,
          extra: 0,
          wall: m.maxWallTimeLimit,
          memoryKb: m.maxMemoryLimit,
          stackKb: m.maxStackLimit,
          processes: m.maxMaxProcesses,
          fileSizeKb: m.maxMaxFileSize,
          stderrToStdout: true,
        });
        const out = await fsp.readFile(path.join(meta, 'stdout.txt')).catch(() => Buffer.alloc(0));
        compileOutput = out.length ? out : null;
        if (!project) await fsp.rm(compileScript, { force: true });
        if (!(compiled.status === 'OK' && compiled.exitCode === 0)) {
          if (compiled.status === 'TO') compileOutput = Buffer.from('Compilation time limit exceeded.');
          return {
            statusId: 6,
            compileOutput,
            stdout: null,
            stderr: null,
            time: null,
            wallTime: null,
            memory: null,
            exitCode: null,
            exitSignal: null,
            message: null,
          };
        }
      }

      if (!project) {
        const args = sub.commandLineArguments.trim().replace(/[$&;<>|`]/g, '');
        await fsp.writeFile(path.join(dir, 'run'), `${sub.language.run_cmd} ${args}`);
      }
      const ran = await this.isolate(dir, uid, {
        script: 'run',
        stdin: sub.stdin,
        cpu: sub.cpuTimeLimit,
        extra: sub.cpuExtraTime,
        wall: sub.wallTimeLimit,
        memoryKb: sub.memoryLimit,
        stackKb: sub.stackLimit,
        processes: sub.maxProcesses,
        fileSizeKb: sub.maxFileSize,
        stderrToStdout: sub.redirectStderrToStdout,
      });
      const stdout = await fsp.readFile(path.join(meta, 'stdout.txt')).catch(() => Buffer.alloc(0));
      const stderr = await fsp.readFile(path.join(meta, 'stderr.txt')).catch(() => Buffer.alloc(0));
      // determine_status (isolate_job.rb:330-344); without expected_output a clean exit is Accepted.
      const statusId = ran.status === 'TO' ? 5 : ran.status === 'RE' ? 11 : ran.status === 'XX' ? 13 : 3;
      return {
        statusId,
        compileOutput,
        stdout: stdout.length ? stdout : null,
        stderr: stderr.length ? stderr : null,
        time: ran.time,
        wallTime: ran.wallTime,
        memory: ran.memoryKb,
        exitCode: ran.status === 'RE' ? ran.exitCode : 0,
        exitSignal: null,
        message: ran.message,
      };
    } finally {
      await fsp.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /** One `isolate --run -- /bin/bash <script>`: the facts isolate writes to its metadata file. */
  private async isolate(
    dir: string,
    uid: number,
    o: {
      script: string;
      stdin: string;
      cpu: number;
      extra: number;
      wall: number;
      memoryKb: number;
      stackKb: number;
      processes: number;
      fileSizeKb: number;
      stderrToStdout: boolean;
    },
  ): Promise<Isolated> {
    // isolate redirects to files outside the box; here they live in /box/.isolate (the box is a bind mount).
    const redirect = o.stderrToStdout ? '> .isolate/stdout.txt 2>&1' : '> .isolate/stdout.txt 2> .isolate/stderr.txt';
    const prologue = `ulimit -f ${Math.max(1, Math.floor(o.fileSizeKb))}; ulimit -s ${Math.max(64, Math.floor(o.stackKb))}; exec /bin/bash ${o.script} ${redirect}`;
    const result = await runInSandbox({
      name: `judge0-${process.pid}-${randomBytes(4).toString('hex')}`,
      boxDir: dir,
      writableBox: true,
      command: ['/bin/bash', '-c', prologue],
      stdin: o.stdin,
      uid,
      limits: {
        timeLimitMs: Math.round((o.cpu + o.extra) * 1000),
        wallLimitMs: Math.round(o.wall * 1000),
        memoryLimitMb: o.memoryKb / 1024,
        memoryHeadroomMb: 0,
        outputLimitBytes: 1 << 20,
        pids: o.processes,
      },
      cgroupVersion: this.cgroupVersion,
      seccompFile: this.seccompFile,
    });
    const facts = { time: result.timeMs / 1000, wallTime: result.wallMs / 1000, memoryKb: Math.round(result.memoryMb * 1024) };
    if (result.status === 'internal-error') return { status: 'XX', exitCode: 0, ...facts, message: result.message ?? 'internal error' };
    if (result.status === 'time-limit' || facts.time > o.cpu) {
      const wall = /wall/.test(result.message ?? '');
      return { status: 'TO', exitCode: 0, ...facts, message: wall ? 'Time limit exceeded (wall clock)' : 'Time limit exceeded' };
    }
    // The sandbox reports bash's own exit status 128+N as a signal; isolate sees that exit status.
    const exitCode = result.exitCode ?? (result.signal ? 128 + signalNumber(result.signal) : 1);
    if (exitCode !== 0) return { status: 'RE', exitCode, ...facts, message: `Exited with error status ${exitCode}` };
    return { status: 'OK', exitCode: 0, ...facts, message: null };
  }
}

const SIGNAL_NUMBERS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGIOT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGXCPU: 24,
  SIGXFSZ: 25,
};
function signalNumber(name: string): number {
  return SIGNAL_NUMBERS[name] ?? (Number(/\d+/.exec(name)?.[0]) || 9);
}

async function exists(file: string): Promise<boolean> {
  return fsp.access(file).then(
    () => true,
    () => false,
  );
}
