/**
 * The physical limit the pipeline is measured against: the same programs executed bare (no
 * sandbox, queue, S3 or database), compiled once per submission with the sandbox's own toolchain
 * commands (worker/src/executors/sandbox/toolchains.ts), cases run with the same number of slots as
 * the sandbox has, several submissions in flight as the worker's concurrency allows.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Language } from '../core/src/languages';
import { TOOLCHAINS } from '../worker/src/executors/sandbox/toolchains';

/** At most `size` holders at once, first come first served. */
export class Slots {
  private free: number;
  private readonly queue: Array<() => void> = [];

  constructor(size: number) {
    this.free = size;
  }

  async with<T>(work: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.queue.push(r));
    try {
      return await work();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.free++;
    }
  }
}

export interface BareSubmission {
  language: Language;
  source: string;
}

/** Runs `command` in `cwd` with `input` on stdin; stdout, or an error naming what went wrong. */
function run(command: string[], cwd: string, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${command.join(' ')} exited ${code}: ${stderr.slice(0, 300)}`)),
    );
    child.stdin.end(input);
  });
}

/** One submission: compile once (in a slot), then every case in parallel over the slots; each case's stdout. */
export async function gradeBare(submission: BareSubmission, inputs: string[], slots: Slots, workRoot: string): Promise<string[]> {
  const toolchain = TOOLCHAINS[submission.language];
  const dir = fs.mkdtempSync(path.join(workRoot, 'job-'));
  try {
    fs.writeFileSync(path.join(dir, toolchain.sourceFile), submission.source);
    if (toolchain.compile) await slots.with(() => run(toolchain.compile!, dir, ''));
    const command = toolchain.run({ memoryLimitMb: 256 });
    return await Promise.all(inputs.map((input) => slots.with(() => run(command, dir, input))));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface BareRun {
  /** Submissions per second with `inFlight` submissions at a time. */
  throughput: number;
  /** Each submission's time from start to its last case, ms, when graded alone. */
  aloneMs: number[];
}

/**
 * Grades every submission bare: first all of them `inFlight` at a time (throughput), then `alone`
 * of them one at a time (the execution time of one submission on an otherwise idle pipeline).
 */
export async function measureBare(
  submissions: BareSubmission[],
  cases: Array<[string, string]>,
  opts: { slots: number; inFlight: number; alone: number },
): Promise<BareRun> {
  const workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-bare-'));
  const slots = new Slots(opts.slots);
  const inputs = cases.map(([input]) => `${input}\n`);
  const check = (i: number, outputs: string[]) => {
    outputs.forEach((out, c) => {
      if (out.trim() !== cases[c][1])
        throw new Error(`bare run of submission ${i} case ${c + 1} printed ${JSON.stringify(out.slice(0, 100))}`);
    });
  };
  try {
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: opts.inFlight }, async () => {
        while (next < submissions.length) {
          const i = next++;
          check(i, await gradeBare(submissions[i], inputs, slots, workRoot));
        }
      }),
    );
    const throughput = submissions.length / ((performance.now() - start) / 1000);
    const aloneMs: number[] = [];
    for (const [i, submission] of submissions.slice(0, opts.alone).entries()) {
      const started = performance.now();
      check(i, await gradeBare(submission, inputs, slots, workRoot));
      aloneMs.push(performance.now() - started);
    }
    return { throughput, aloneMs };
  } finally {
    fs.rmSync(workRoot, { recursive: true, force: true });
  }
}
