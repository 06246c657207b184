/**
 * Runs one command in a fresh sandbox and returns the facts of the run; the caller decides what they
 * mean. A sandbox cell (cell.ts: a native helper, root, empty environment, in an empty network
 * namespace of its own) forks PID 1 of fresh mount, pid, IPC, UTS and cgroup namespaces, which builds
 * the root file system (read-only /usr with /usr/local hidden, a few /etc files, /proc, a minimal
 * /dev, a private /tmp, the job's directory as /box, everything else read-only) and starts the
 * program under rlimits, as the run's unprivileged uid without capabilities, no new privileges, under
 * the seccomp filter. PID 1 stays root. No command line names a host path; the cell's is
 * "sandbox-cell" and lives outside the run's pid namespace.
 * CPU time and peak memory come from the run's cgroup (the cell's on v1, a fresh one on v2).
 */
import { constants as osConstants } from 'node:os';
import type { Writable } from 'node:stream';
import type { OutputSink, RunOutcome } from '../port';
import { CgroupUsage, CgroupVersion, RunCgroup } from './cgroup';
import { cellPool, SandboxCell } from './cell';

export interface SandboxLimits {
  timeLimitMs: number;
  wallLimitMs: number;
  memoryLimitMb: number;
  /** Allowed on top of memoryLimitMb for the runtime's own footprint (JVM, V8). */
  memoryHeadroomMb: number;
  outputLimitBytes: number;
  pids: number;
}

export interface SandboxRunSpec {
  /** Unique name of the run (its cgroup's on v2). */
  name: string;
  /** Host directory seen as /box. */
  boxDir: string;
  /** Compiles write into /box; test runs see it read-only. */
  writableBox: boolean;
  command: string[];
  /** The program's input; or, for interaction, a function handed the program's stdin to write to and end. */
  stdin: string | ((stdin: Writable) => void);
  uid: number;
  limits: SandboxLimits;
  cgroupVersion: CgroupVersion;
  /** Compiled BPF program (seccomp.ts); the sandbox helper is cached next to it. */
  seccompFile: string;
  /** When given, stdout streams here and the outcome keeps only a prefix of it. */
  stdoutSink?: OutputSink;
  /** Ends the run early (interaction: the interactor has rejected the program). */
  abort?: AbortSignal;
}

export interface SandboxRunResult extends RunOutcome {
  /** The kernel charged memory up to the limit during the run. */
  memoryLimitHit: boolean;
}

const STDERR_LIMIT = 8 * 1024;
/** stdout kept in the outcome when it streams to a sink. */
const STDOUT_PREFIX_BYTES = 4 * 1024;
const CPU_POLL_MS = 50;
const TMPFS_BYTES = 16 * 1024 * 1024;

const SIGNALS = Object.fromEntries(Object.entries(osConstants.signals).map(([name, num]) => [num, name])) as Record<number, string>;

/** Where a run is accounted: the cell's reused group (v1) or a fresh group of its own (v2). */
interface RunAccounting {
  usage(): Promise<CgroupUsage>;
  cpuMs(): Promise<number>;
  killAll(): Promise<void>;
}

export async function runInSandbox(spec: SandboxRunSpec): Promise<SandboxRunResult> {
  const { limits } = spec;
  const memoryBytes = (limits.memoryLimitMb + limits.memoryHeadroomMb) * 1024 * 1024;
  const pool = cellPool(spec.seccompFile, spec.cgroupVersion);
  const cell = await pool.acquire();
  let runGroup: RunCgroup | undefined;
  // Set once this run's last sweep is done: sweeps still under way (watchdog, output limit) stop then.
  let released = false;
  const current = () => !released;
  try {
    if (spec.cgroupVersion === 'v2') runGroup = await RunCgroup.create('v2', spec.name, { memoryBytes, pids: limits.pids });
    else cell.reset({ memoryBytes, pids: limits.pids });
    const accounting = accountingOf(cell, runGroup, current);
    const cpuSeconds = Math.ceil(limits.timeLimitMs / 1000) + 1;
    const started = process.hrtime.bigint();
    const run = cell.start({
      uid: spec.uid,
      boxDir: spec.boxDir,
      writableBox: spec.writableBox,
      rlimits: {
        cpuSoft: cpuSeconds,
        cpuHard: cpuSeconds + 1,
        fsize: TMPFS_BYTES,
        nofile: 64,
        // The pids cgroup is the real fork limit; RLIMIT_NPROC also counts the slot uid's zombies
        // from earlier runs that PID 1 has not reaped yet, so it gets a wide margin.
        nproc: limits.pids + 256,
        stack: Math.max(8, limits.memoryLimitMb) * 1024 * 1024,
      },
      tmpBytes: TMPFS_BYTES,
      cgroupDir: runGroup?.dir,
      command: spec.command,
    });

    let stdoutBytes = 0;
    const stdout: Buffer[] = [];
    let prefixBytes = 0;
    let stderr = '';
    let outputExceeded = false;
    let wallExceeded = false;

    const killGroup = () => void accounting.killAll();
    spec.abort?.addEventListener('abort', killGroup, { once: true });
    if (spec.abort?.aborted) killGroup();
    run.stdout.on('data', (chunk: Buffer) => {
      if (outputExceeded) return;
      stdoutBytes += chunk.length;
      if (stdoutBytes > limits.outputLimitBytes) {
        outputExceeded = true;
        killGroup();
        return;
      }
      if (!spec.stdoutSink) {
        stdout.push(chunk);
      } else {
        spec.stdoutSink.write(chunk);
        if (prefixBytes < STDOUT_PREFIX_BYTES) {
          const part = chunk.subarray(0, STDOUT_PREFIX_BYTES - prefixBytes);
          stdout.push(Buffer.from(part));
          prefixBytes += part.length;
        }
      }
    });
    run.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < STDERR_LIMIT) stderr += chunk.toString('utf8').slice(0, STDERR_LIMIT - stderr.length);
    });
    run.stdin.on('error', () => undefined); // the program may exit without reading its input
    if (typeof spec.stdin === 'string') run.stdin.end(spec.stdin);
    else spec.stdin(run.stdin);
    const streamsClosed = Promise.all(
      [run.stdout, run.stderr].map((stream) => new Promise<void>((resolve) => stream.once('close', () => resolve()))),
    );
    run.stdout.once('end', () => spec.stdoutSink?.end?.());

    const wallTimer = setTimeout(() => {
      wallExceeded = true;
      killGroup();
    }, limits.wallLimitMs);
    // RLIMIT_CPU has one-second granularity and counts each process alone; the cgroup's total is
    // exact, so a watchdog stops the whole run shortly after the limit.
    let cpuExceeded = false;
    const cpuWatch = setInterval(() => {
      void accounting.cpuMs().then((ms) => {
        if (ms > limits.timeLimitMs && !cpuExceeded) {
          cpuExceeded = true;
          killGroup();
        }
      });
    }, CPU_POLL_MS);

    let exitCode: number;
    let setupError: string | undefined;
    try {
      ({ status: exitCode, setupError } = await run.end);
      // Every process of the run is gone with its PID 1, so the pipes have no writer left.
      await streamsClosed;
    } finally {
      clearTimeout(wallTimer);
      clearInterval(cpuWatch);
      spec.abort?.removeEventListener('abort', killGroup);
      run.stdin.destroy();
    }
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    const usage = await accounting.usage();
    await accounting.killAll();

    const outcome: SandboxRunResult = {
      status: 'exited',
      exitCode,
      signal: null,
      stdout: Buffer.concat(stdout).toString('utf8'),
      ...(spec.stdoutSink ? { stdoutBytes } : {}),
      stderr,
      timeMs: Math.round(usage.cpuMs),
      wallMs: Math.round(wallMs),
      memoryMb: Math.round((usage.peakMemoryBytes / (1024 * 1024)) * 10) / 10,
      memoryLimitHit: usage.memoryLimitHit,
    };
    // The cell reports whether the sandbox was set up (a program exiting 125 or 1 is the program's
    // business, not an internal error).
    if (setupError !== undefined) {
      return { ...outcome, status: 'internal-error', message: `sandbox could not start (exit ${exitCode}): ${setupError.slice(0, 300)}` };
    }
    // PID 1 reports a child killed by signal N as exit status 128 + N.
    const signalNumber = exitCode > 128 && exitCode < 128 + 65 ? exitCode - 128 : null;
    const signalName = signalNumber ? ((SIGNALS[signalNumber] ?? `SIG${signalNumber}`) as NodeJS.Signals) : null;
    const outOfMemoryMessage = /MemoryError|std::bad_alloc|OutOfMemoryError|JavaScript heap out of memory|Cannot allocate memory/.test(
      stderr,
    );

    if (outputExceeded || signalName === 'SIGXFSZ')
      return { ...outcome, status: 'output-limit', signal: signalName, message: `output exceeded ${limits.outputLimitBytes} bytes` };
    if (wallExceeded)
      return { ...outcome, status: 'time-limit', signal: 'SIGKILL', message: `wall time limit ${limits.wallLimitMs} ms exceeded` };
    if (cpuExceeded || signalName === 'SIGXCPU' || outcome.timeMs > limits.timeLimitMs) {
      return { ...outcome, status: 'time-limit', signal: signalName, message: `CPU time limit ${limits.timeLimitMs} ms exceeded` };
    }
    const failed = outcome.exitCode !== 0;
    if (usage.oomKilled || (failed && usage.memoryLimitHit) || (failed && outOfMemoryMessage)) {
      return { ...outcome, status: 'memory-limit', signal: signalName, message: `memory limit ${limits.memoryLimitMb} MB exceeded` };
    }
    if (signalName) return { ...outcome, status: 'signaled', signal: signalName, exitCode: null };
    return outcome;
  } catch (error) {
    return {
      status: 'internal-error',
      exitCode: null,
      signal: null,
      stdout: '',
      stderr: '',
      timeMs: 0,
      wallMs: 0,
      memoryMb: 0,
      memoryLimitHit: false,
      message: `sandbox could not start: ${(error as Error).message.slice(0, 300)}`,
    };
  } finally {
    await accountingOf(cell, runGroup, current)
      .killAll()
      .catch(() => undefined);
    await runGroup?.remove().catch(() => undefined);
    released = true;
    pool.release(cell);
  }
}

function accountingOf(cell: SandboxCell, runGroup: RunCgroup | undefined, current: () => boolean): RunAccounting {
  if (runGroup) return runGroup;
  const group = cell.cgroup!;
  return {
    usage: async () => group.usage(),
    cpuMs: () => group.cpuMs(),
    // Every process in the cell's group but the cell itself is the run's (PID 1's death ends the namespace).
    killAll: () => group.killAllBut(cell.pid, current),
  };
}
