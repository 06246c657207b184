/**
 * Pipeline: N submissions (problem `bench-sum`, 5 cases, C and Python) pushed through ActiveMQ -> worker (local
 * sandbox) -> results on the local stack. A burst measures throughput; a paced run at half that
 * rate measures latency from submit to final result without queueing dominating it. The physical
 * limit is measured before and after it in the same run on the same cores (bench/bare.ts): the same burst
 * submissions executed bare (compiled once, the same slots and submissions in flight, no sandbox,
 * queue, S3 or database), and one at a time for the execution time of a submission.
 * Targets: burst throughput at least 70% of bare, paced p99 latency at most 1.5x the bare p99 of
 * one submission alone.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { Language } from '../core/src/languages';
import { measureBare } from './bare';
import { BENCH_CASES, buildWorker, prepare, ProcessSampler, send, spawnWorker, startBenchStack, waitForResults } from './stack';
import { percentile, round, table } from './stats';
import { checkTarget } from './targets';

const N = Number(process.env.BENCH_SUBMISSIONS ?? 500);
const PACED = Math.min(N, Number(process.env.BENCH_PACED_SUBMISSIONS ?? 100));
const WORKER_CONCURRENCY = 4;
const SLOTS = os.cpus().length;
const THROUGHPUT_FRACTION_TARGET = 0.7;
const PACED_LATENCY_RATIO_TARGET = 1.5;

function sources(count: number, tag: string): Array<{ language: Language; source: string }> {
  return Array.from({ length: count }, (_, i) =>
    i % 5 === 4
      ? {
          language: 'c' as const,
          source: `/* ${tag}${i} */\n#include <stdio.h>\nint main(void){long long a,b;scanf("%lld %lld",&a,&b);printf("%lld\\n",a+b);return 0;}\n`,
        }
      : { language: 'python' as const, source: `# ${tag}${i}\na, b = map(int, input().split())\nprint(a + b)\n` },
  );
}

export async function pipelineBench(): Promise<string> {
  const cases = BENCH_CASES.length;
  const built = await buildWorker();
  // The physical limit is measured before and after the pipeline and averaged: load from outside drifts.
  const bareOptions = { slots: SLOTS, inFlight: WORKER_CONCURRENCY };
  const bareBefore = await measureBare(sources(N, 'burst'), BENCH_CASES as Array<[string, string]>, { ...bareOptions, alone: 0 });
  const stack = await startBenchStack('pipeline');
  const rows: Array<Array<string | number>> = [];
  let workerRss = 0;
  let throughput = NaN;
  let pacedLatency: number[] = [];
  const burstSources = sources(N, 'burst');
  try {
    const worker = await spawnWorker(path.join(built, 'worker/src/main.js'), {
      ...stack.env(),
      EXECUTOR: 'sandbox',
      WORKER_CONCURRENCY: String(WORKER_CONCURRENCY),
      SANDBOX_CONCURRENCY: String(SLOTS),
    });
    const sampler = new ProcessSampler(worker.pid);
    try {
      // Burst: everything queued at once.
      const burst = await prepare(stack, burstSources);
      const sentAt = new Map<string, number>();
      const start = performance.now();
      for (const request of burst) {
        sentAt.set(request.requestId, performance.now());
        await send(stack, request);
      }
      await waitForResults(
        stack,
        burst.map((r) => r.requestId),
        1_800_000,
      );
      const seconds = (performance.now() - start) / 1000;
      const wrong = burst.filter((r) => stack.verdicts.get(r.requestId) !== 'AC');
      if (wrong.length)
        throw new Error(
          `${wrong.length} benchmark submissions were not AC (e.g. ${stack.verdicts.get(wrong[0].requestId)}): the figures would not mean anything`,
        );
      throughput = N / seconds;
      const burstLatency = burst.map((r) => stack.results.get(r.requestId)! - sentAt.get(r.requestId)!);
      rows.push([
        `queue + worker, burst of ${N}`,
        round(throughput, 1),
        round(percentile(burstLatency, 50), 0),
        round(percentile(burstLatency, 95), 0),
        round(percentile(burstLatency, 99), 0),
      ]);

      // Paced at half the measured throughput: latency of a system that keeps up.
      const paced = await prepare(stack, sources(PACED, 'paced'));
      const interval = 1000 / (throughput / 2);
      const pacedStart = performance.now();
      for (const [i, request] of paced.entries()) {
        const due = pacedStart + i * interval;
        if (due > performance.now()) await new Promise((r) => setTimeout(r, due - performance.now()));
        sentAt.set(request.requestId, performance.now());
        await send(stack, request);
      }
      await waitForResults(
        stack,
        paced.map((r) => r.requestId),
        600_000,
      );
      pacedLatency = paced.map((r) => stack.results.get(r.requestId)! - sentAt.get(r.requestId)!);
      rows.push([
        `queue + worker, paced ${PACED} at ${round(throughput / 2, 1)}/s`,
        '-',
        round(percentile(pacedLatency, 50), 0),
        round(percentile(pacedLatency, 95), 0),
        round(percentile(pacedLatency, 99), 0),
      ]);
    } finally {
      sampler.stop();
      workerRss = sampler.peakRssMb;
      await worker.stop();
    }
  } finally {
    await stack.stop();
  }

  // The physical limit again, on the same cores right after: the burst's submissions bare, then a sample one at a time.
  const bare = await measureBare(burstSources, BENCH_CASES as Array<[string, string]>, { ...bareOptions, alone: PACED });
  const bareThroughput = (bareBefore.throughput + bare.throughput) / 2;
  rows.push([`bare, the same ${N}, ${WORKER_CONCURRENCY} in flight, before`, round(bareBefore.throughput, 1), '-', '-', '-']);
  rows.push([`bare, the same ${N}, ${WORKER_CONCURRENCY} in flight, after`, round(bare.throughput, 1), '-', '-', '-']);
  const alone = bare.aloneMs;
  rows.push([
    `bare, first ${alone.length} one at a time`,
    '-',
    round(percentile(alone, 50), 0),
    round(percentile(alone, 95), 0),
    round(percentile(alone, 99), 0),
  ]);
  const checks = [
    checkTarget(
      'pipeline burst throughput / bare throughput (mean of before and after)',
      throughput / bareThroughput,
      '>=',
      THROUGHPUT_FRACTION_TARGET,
    ),
    checkTarget(
      'pipeline paced p99 latency / bare p99 of one submission',
      percentile(pacedLatency, 99) / percentile(alone, 99),
      '<=',
      PACED_LATENCY_RATIO_TARGET,
      'x',
    ),
  ];
  return [
    `Pipeline on the local stack: problem bench-sum (${cases} cases), 4 in 5 submissions Python, 1 in 5 C; ` +
      `worker concurrency ${WORKER_CONCURRENCY}, sandbox concurrency ${SLOTS}`,
    table(['run', 'submissions/s', 'latency p50 ms', 'p95 ms', 'p99 ms'], rows),
    `Worker peak RSS (VmRSS of the worker process, sampled every 200 ms): ${round(workerRss, 0)} MB.`,
    'Latency = send to the final result on grading-results. Bare = the same programs without sandbox, queue, S3 or',
    `database: compiled once per submission with the sandbox's toolchain commands, cases over ${SLOTS} slots, ${WORKER_CONCURRENCY}`,
    'submissions in flight; "one at a time" = the execution time of one submission on an idle machine.',
    ...checks,
  ].join('\n');
}
