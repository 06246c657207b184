/**
 * A cache directory bounded by least recent use: every entry (file or folder) has its mtime
 * refreshed when it is used, and pruning removes the oldest entries beyond a count or a byte
 * budget. Entries of an old test-set version stop being used together, so they leave together.
 * Pruning runs one at a time per directory and never throws (a cache that cannot shrink still works).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

export interface LruBudget {
  /** Entries kept at most. */
  maxEntries?: number;
  /** Bytes kept at most (entries' sizes, folders summed one level deep). */
  maxBytes?: number;
  /** Entries never removed (in-progress temporary files, for example). */
  keep?: (name: string) => boolean;
}

/** Marks an entry as just used. */
export async function touchEntry(file: string): Promise<void> {
  const now = new Date();
  await fsp.utimes(file, now, now).catch(() => undefined);
}

const running = new Map<string, Promise<string[]>>();

/** Removes the least recently used entries of `dir` beyond the budget; returns the names removed. */
export function pruneLeastRecentlyUsed(dir: string, budget: LruBudget): Promise<string[]> {
  const busy = running.get(dir);
  if (busy) return busy;
  const work = prune(dir, budget)
    .catch(() => [])
    .finally(() => running.delete(dir));
  running.set(dir, work);
  return work;
}

async function prune(dir: string, budget: LruBudget): Promise<string[]> {
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  const entries: Array<{ name: string; used: number; bytes: number }> = [];
  for (const name of names) {
    if (budget.keep?.(name)) continue;
    const stat = await fsp.stat(path.join(dir, name)).catch(() => undefined);
    if (!stat) continue;
    let bytes = stat.size;
    if (stat.isDirectory()) {
      for (const inner of await fsp.readdir(path.join(dir, name)).catch(() => [] as string[])) {
        bytes += (await fsp.stat(path.join(dir, name, inner)).catch(() => undefined))?.size ?? 0;
      }
    }
    entries.push({ name, used: stat.mtimeMs, bytes });
  }
  entries.sort((a, b) => b.used - a.used);
  const removed: string[] = [];
  let kept = 0;
  let keptBytes = 0;
  for (const entry of entries) {
    // The most recently used entry always stays, whatever its size.
    const fitsCount = budget.maxEntries === undefined || kept < budget.maxEntries;
    const fitsBytes = budget.maxBytes === undefined || keptBytes + entry.bytes <= budget.maxBytes || kept === 0;
    if (fitsCount && fitsBytes) {
      kept++;
      keptBytes += entry.bytes;
      continue;
    }
    await fsp.rm(path.join(dir, entry.name), { recursive: true, force: true });
    removed.push(entry.name);
  }
  return removed;
}
