/**
 * `npm run local` keeps running until Ctrl-C; if one of its parts dies on its own (the worker
 * crashes, the broker runs out of memory) the person at the terminal is told at once, with the
 * end of that part's log, instead of finding a page that waits forever.
 */
import type { ChildProcess } from 'node:child_process';
import { tail } from './process';

export interface WatchedPart {
  name: string;
  logFile: string;
  /** A child process (noticed by its exit event) ... */
  child?: ChildProcess;
  /** ... or a liveness check, polled. */
  alive?: () => boolean;
}

/** Starts watching; returns a function that stops. `stopping()` true means exits are expected. */
export function noticeDeaths(parts: WatchedPart[], say: (line: string) => void, stopping: () => boolean, pollMs = 2000): () => void {
  const reported = new Set<string>();
  const report = (part: WatchedPart, how: string) => {
    if (stopping() || reported.has(part.name)) return;
    reported.add(part.name);
    say(`\n!! ${part.name} ${how}: the local stack is not whole any more (gradings stop or the page cannot load).`);
    say(`   last lines of ${part.logFile}:\n${tail(part.logFile, 15).replace(/^/gm, '   | ')}`);
    say('   Ctrl-C and run npm run local again to restart everything.');
  };
  const listeners: Array<() => void> = [];
  for (const part of parts) {
    if (!part.child) continue;
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      report(part, `exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`})`);
    part.child.once('exit', onExit);
    listeners.push(() => part.child!.removeListener('exit', onExit));
  }
  const polled = parts.filter((p) => p.alive);
  const timer = setInterval(() => {
    for (const part of polled) if (!part.alive!()) report(part, 'is no longer running');
  }, pollMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    listeners.forEach((remove) => remove());
  };
}
