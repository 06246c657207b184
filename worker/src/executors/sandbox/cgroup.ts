/**
 * cgroups for sandboxed runs: memory and pids limits in, CPU time and peak memory out.
 * Both hierarchies are supported, detected once: v1 (separate memory, pids, cpuacct trees; this
 * machine) and v2 (one unified tree). A run's wait status carries neither figure (it describes PID 1 of
 * the run's namespace, not the program and its children), so CPU time and peak memory come from the cgroup.
 * On v1 that is the sandbox cell's own group, reused (CellCgroup); on v2 a fresh group per run (RunCgroup).
 */
import { promises as fsp, existsSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = '/sys/fs/cgroup';
const PARENT = 'grading-sandbox';

export type CgroupVersion = 'v1' | 'v2';

export interface CgroupLimits {
  memoryBytes: number;
  pids: number;
}

export interface CgroupUsage {
  cpuMs: number;
  peakMemoryBytes: number;
  /** The kernel refused or reclaimed memory at the limit (OOM kill or failed charge). */
  memoryLimitHit: boolean;
  oomKilled: boolean;
}

export class CgroupUnavailableError extends Error {
  constructor(message: string) {
    super(
      `${message}. The local sandbox needs a writable cgroup memory and pids controller: run the worker as root (or in a container with a delegated cgroup), or use EXECUTOR=judge0.`,
    );
    this.name = 'CgroupUnavailableError';
  }
}

export function detectCgroupVersion(): CgroupVersion {
  if (existsSync(path.join(ROOT, 'cgroup.controllers'))) return 'v2';
  if (existsSync(path.join(ROOT, 'memory', 'memory.limit_in_bytes')) && existsSync(path.join(ROOT, 'pids'))) return 'v1';
  throw new CgroupUnavailableError('no cgroup v2 unified hierarchy and no cgroup v1 memory+pids controllers under /sys/fs/cgroup');
}

/** Creates the parent group(s) once and checks the controllers the sandbox needs. */
export async function prepareCgroups(version: CgroupVersion): Promise<void> {
  try {
    if (version === 'v1') {
      for (const controller of ['memory', 'pids', 'cpuacct']) await fsp.mkdir(path.join(ROOT, controller, PARENT), { recursive: true });
      // Without hierarchical accounting a child's usage would not count against its limit.
      const useHierarchy = path.join(ROOT, 'memory', PARENT, 'memory.use_hierarchy');
      if (existsSync(useHierarchy) && readFileSync(useHierarchy, 'utf8').trim() !== '1')
        await fsp.writeFile(useHierarchy, '1').catch(() => undefined);
    } else {
      const controllers = readFileSync(path.join(ROOT, 'cgroup.controllers'), 'utf8');
      for (const needed of ['memory', 'pids', 'cpu'])
        if (!controllers.includes(needed)) throw new CgroupUnavailableError(`cgroup v2 controller "${needed}" is not available`);
      await fsp.mkdir(path.join(ROOT, PARENT), { recursive: true });
      await fsp.writeFile(path.join(ROOT, 'cgroup.subtree_control'), '+memory +pids +cpu').catch(() => undefined);
      await fsp.writeFile(path.join(ROOT, PARENT, 'cgroup.subtree_control'), '+memory +pids +cpu');
    }
  } catch (error) {
    if (error instanceof CgroupUnavailableError) throw error;
    throw new CgroupUnavailableError(`cannot create cgroups under ${ROOT} (${(error as Error).message})`);
  }
}

export class RunCgroup {
  private constructor(
    private readonly version: CgroupVersion,
    /** Directories of this run's group, one per v1 controller or the single v2 group. */
    private readonly dirs: { memory: string; pids: string; cpu: string },
  ) {}

  static async create(version: CgroupVersion, name: string, limits: CgroupLimits): Promise<RunCgroup> {
    const dirs =
      version === 'v1'
        ? {
            memory: path.join(ROOT, 'memory', PARENT, name),
            pids: path.join(ROOT, 'pids', PARENT, name),
            cpu: path.join(ROOT, 'cpuacct', PARENT, name),
          }
        : { memory: path.join(ROOT, PARENT, name), pids: path.join(ROOT, PARENT, name), cpu: path.join(ROOT, PARENT, name) };
    for (const dir of new Set(Object.values(dirs))) await fsp.mkdir(dir);
    const group = new RunCgroup(version, dirs);
    const bytes = String(limits.memoryBytes);
    if (version === 'v1') {
      await fsp.writeFile(path.join(dirs.memory, 'memory.limit_in_bytes'), bytes);
      // No swapping around the limit (memsw exists only with swap accounting).
      await fsp.writeFile(path.join(dirs.memory, 'memory.memsw.limit_in_bytes'), bytes).catch(() => undefined);
      await fsp.writeFile(path.join(dirs.memory, 'memory.swappiness'), '0').catch(() => undefined);
    } else {
      await fsp.writeFile(path.join(dirs.memory, 'memory.max'), bytes);
      await fsp.writeFile(path.join(dirs.memory, 'memory.swap.max'), '0').catch(() => undefined);
    }
    await fsp.writeFile(path.join(dirs.pids, 'pids.max'), String(limits.pids));
    return group;
  }

  /** The group's directory (v2: the one group; v1: the pids controller's). */
  get dir(): string {
    return this.dirs.pids;
  }

  /** The cgroup.procs files a process writes its pid to, to join this group before exec. */
  get procsFiles(): string[] {
    return [...new Set(Object.values(this.dirs))].map((dir) => path.join(dir, 'cgroup.procs'));
  }

  async usage(): Promise<CgroupUsage> {
    if (this.version === 'v1') {
      const [cpuNs, peak, failcnt, oomControl] = await Promise.all([
        readNumber(path.join(this.dirs.cpu, 'cpuacct.usage')),
        readNumber(path.join(this.dirs.memory, 'memory.max_usage_in_bytes')),
        readNumber(path.join(this.dirs.memory, 'memory.failcnt')),
        fsp.readFile(path.join(this.dirs.memory, 'memory.oom_control'), 'utf8').catch(() => ''),
      ]);
      const oomKills = Number(/oom_kill (\d+)/.exec(oomControl)?.[1] ?? 0);
      return { cpuMs: cpuNs / 1e6, peakMemoryBytes: peak, memoryLimitHit: failcnt > 0 || oomKills > 0, oomKilled: oomKills > 0 };
    }
    const [cpuStat, peak, events] = await Promise.all([
      fsp.readFile(path.join(this.dirs.cpu, 'cpu.stat'), 'utf8'),
      readNumber(path.join(this.dirs.memory, 'memory.peak')),
      fsp.readFile(path.join(this.dirs.memory, 'memory.events'), 'utf8'),
    ]);
    const usec = Number(/usage_usec (\d+)/.exec(cpuStat)?.[1] ?? 0);
    const oomKills = Number(/oom_kill (\d+)/.exec(events)?.[1] ?? 0);
    const maxEvents = Number(/^max (\d+)/m.exec(events)?.[1] ?? 0);
    return { cpuMs: usec / 1000, peakMemoryBytes: peak, memoryLimitHit: maxEvents > 0 || oomKills > 0, oomKilled: oomKills > 0 };
  }

  /** CPU time so far, ms (cheap: one file read), for the watchdog that stops a run at its limit. */
  async cpuMs(): Promise<number> {
    if (this.version === 'v1') return (await readNumber(path.join(this.dirs.cpu, 'cpuacct.usage'))) / 1e6;
    const stat = await fsp.readFile(path.join(this.dirs.cpu, 'cpu.stat'), 'utf8').catch(() => '');
    return Number(/usage_usec (\d+)/.exec(stat)?.[1] ?? 0) / 1000;
  }

  /** SIGKILLs everything in the group until it is empty (a fork bomb may race us). */
  async killAll(): Promise<void> {
    if (this.version === 'v2') {
      await fsp.writeFile(path.join(this.dirs.pids, 'cgroup.kill'), '1').catch(() => undefined);
    }
    for (let round = 0; round < 50; round++) {
      const pids = await this.pids();
      if (pids.length === 0) return;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await new Promise((r) => setTimeout(r, round < 5 ? 2 : 20));
    }
  }

  async pids(): Promise<number[]> {
    const text = await fsp.readFile(path.join(this.dirs.pids, 'cgroup.procs'), 'utf8').catch(() => '');
    return text.split('\n').filter(Boolean).map(Number);
  }

  /** Removes the group; a killed namespace's init may linger briefly, so retry. */
  async remove(): Promise<void> {
    for (const dir of new Set(Object.values(this.dirs))) {
      for (let attempt = 0; attempt < 100; attempt++) {
        try {
          await fsp.rmdir(dir);
          break;
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (attempt === 99) throw error;
          await this.killAll();
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    }
  }
}

async function readNumber(file: string): Promise<number> {
  const text = await fsp.readFile(file, 'utf8').catch(() => '0');
  return Number(text.trim()) || 0;
}

/**
 * cgroup v1: the group a sandbox cell (cell.ts) lives in, reused run after run. The cell's helper
 * joined it once; every run is forked inside it, so no run pays for moving a process between groups
 * (on v1 each move waits for an RCU grace period: 4-25 ms here). Before each run the limits are set
 * and the counters zeroed; what the group already held (the helper, cached pages) is the baseline,
 * taken off the reported peak; the part of it that cannot be reclaimed is added to the memory limit.
 */
export class CellCgroup {
  private baselineBytes = 0;
  private pinnedBytes = 0;
  private oomKillsBefore = 0;

  private constructor(private readonly dirs: { memory: string; pids: string; cpu: string }) {}

  /** cgroup.procs files a process writes its pid to, to join the group. */
  get procsFiles(): string[] {
    return [...new Set(Object.values(this.dirs))].map((dir) => path.join(dir, 'cgroup.procs'));
  }

  /** Memory the group held when the current run started. */
  get baseline(): number {
    return this.baselineBytes;
  }

  static async create(name: string): Promise<CellCgroup> {
    const dirs = {
      memory: path.join(ROOT, 'memory', PARENT, name),
      pids: path.join(ROOT, 'pids', PARENT, name),
      cpu: path.join(ROOT, 'cpuacct', PARENT, name),
    };
    for (const dir of Object.values(dirs)) await fsp.mkdir(dir);
    await fsp.writeFile(path.join(dirs.memory, 'memory.swappiness'), '0').catch(() => undefined);
    return new CellCgroup(dirs);
  }

  /**
   * Limits for the next run, counters zeroed; `extraPids` are the cell's own processes. Synchronous on
   * purpose: a handful of sysfs writes take microseconds, a round trip through the thread pool far more.
   */
  reset(limits: CgroupLimits, extraPids: number): void {
    const memory = (file: string) => path.join(this.dirs.memory, file);
    this.baselineBytes = readNumberSync(memory('memory.usage_in_bytes'));
    this.oomKillsBefore = oomKills(readTextSync(memory('memory.oom_control')));
    // Page cache in the baseline is reclaimable: a program could grow into it, so only the rest (the
    // cell itself, tmpfs files of the job) is added to the limit, unless the limit could not even hold it.
    const stat = readTextSync(memory('memory.stat'));
    const fileCache = ['active_file', 'inactive_file'].reduce(
      (sum, key) => sum + Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(stat)?.[1] ?? 0),
      0,
    );
    const pinned = fileCache <= limits.memoryBytes ? Math.max(0, this.baselineBytes - fileCache) : this.baselineBytes;
    this.pinnedBytes = pinned;
    const bytes = String(limits.memoryBytes + pinned);
    // memsw (memory + swap) may never be below the memory limit: lift it, set memory, then lower it.
    const memsw = memory('memory.memsw.limit_in_bytes');
    const swapAccounting = existsSync(memsw);
    if (swapAccounting) writeFileSync(memsw, '-1');
    writeFileSync(memory('memory.limit_in_bytes'), bytes);
    if (swapAccounting) writeFileSync(memsw, bytes);
    writeFileSync(memory('memory.max_usage_in_bytes'), '0');
    writeFileSync(memory('memory.failcnt'), '0');
    writeFileSync(path.join(this.dirs.pids, 'pids.max'), String(limits.pids + extraPids));
    writeFileSync(path.join(this.dirs.cpu, 'cpuacct.usage'), '0');
  }

  /** The run's figures (synchronous, as reset). */
  usage(): CgroupUsage {
    const cpuNs = readNumberSync(path.join(this.dirs.cpu, 'cpuacct.usage'));
    const peak = readNumberSync(path.join(this.dirs.memory, 'memory.max_usage_in_bytes'));
    const failcnt = readNumberSync(path.join(this.dirs.memory, 'memory.failcnt'));
    const kills = oomKills(readTextSync(path.join(this.dirs.memory, 'memory.oom_control'))) - this.oomKillsBefore;
    const limitHit = failcnt > 0 || kills > 0;
    // A run that hit the limit made the kernel reclaim the baseline's page cache first: its peak is then
    // all its own but the pinned part. Otherwise the cache may still be there, so the whole baseline comes off.
    const held = limitHit ? this.pinnedBytes : this.baselineBytes;
    return {
      cpuMs: cpuNs / 1e6,
      peakMemoryBytes: Math.max(0, peak - held),
      memoryLimitHit: limitHit,
      oomKilled: kills > 0,
    };
  }

  async cpuMs(): Promise<number> {
    return (await readNumber(path.join(this.dirs.cpu, 'cpuacct.usage'))) / 1e6;
  }

  /**
   * SIGKILLs every process of the group but `keep` (the cell's helper) until none is left, for as long
   * as `current()` says the run that asked is still the group's (a late sweep must not hit the next run).
   */
  async killAllBut(keep: number, current: () => boolean = () => true): Promise<void> {
    for (let round = 0; round < 50 && current(); round++) {
      const text = readTextSync(path.join(this.dirs.pids, 'cgroup.procs'));
      const pids = text
        .split('\n')
        .filter(Boolean)
        .map(Number)
        .filter((pid) => pid !== keep);
      if (pids.length === 0) return;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await new Promise((r) => setTimeout(r, round < 5 ? 2 : 20));
    }
  }

  /** Removes the group once its processes are gone (retries while they exit). */
  async remove(): Promise<void> {
    for (const dir of Object.values(this.dirs)) {
      for (let attempt = 0; attempt < 100; attempt++) {
        try {
          await fsp.rmdir(dir);
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT' || attempt === 99) break;
          await this.killAllBut(-1);
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    }
  }

  /** At process exit, after the cell was killed: retries briefly while it dies (a zombie does not count). */
  removeSync(): void {
    removeDirsSync(Object.values(this.dirs));
  }
}

function oomKills(oomControl: string): number {
  return Number(/oom_kill (\d+)/.exec(oomControl)?.[1] ?? 0);
}

/** Cell groups (`cell-<pid>-...`) whose worker process is gone, with anything still in them. */
export async function removeStaleCellCgroups(version: CgroupVersion, isAlive: (pid: number) => boolean): Promise<void> {
  const parents = version === 'v1' ? ['memory', 'pids', 'cpuacct'].map((c) => path.join(ROOT, c, PARENT)) : [path.join(ROOT, PARENT)];
  for (const parent of parents) {
    for (const name of await fsp.readdir(parent).catch(() => [] as string[])) {
      const owner = /^cell-(\d+)-/.exec(name);
      if (!owner || isAlive(Number(owner[1]))) continue;
      const dir = path.join(parent, name);
      const procs = await fsp.readFile(path.join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
      for (const pid of procs.split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone
        }
      }
      await fsp.rmdir(dir).catch(() => undefined);
    }
  }
}

function readTextSync(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function readNumberSync(file: string): number {
  return Number(readTextSync(file).trim()) || 0;
}

/** Synchronous rmdir with retries for up to ~200 ms; what stays is removed as stale by the next worker. */
export function removeDirsSync(dirs: string[]): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (const dir of dirs) {
    for (let attempt = 0; attempt < 100; attempt++) {
      try {
        rmdirSync(dir);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EBUSY') break;
        Atomics.wait(pause, 0, 0, 2);
      }
    }
  }
}
