/**
 * One case of an interactive problem: the program and the interactor, each in a sandbox of its own
 * (own uid, cgroup and limits), the program's stdout piped to the interactor's stdin and back. The
 * interactor runs as `interactor <input> <output>` in a writable directory of its own holding the
 * case's input (testlib's registerInteraction opens both). A deadlock (both waiting to read) ends when
 * the program's wall-clock limit kills it (TLE); the program's time is its own cgroup's CPU time.
 */
import type { Writable } from 'node:stream';
import type { InteractorOutcome, OutputSink } from '../port';
import type { SandboxLimits, SandboxRunResult, SandboxRunSpec } from './runner';

/** Holds what one side writes until the other side's stdin exists, then forwards; ends it on EOF. */
export class Relay implements OutputSink {
  private target?: Writable;
  private queued: Buffer[] = [];
  private ended = false;

  attach(target: Writable): void {
    this.target = target;
    for (const chunk of this.queued) target.write(chunk);
    this.queued = [];
    if (this.ended) target.end();
  }

  write(chunk: Buffer): void {
    if (this.target && !this.target.destroyed && !this.target.writableEnded) this.target.write(chunk);
    else if (!this.target) this.queued.push(Buffer.from(chunk));
  }

  end(): void {
    this.ended = true;
    if (this.target && !this.target.destroyed) this.target.end();
  }
}

type RunSpec = Pick<SandboxRunSpec, 'boxDir' | 'writableBox' | 'command' | 'stdin' | 'limits' | 'stdoutSink' | 'abort'>;

export interface InteractiveCase {
  program: Omit<RunSpec, 'stdin' | 'stdoutSink'>;
  interactor: { boxDir: string; command: string[]; limits: SandboxLimits };
  /** Runs one side in a sandbox as its uid (the two sides hold different locked uids). */
  run(spec: RunSpec, side: 'program' | 'interactor'): Promise<SandboxRunResult>;
}

export async function runInteractiveCase(c: InteractiveCase): Promise<SandboxRunResult> {
  const toInteractor = new Relay();
  const toProgram = new Relay();
  const interactorRun = c.run(
    { ...c.interactor, writableBox: true, stdin: (stdin) => toInteractor.attach(stdin), stdoutSink: toProgram },
    'interactor',
  );
  // Node reads the program's stdout, so it gets no SIGPIPE when the interactor is gone: once the
  // interactor has rejected it (any exit but 0), the program is stopped.
  const stopProgram = new AbortController();
  const programRun = c.run(
    { ...c.program, stdin: (stdin) => toProgram.attach(stdin), stdoutSink: toInteractor, abort: stopProgram.signal },
    'program',
  );
  const [program, interactor] = await Promise.all([
    // When the program ends, the interactor reads EOF; when the interactor ends, the program does.
    programRun.finally(() => toInteractor.end()),
    interactorRun
      .then((run) => {
        if (run.status !== 'exited' || run.exitCode !== 0) stopProgram.abort();
        return run;
      })
      .finally(() => toProgram.end()),
  ]);
  const facts: InteractorOutcome = {
    status: interactor.status,
    exitCode: interactor.exitCode,
    signal: interactor.signal,
    stdout: interactor.stdout.slice(0, 1000),
    stderr: interactor.stderr.slice(0, 1000),
    ...(interactor.message ? { message: interactor.message } : {}),
  };
  return { ...program, interactor: facts };
}
