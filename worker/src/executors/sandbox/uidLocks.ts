/**
 * Host-wide locks on sandbox uids, the way isolate locks its boxes: a run holds its uid's lock file
 * from before the first process starts until the last one is gone, so two workers on one host (or two
 * executors in one process) never run programs as the same uid, which could then signal, trace or
 * share RLIMIT_NPROC with each other.
 *
 * A lock is a file created with O_EXCL in a root-only directory, holding "pid starttime" of its owner,
 * and kept open while held. A lock whose owner is gone (the pid is dead, or reused by a process that
 * started at another time) is stale: it is broken under a second O_EXCL lock (a directory), so two
 * processes cannot both break it and then both take it.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmdirSync, statSync, unlinkSync, writeSync } from 'node:fs';
import * as path from 'node:path';

const BREAKER_STALE_MS = 10_000;

export interface UidLease {
  uid: number;
  release(): void;
}

export class UidLocks {
  private readonly owner: string;

  constructor(
    readonly dir: string,
    private readonly uids: number[],
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.owner = `${process.pid} ${startTimeOf(process.pid)}\n`;
  }

  lockFile(uid: number): string {
    return path.join(this.dir, `uid-${uid}.lock`);
  }

  /** Takes the first free uid; waits (polling) while every uid of the range is held elsewhere. */
  async acquire(signal?: AbortSignal): Promise<UidLease> {
    for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
      for (const uid of this.uids) {
        const lease = this.tryLock(uid);
        if (lease) return lease;
      }
      signal?.throwIfAborted();
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  tryLock(uid: number): UidLease | undefined {
    const file = this.lockFile(uid);
    for (let attempt = 0; attempt < 2; attempt++) {
      let fd: number;
      try {
        fd = openSync(file, 'wx', 0o600);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (!this.breakIfStale(file)) return undefined;
        continue;
      }
      writeSync(fd, this.owner);
      let released = false;
      return {
        uid,
        release: () => {
          if (released) return;
          released = true;
          try {
            unlinkSync(file);
          } finally {
            closeSync(fd);
          }
        },
      };
    }
    return undefined;
  }

  /** Removes the lock if its owner is gone; true when it was (or no longer exists). */
  private breakIfStale(file: string): boolean {
    const holder = readOrUndefined(file);
    if (holder === undefined) return true;
    // An empty file is being written by its owner right now, unless that owner died doing so long ago.
    const emptyAndOld = holder === '' && Date.now() - (statOrUndefined(file)?.mtimeMs ?? Date.now()) > BREAKER_STALE_MS;
    if ((holder === '' && !emptyAndOld) || (holder !== '' && isAlive(holder))) return false;
    const breaker = `${file}.break`;
    try {
      mkdirSync(breaker, { mode: 0o700 });
    } catch {
      // Someone else is breaking it (or died doing so long ago: clear that and try next time).
      const age = Date.now() - (statOrUndefined(breaker)?.mtimeMs ?? Date.now());
      if (age > BREAKER_STALE_MS) rmdirQuietly(breaker);
      return false;
    }
    try {
      // Under the breaker lock: remove it only if it is still the same stale holder.
      if (readOrUndefined(file) === holder) unlinkSync(file);
      return true;
    } finally {
      rmdirQuietly(breaker);
    }
  }
}

/** Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat). */
export function startTimeOf(pid: number): string | undefined {
  const stat = readOrUndefined(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

function isAlive(holder: string): boolean {
  const [pid, start] = holder.trim().split(' ');
  return isProcessAlive(pid, start);
}

/** The process `pid` that started at `start` (not a later one reusing its pid) still runs. */
export function isProcessAlive(pid: string | undefined, start: string | undefined): boolean {
  if (!/^\d+$/.test(pid ?? '')) return false;
  const current = startTimeOf(Number(pid));
  return current !== undefined && current === start;
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function statOrUndefined(file: string) {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

function rmdirQuietly(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // already gone
  }
}
