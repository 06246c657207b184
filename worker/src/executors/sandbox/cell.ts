/**
 * Sandbox cells: long-lived native helpers (cellSource.ts, built with gcc at first use and cached
 * next to the seccomp filter) that start runs. A cell runs as root with an empty environment, lives
 * in a cgroup of its own (v1: reused by every run it starts; v2: runs are cloned straight into their
 * own fresh group), and per run clones PID 1 of fresh mount, pid, IPC, UTS and cgroup namespaces,
 * which builds the root file system and starts the program as the run's uid under rlimits and the
 * seccomp filter. The network namespace is the cell's own, empty, made once: nothing in it outlives a
 * run's processes and a cell's runs never overlap. One process does in a fork what a chain of bash,
 * prlimit, bwrap and setpriv did in four execs and a cgroup move.
 *
 * Protocol (fd 0 in, fd 1 out, one line per reply). The cell makes each run's stdin, stdout and stderr
 * pipes ahead and announces them, "P <stdin fd> <stdout fd> <stderr fd>"; the worker opens its ends
 * through /proc/<cell>/fd, then sends the request, "<bytes>\n" and NUL-terminated fields. The cell
 * answers "X <status> ok" (or "X <status> E <why the sandbox could not be set up>") once PID 1, and
 * with it every process of the run, is gone, and the next run's "P" in the same write: one wake-up of
 * the worker per run. "M <bytes>\n" / "U <bytes>\n" requests mount and unmount a job directory's tmpfs
 * (answer "K ok" or "K E <why>"), sparing the worker an exec of mount(8) and umount(8) per job.
 */
import { ChildProcessByStdio, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, constants as fsConstants, promises as fsp, openSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { CellCgroup, CgroupLimits, CgroupVersion, removeDirsSync, removeStaleCellCgroups } from './cgroup';
import { CELL_SOURCE } from './cellSource';

const GCC = '/usr/bin/gcc';
const V2_PARENT = '/sys/fs/cgroup/grading-sandbox';
/** A cell whose group holds more than this before a run (page cache charged to it) is replaced. */
const MAX_BASELINE_BYTES = 32 * 1024 * 1024;

export interface CellRequest {
  uid: number;
  boxDir: string;
  writableBox: boolean;
  rlimits: { cpuSoft: number; cpuHard: number; fsize: number; nofile: number; nproc: number; stack: number };
  tmpBytes: number;
  /** cgroup v2: the run's own group, created by the caller. */
  cgroupDir?: string;
  command: string[];
}

export interface CellRun {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Exit status of PID 1 (the program's, or 128 + N for signal N) and why the sandbox failed, if it did. */
  end: Promise<{ status: number; setupError?: string }>;
}

/** Compiles the helper once per source and compiler, into cacheDir (root-only). */
export async function ensureCellHelper(cacheDir: string): Promise<string> {
  const key = createHash('sha256').update(CELL_SOURCE).update(process.arch).digest('hex').slice(0, 16);
  await fsp.mkdir(cacheDir, { recursive: true, mode: 0o700 });
  const file = path.join(cacheDir, `cell-${process.arch}-${key}`);
  if ((await fsp.stat(file).catch(() => undefined))?.isFile()) return file;
  const temp = `${file}.${process.pid}.tmp`;
  await new Promise<void>((resolve, reject) => {
    const child = execFile(
      GCC,
      ['-O2', '-Wall', '-o', temp, '-x', 'c', '-'],
      { env: { PATH: '/usr/bin:/bin' }, timeout: 60_000 },
      (error, _out, stderr) =>
        error
          ? reject(new Error(`cannot build the sandbox helper with ${GCC} (apt-get install -y gcc): ${stderr.trim() || error.message}`))
          : resolve(),
    );
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(CELL_SOURCE);
  });
  await fsp.chmod(temp, 0o700);
  await fsp.rename(temp, file);
  return file;
}

let cellCount = 0;

export class SandboxCell {
  private replies: string[] = [];
  private waiters: Array<(line: string) => void> = [];
  private buffered = '';
  private dead = false;
  private broken = false;
  private stderrTail = '';
  /** The cell's fds of the next run's pipes: stdin's write end, stdout's and stderr's read ends. */
  private pipes?: [number, number, number];

  private constructor(
    private readonly child: ChildProcessByStdio<Writable, Readable, Readable>,
    readonly version: CgroupVersion,
    /** v1: the group every run of this cell is accounted in. */
    readonly cgroup: CellCgroup | undefined,
    private readonly v2Dir: string | undefined,
  ) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      this.buffered += text;
      for (let nl = this.buffered.indexOf('\n'); nl >= 0; nl = this.buffered.indexOf('\n')) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        const waiter = this.waiters.shift();
        if (this.waiters.length === 0) this.holdLoop(false);
        if (waiter) waiter(line);
        else this.replies.push(line);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-1000);
    });
    child.stdin.on('error', () => undefined);
    child.once('exit', () => {
      this.dead = true;
      for (const waiter of this.waiters.splice(0)) waiter(`E the sandbox helper exited ${this.stderrTail.trim()}`);
    });
    // An idle cell never keeps the worker alive; one that owes a reply does.
    this.holdLoop(false);
  }

  private holdLoop(hold: boolean): void {
    if (hold) this.child.ref();
    else this.child.unref();
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr] as unknown as net.Socket[]) {
      if (hold) stream.ref?.();
      else stream.unref?.();
    }
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Alive and in step with the worker (a cell that broke the protocol is never used again). */
  get alive(): boolean {
    return !this.dead && !this.broken;
  }

  static async create(helper: string, seccompFile: string, version: CgroupVersion): Promise<SandboxCell> {
    const name = `cell-${process.pid}-${++cellCount}-${Date.now().toString(36)}`;
    const cgroup = version === 'v1' ? await CellCgroup.create(name) : undefined;
    const v2Dir = version === 'v2' ? path.join(V2_PARENT, name) : undefined;
    if (v2Dir) await fsp.mkdir(v2Dir);
    // env {} and cwd /: nothing of the worker's reaches the cell or anything it starts.
    // The filter comes as fd 3: PID 1 of every run shares this command line, which its programs can read.
    const filterFd = openSync(seccompFile, 'r');
    let child: ChildProcessByStdio<Writable, Readable, Readable>;
    try {
      child = spawn(helper, [], {
        env: {},
        cwd: '/',
        argv0: 'sandbox-cell',
        stdio: ['pipe', 'pipe', 'pipe', filterFd],
      }) as ChildProcessByStdio<Writable, Readable, Readable>;
    } finally {
      closeSync(filterFd);
    }
    const cell = new SandboxCell(child, version, cgroup, v2Dir);
    try {
      const ready = await cell.nextReply();
      if (!cell.takePipes(ready)) throw new Error(`sandbox helper did not start: ${ready}`);
      // The one move between groups in the cell's life; every run is forked inside.
      const procs = cgroup ? cgroup.procsFiles : [path.join(v2Dir!, 'cgroup.procs')];
      for (const file of procs) await fsp.writeFile(file, String(cell.pid));
      return cell;
    } catch (error) {
      await cell.close();
      throw error;
    }
  }

  /** Prepares the v1 group for a run: limits in, counters zeroed. */
  reset(limits: CgroupLimits): void {
    // The cell's own process counts against pids.max; PID 1 of the run takes the place bwrap's took.
    this.cgroup?.reset(limits, 1);
  }

  /** Whether the group has collected enough of other runs' page cache that a fresh cell is better. */
  get worn(): boolean {
    return (this.cgroup?.baseline ?? 0) > MAX_BASELINE_BYTES;
  }

  private takePipes(line: string): boolean {
    const match = /^P (\d+) (\d+) (\d+)$/.exec(line);
    if (match) this.pipes = match.slice(1).map(Number) as [number, number, number];
    return Boolean(match);
  }

  start(request: CellRequest): CellRun {
    if (this.dead || !this.pipes) throw new Error(`the sandbox helper is gone ${this.stderrTail.trim()}`);
    const fields = [
      String(request.uid),
      request.boxDir,
      request.writableBox ? '1' : '0',
      ...[
        request.rlimits.cpuSoft,
        request.rlimits.cpuHard,
        request.rlimits.fsize,
        request.rlimits.nofile,
        request.rlimits.nproc,
        request.rlimits.stack,
      ].map(String),
      String(request.tmpBytes),
      request.cgroupDir ?? '',
      ...request.command,
    ];
    const [inFd, outFd, errFd] = this.pipes;
    this.pipes = undefined;
    // Opened before the request: the cell closes its copies of these ends when the request arrives.
    const open = (fd: number, flags: number) => openSync(`/proc/${this.pid}/fd/${fd}`, flags | fsConstants.O_NONBLOCK);
    const fds: number[] = [];
    try {
      fds.push(open(inFd, fsConstants.O_WRONLY), open(outFd, fsConstants.O_RDONLY), open(errFd, fsConstants.O_RDONLY));
    } catch (error) {
      fds.forEach((fd) => closeSync(fd));
      this.broken = true;
      throw error;
    }
    const stdin = new net.Socket({ fd: fds[0], readable: false, writable: true });
    const stdout = new net.Socket({ fd: fds[1], readable: true, writable: false });
    const stderr = new net.Socket({ fd: fds[2], readable: true, writable: false });
    const payload = Buffer.from(fields.map((f) => `${f}\0`).join(''));
    this.child.stdin.write(Buffer.concat([Buffer.from(`${payload.length}\n`), payload]));
    const end = this.nextReply().then(async (line) => {
      const match = /^X (\d+) (ok|E (.*))$/.exec(line);
      if (!match) throw new Error(`sandbox helper: ${line.replace(/^E /, '')}`);
      if (!this.takePipes(await this.nextReply())) throw new Error('sandbox helper: no pipes for the next run');
      return { status: Number(match[1]), ...(match[3] !== undefined ? { setupError: match[3] } : {}) };
    });
    end.catch(() => (this.broken = true));
    return { stdin, stdout, stderr, end };
  }

  /** Mounts a tmpfs on a job directory ('M', with its options) or unmounts it ('U'), in the worker's mount namespace. */
  async mountOp(op: 'M' | 'U', dir: string, options = ''): Promise<void> {
    if (!this.alive) throw new Error(`the sandbox helper is gone ${this.stderrTail.trim()}`);
    const payload = Buffer.from(op === 'M' ? `${dir}\0${options}\0` : `${dir}\0`);
    this.child.stdin.write(Buffer.concat([Buffer.from(`${op} ${payload.length}\n`), payload]));
    const line = await this.nextReply();
    if (line === 'K ok') return;
    if (!line.startsWith('K E ')) this.broken = true;
    throw new Error(line.replace(/^K E |^E /, ''));
  }

  private nextReply(): Promise<string> {
    const queued = this.replies.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.dead) return Promise.resolve(`E the sandbox helper exited ${this.stderrTail.trim()}`);
    this.holdLoop(true);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    if (!this.dead) {
      this.holdLoop(true);
      this.child.kill('SIGKILL');
      await new Promise<void>((resolve) => (this.dead ? resolve() : this.child.once('exit', () => resolve())));
    }
    await this.cgroup?.remove();
    if (this.v2Dir) await fsp.rmdir(this.v2Dir).catch(() => undefined);
  }

  closeSync(): void {
    if (!this.dead) this.child.kill('SIGKILL');
    this.cgroup?.removeSync();
    if (this.v2Dir) removeDirsSync([this.v2Dir]);
  }
}

/** Idle cells by helper and cgroup version; a run takes one (or starts one) and gives it back. */
export class CellPool {
  private readonly idle: SandboxCell[] = [];
  private readonly all = new Set<SandboxCell>();
  private helper?: Promise<string>;

  constructor(
    private readonly cacheDir: string,
    private readonly seccompFile: string,
    private readonly version: CgroupVersion,
  ) {}

  async acquire(): Promise<SandboxCell> {
    for (let cell = this.idle.pop(); cell; cell = this.idle.pop()) {
      if (cell.alive) return cell;
      this.all.delete(cell);
      await cell.close().catch(() => undefined);
    }
    this.helper ??= ensureCellHelper(this.cacheDir);
    this.helper.catch(() => (this.helper = undefined));
    const cell = await SandboxCell.create(await this.helper, this.seccompFile, this.version);
    this.all.add(cell);
    return cell;
  }

  /** Gives a cell back after its run (every process of the run is gone by then). */
  release(cell: SandboxCell): void {
    if (cell.alive && !cell.worn) {
      this.idle.push(cell);
      return;
    }
    this.all.delete(cell);
    void cell.close().catch(() => undefined);
  }

  /** Runs `work` with a cell of this pool, then gives it back. */
  async withCell<T>(work: (cell: SandboxCell) => Promise<T>): Promise<T> {
    const cell = await this.acquire();
    try {
      return await work(cell);
    } finally {
      this.release(cell);
    }
  }

  /** Stops the idle cells (busy ones stop when released). */
  async closeIdle(): Promise<void> {
    const cells = this.idle.splice(0);
    for (const cell of cells) this.all.delete(cell);
    await Promise.all(cells.map((cell) => cell.close().catch(() => undefined)));
  }

  closeSync(): void {
    for (const cell of this.all) cell.closeSync();
  }
}

const pools = new Map<string, CellPool>();

/** The pool for this seccomp filter and cgroup version (the helper is cached next to the filter). */
export function cellPool(seccompFile: string, version: CgroupVersion): CellPool {
  const key = `${version}:${seccompFile}`;
  let pool = pools.get(key);
  if (!pool) {
    if (pools.size === 0) process.once('exit', () => pools.forEach((p) => p.closeSync()));
    pool = new CellPool(path.dirname(seccompFile), seccompFile, version);
    pools.set(key, pool);
  }
  return pool;
}

/** Stops every idle cell of this process (an executor's close). */
export async function closeIdleCells(): Promise<void> {
  await Promise.all([...pools.values()].map((pool) => pool.closeIdle()));
}

/** Cells left by workers that died (their groups and helpers). */
export async function removeStaleCells(version: CgroupVersion): Promise<void> {
  await removeStaleCellCgroups(version, (pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  });
}
