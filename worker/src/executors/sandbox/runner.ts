/**
 * Runs one command in a fresh sandbox: bubblewrap (no network, read-only system, private /tmp and
 * pid namespace) as an unprivileged uid, inside its own cgroup, under rlimits. Returns the facts of
 * the run; the caller decides what they mean.
 */
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { RunOutcome } from '../port';
import { CgroupVersion, RunCgroup } from './cgroup';

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
  /** Unique name of the run's cgroup. */
  name: string;
  /** Host directory seen as /box. */
  boxDir: string;
  /** Compiles write into /box; test runs see it read-only. */
  writableBox: boolean;
  command: string[];
  stdin: string;
  uid: number;
  limits: SandboxLimits;
  cgroupVersion: CgroupVersion;
}

export interface SandboxRunResult extends RunOutcome {
  /** The kernel charged memory up to the limit during the run. */
  memoryLimitHit: boolean;
}

const STDERR_LIMIT = 8 * 1024;
const CPU_POLL_MS = 50;
const TMPFS_BYTES = 16 * 1024 * 1024;
// Shell prologue: move this process into the run's cgroup(s), then exec the sandbox, so every
// descendant is accounted from its first instruction.
const JOIN_CGROUP = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; exec "$@"';

const SIGNALS = Object.fromEntries(Object.entries(osConstants.signals).map(([name, num]) => [num, name])) as Record<number, string>;

export function bwrapArgs(spec: Pick<SandboxRunSpec, 'boxDir' | 'writableBox'>): string[] {
  return [
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    '--hostname', 'sandbox',
    '--ro-bind', '/usr', '/usr',
    '--symlink', 'usr/lib', '/lib',
    '--symlink', 'usr/lib64', '/lib64',
    '--symlink', 'usr/bin', '/bin',
    '--symlink', 'usr/sbin', '/sbin',
    '--ro-bind', '/etc/ld.so.cache', '/etc/ld.so.cache',
    '--ro-bind-try', '/etc/alternatives', '/etc/alternatives',
    '--ro-bind-try', '/etc/java-17-openjdk', '/etc/java-17-openjdk',
    '--proc', '/proc',
    '--dev', '/dev',
    '--size', String(TMPFS_BYTES), '--tmpfs', '/tmp',
    spec.writableBox ? '--bind' : '--ro-bind', spec.boxDir, '/box',
    '--chdir', '/box',
    '--clearenv',
    '--setenv', 'PATH', '/usr/bin:/bin',
    '--setenv', 'HOME', '/tmp',
    '--setenv', 'LANG', 'C.UTF-8',
    // Everything but /box (when compiling) and /tmp becomes read-only, including bwrap's own root.
    '--remount-ro', '/',
  ];
}

export async function runInSandbox(spec: SandboxRunSpec): Promise<SandboxRunResult> {
  const { limits } = spec;
  const memoryBytes = (limits.memoryLimitMb + limits.memoryHeadroomMb) * 1024 * 1024;
  const cgroup = await RunCgroup.create(spec.cgroupVersion, spec.name, { memoryBytes, pids: limits.pids });
  try {
    const cpuSeconds = Math.ceil(limits.timeLimitMs / 1000) + 1;
    const files = cgroup.procsFiles;
    const args = [
      '-c', JOIN_CGROUP, 'sh', String(files.length), ...files,
      '/usr/bin/prlimit',
      `--cpu=${cpuSeconds}:${cpuSeconds + 1}`,
      `--fsize=${TMPFS_BYTES}`,
      '--nofile=64',
      // The pids cgroup is the real fork limit; RLIMIT_NPROC also counts the slot uid's zombies
      // from earlier runs that PID 1 has not reaped yet, so it gets a wide margin.
      `--nproc=${limits.pids + 256}`,
      `--stack=${Math.max(8, limits.memoryLimitMb) * 1024 * 1024}`,
      '--core=0',
      '--',
      '/usr/bin/setpriv', `--reuid=${spec.uid}`, `--regid=${spec.uid}`, '--clear-groups', '--',
      '/usr/bin/bwrap', ...bwrapArgs(spec), '--', ...spec.command,
    ];
    const started = process.hrtime.bigint();
    const child = spawn('/bin/sh', args, { stdio: ['pipe', 'pipe', 'pipe'] });

    let stdoutBytes = 0;
    const stdout: Buffer[] = [];
    let stderr = '';
    let outputExceeded = false;
    let wallExceeded = false;

    const killGroup = () => void cgroup.killAll();
    child.stdout.on('data', (chunk: Buffer) => {
      if (outputExceeded) return;
      stdoutBytes += chunk.length;
      if (stdoutBytes > limits.outputLimitBytes) {
        outputExceeded = true;
        killGroup();
        return;
      }
      stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < STDERR_LIMIT) stderr += chunk.toString('utf8').slice(0, STDERR_LIMIT - stderr.length);
    });
    child.stdin.on('error', () => undefined); // the program may exit without reading its input
    child.stdin.end(spec.stdin);

    const wallTimer = setTimeout(() => {
      wallExceeded = true;
      killGroup();
    }, limits.wallLimitMs);
    // RLIMIT_CPU has one-second granularity and counts each process alone; the cgroup's total is
    // exact, so a watchdog stops the whole run shortly after the limit.
    let cpuExceeded = false;
    const cpuWatch = setInterval(() => {
      void cgroup.cpuMs().then((ms) => {
        if (ms > limits.timeLimitMs && !cpuExceeded) {
          cpuExceeded = true;
          killGroup();
        }
      });
    }, CPU_POLL_MS);

    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    clearTimeout(wallTimer);
    clearInterval(cpuWatch);
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    const usage = await cgroup.usage();
    await cgroup.killAll();

    const outcome: SandboxRunResult = {
      status: 'exited',
      exitCode: exit.code,
      signal: null,
      stdout: Buffer.concat(stdout).toString('utf8'),
      stderr,
      timeMs: Math.round(usage.cpuMs),
      wallMs: Math.round(wallMs),
      memoryMb: Math.round((usage.peakMemoryBytes / (1024 * 1024)) * 10) / 10,
      memoryLimitHit: usage.memoryLimitHit,
    };
    if (exit.code === 125) {
      return { ...outcome, status: 'internal-error', message: `sandbox could not start: ${stderr.trim().slice(0, 300)}` };
    }
    // bwrap reports a child killed by signal N as exit status 128 + N.
    const signalNumber = exit.code !== null && exit.code > 128 && exit.code < 128 + 65 ? exit.code - 128 : null;
    const signalName = signalNumber ? (SIGNALS[signalNumber] ?? `SIG${signalNumber}`) : exit.signal;
    const outOfMemoryMessage = /MemoryError|std::bad_alloc|OutOfMemoryError|JavaScript heap out of memory|Cannot allocate memory/.test(stderr);

    if (outputExceeded || signalName === 'SIGXFSZ') return { ...outcome, status: 'output-limit', signal: signalName, message: `output exceeded ${limits.outputLimitBytes} bytes` };
    if (wallExceeded) return { ...outcome, status: 'time-limit', signal: 'SIGKILL', message: `wall time limit ${limits.wallLimitMs} ms exceeded` };
    if (cpuExceeded || signalName === 'SIGXCPU' || outcome.timeMs > limits.timeLimitMs) {
      return { ...outcome, status: 'time-limit', signal: signalName, message: `CPU time limit ${limits.timeLimitMs} ms exceeded` };
    }
    const failed = outcome.exitCode !== 0;
    if (usage.oomKilled || (failed && usage.memoryLimitHit) || (failed && outOfMemoryMessage)) {
      return { ...outcome, status: 'memory-limit', signal: signalName, message: `memory limit ${limits.memoryLimitMb} MB exceeded` };
    }
    if (signalName) return { ...outcome, status: 'signaled', signal: signalName, exitCode: null };
    return outcome;
  } finally {
    await cgroup.killAll().catch(() => undefined);
    await cgroup.remove().catch(() => undefined);
  }
}
