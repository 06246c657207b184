/**
 * Runs one command in a fresh sandbox and returns the facts of the run; the caller decides what they
 * mean. The chain, started under an empty environment so nothing of the worker's is visible inside:
 *
 *   bash (closes inherited descriptors, joins the run's cgroup) -> prlimit -> bwrap (as root:
 *   namespaces, mounts, seccomp; its PID 1 stays root) -> setpriv (to the run's unprivileged uid,
 *   no capabilities, no new privileges) -> command
 *
 * bwrap reads its options from a pipe (--args), so no process's command line names a host path; the
 * box is a tmpfs of its own, so mountinfo names none either; /usr/local is hidden.
 */
import { ChildProcessByStdio, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import type { OutputSink, RunOutcome } from '../port';
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
  /** The program's input; or, for interaction, a function handed the program's stdin to write to and end. */
  stdin: string | ((stdin: Writable) => void);
  uid: number;
  limits: SandboxLimits;
  cgroupVersion: CgroupVersion;
  /** Compiled BPF program for bwrap --seccomp. */
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
// Shell prologue: close every descriptor the worker itself inherited without close-on-exec (above
// the chain's own 0-5), move this process into the run's cgroup(s), then exec the sandbox, so every
// descendant is accounted from its first instruction. bash, because dash cannot name fds above 9.
const PROLOGUE = [
  'for f in /proc/$$/fd/*; do n=${f##*/}; if [ "$n" -gt 5 ]; then eval "exec $n>&-"; fi; done',
  'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done',
  'exec "$@"',
].join('\n');
// Extra descriptors of the chain: bwrap's options, the seccomp program, bwrap's status reports.
const ARGS_FD = 3;
const SECCOMP_FD = 4;
const STATUS_FD = 5;

const SIGNALS = Object.fromEntries(Object.entries(osConstants.signals).map(([name, num]) => [num, name])) as Record<number, string>;

/** bwrap's options (read from a pipe, so they appear in no command line). bwrap runs as root. */
export function bwrapArgs(spec: Pick<SandboxRunSpec, 'boxDir' | 'writableBox'>): string[] {
  return [
    // Every namespace but the user one: bwrap and the sandbox's PID 1 stay real root, so the
    // program (another uid) can neither read their memory or environment nor signal them.
    '--unshare-ipc', '--unshare-pid', '--unshare-net', '--unshare-uts', '--unshare-cgroup',
    '--die-with-parent',
    '--new-session',
    '--hostname', 'sandbox',
    // Only what setpriv needs to drop to the run's uid; setpriv then clears every capability.
    '--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID', '--cap-add', 'CAP_SETPCAP',
    '--ro-bind', '/usr', '/usr',
    // Local installs (CUDA, cloud tools, the worker's own runtime) are not the judge's business.
    '--tmpfs', '/usr/local', '--remount-ro', '/usr/local',
    '--symlink', 'usr/lib', '/lib',
    '--symlink', 'usr/lib64', '/lib64',
    '--symlink', 'usr/bin', '/bin',
    '--symlink', 'usr/sbin', '/sbin',
    // bwrap (as root) would create /etc for the binds below as 0700, unreadable to the program.
    '--perms', '0755', '--dir', '/etc',
    '--ro-bind', '/etc/ld.so.cache', '/etc/ld.so.cache',
    '--ro-bind-try', '/etc/alternatives', '/etc/alternatives',
    '--ro-bind-try', '/etc/java-17-openjdk', '/etc/java-17-openjdk',
    '--proc', '/proc',
    '--dev', '/dev',
    '--perms', '1777', '--size', String(TMPFS_BYTES), '--tmpfs', '/tmp',
    spec.writableBox ? '--bind' : '--ro-bind', spec.boxDir, '/box',
    '--chdir', '/box',
    '--clearenv',
    '--setenv', 'PATH', '/usr/bin:/bin',
    '--setenv', 'HOME', '/tmp',
    '--setenv', 'LANG', 'C.UTF-8',
    // Everything but /box (when compiling) and /tmp becomes read-only, including bwrap's own root.
    '--remount-ro', '/',
    '--seccomp', String(SECCOMP_FD),
    '--json-status-fd', String(STATUS_FD),
  ];
}

/** Drops from root to the run's uid inside the sandbox, keeping nothing. */
export function setprivArgs(uid: number): string[] {
  return [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs'];
}

export async function runInSandbox(spec: SandboxRunSpec): Promise<SandboxRunResult> {
  const { limits } = spec;
  const memoryBytes = (limits.memoryLimitMb + limits.memoryHeadroomMb) * 1024 * 1024;
  const cgroup = await RunCgroup.create(spec.cgroupVersion, spec.name, { memoryBytes, pids: limits.pids });
  try {
    const cpuSeconds = Math.ceil(limits.timeLimitMs / 1000) + 1;
    const files = cgroup.procsFiles;
    const args = [
      // --norc: bash would read root's .bashrc when its stdin is a socket (as Node's pipes are).
      '--norc', '--noprofile', '-c', PROLOGUE, 'sandbox', String(files.length), ...files,
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
      '/usr/bin/bwrap', '--args', String(ARGS_FD), '--',
      '/usr/bin/setpriv', ...setprivArgs(spec.uid), '--',
      ...spec.command,
    ];
    const started = process.hrtime.bigint();
    const seccompFd = openSync(spec.seccompFile, 'r');
    // env {}: the worker's environment (database and queue passwords, cloud keys) never enters the
    // chain; cwd /: nor does the worker's directory (bash would export it as PWD).
    const child = spawn('/bin/bash', args, { env: {}, cwd: '/', stdio: ['pipe', 'pipe', 'pipe', 'pipe', seccompFd, 'pipe'] }) as ChildProcessByStdio<Writable, Readable, Readable>;
    closeSync(seccompFd);
    const optionsPipe = child.stdio[ARGS_FD] as Writable;
    optionsPipe.on('error', () => undefined);
    optionsPipe.end(Buffer.from(bwrapArgs(spec).map((a) => `${a}\0`).join('')));
    let status = '';
    (child.stdio[STATUS_FD as number] as Readable).on('data', (chunk: Buffer) => {
      if (status.length < 4096) status += chunk.toString('utf8');
    });

    let stdoutBytes = 0;
    const stdout: Buffer[] = [];
    let prefixBytes = 0;
    let stderr = '';
    let outputExceeded = false;
    let wallExceeded = false;

    const killGroup = () => void cgroup.killAll();
    spec.abort?.addEventListener('abort', killGroup, { once: true });
    if (spec.abort?.aborted) killGroup();
    child.stdout.on('data', (chunk: Buffer) => {
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
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < STDERR_LIMIT) stderr += chunk.toString('utf8').slice(0, STDERR_LIMIT - stderr.length);
    });
    child.stdin.on('error', () => undefined); // the program may exit without reading its input
    if (typeof spec.stdin === 'string') child.stdin.end(spec.stdin);
    else spec.stdin(child.stdin);
    child.stdout.once('end', () => spec.stdoutSink?.end?.());

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
      ...(spec.stdoutSink ? { stdoutBytes } : {}),
      stderr,
      timeMs: Math.round(usage.cpuMs),
      wallMs: Math.round(wallMs),
      memoryMb: Math.round((usage.peakMemoryBytes / (1024 * 1024)) * 10) / 10,
      memoryLimitHit: usage.memoryLimitHit,
    };
    // bwrap reports the child's pid once it started it: without that, the sandbox itself failed
    // (a program exiting 125 or 1 is the program's business, not an internal error).
    if (!status.includes('"child-pid"')) {
      return { ...outcome, status: 'internal-error', message: `sandbox could not start (exit ${exit.code}): ${stderr.trim().slice(0, 300)}` };
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
