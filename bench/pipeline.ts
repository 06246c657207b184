/**
 * Pipeline: N submissions (problem `bench-sum`, 5 cases, C and Python) pushed through ActiveMQ -> worker (local
 * sandbox) -> results on the local stack. A burst measures throughput; a paced run at half that
 * rate measures latency from submit to final result without queueing dominating it. The naive
 * way (one case at a time, compile per case, straight on the sandbox with no queue, S3 or
 * database at all) then grades the same burst submissions (all N unless BENCH_NAIVE_SUBMISSIONS
 * is smaller) in the same run for comparison.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Language } from '../core/src/languages';
import { createSandboxExecutor } from '../worker/src/executors/sandbox';
import { BENCH_CASES, prepare, ProcessSampler, send, spawnWorker, startBenchStack, waitForResults } from './stack';
import { percentile, round, table } from './stats';

const N = Number(process.env.BENCH_SUBMISSIONS ?? 500);
const PACED = Math.min(N, Number(process.env.BENCH_PACED_SUBMISSIONS ?? 100));
const NAIVE_SAMPLE = Math.min(N, Number(process.env.BENCH_NAIVE_SUBMISSIONS ?? N));

function sources(count: number, tag: string): Array<{ language: Language; source: string }> {
  return Array.from({ length: count }, (_, i) =>
    i % 5 === 4
      ? { language: 'c' as const, source: `/* ${tag}${i} */\n#include <stdio.h>\nint main(void){long long a,b;scanf("%lld %lld",&a,&b);printf("%lld\\n",a+b);return 0;}\n` }
      : { language: 'python' as const, source: `# ${tag}${i}\na, b = map(int, input().split())\nprint(a + b)\n` },
  );
}

export async function pipelineBench(): Promise<string> {
  const cases = BENCH_CASES.length;
  const stack = await startBenchStack('pipeline');
  const rows: Array<Array<string | number>> = [];
  let workerRss = 0;
  const burstSources = sources(N, 'burst');
  try {
    const worker = await spawnWorker(path.join(__dirname, '../worker/src/main.ts'), { ...stack.env(), EXECUTOR: 'sandbox', WORKER_CONCURRENCY: '4', SANDBOX_CONCURRENCY: String(os.cpus().length) });
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
      await waitForResults(stack, burst.map((r) => r.requestId), 1_800_000);
      const seconds = (performance.now() - start) / 1000;
      const wrong = burst.filter((r) => stack.verdicts.get(r.requestId) !== 'AC');
      if (wrong.length) throw new Error(`${wrong.length} benchmark submissions were not AC (e.g. ${stack.verdicts.get(wrong[0].requestId)}): the figures would not mean anything`);
      const throughput = N / seconds;
      const burstLatency = burst.map((r) => stack.results.get(r.requestId)! - sentAt.get(r.requestId)!);
      rows.push([`queue + worker, burst of ${N}`, round(throughput, 1), round(percentile(burstLatency, 50), 0), round(percentile(burstLatency, 95), 0), round(percentile(burstLatency, 99), 0)]);

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
      await waitForResults(stack, paced.map((r) => r.requestId), 600_000);
      const pacedLatency = paced.map((r) => stack.results.get(r.requestId)! - sentAt.get(r.requestId)!);
      rows.push([`queue + worker, paced ${PACED} at ${round(throughput / 2, 1)}/s`, '-', round(percentile(pacedLatency, 50), 0), round(percentile(pacedLatency, 95), 0), round(percentile(pacedLatency, 99), 0)]);
    } finally {
      sampler.stop();
      workerRss = sampler.peakRssMb;
      await worker.stop();
    }
  } finally {
    await stack.stop();
  }

  // Naive: per submission, per case in sequence, a fresh execution that compiles again; the same
  // sources as the burst. Nothing runs in parallel, so a burst of them would wait in line: the
  // "burst" latency of submission i is the sum of the service times of submissions 0..i.
  const workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-naive-'));
  const sandbox = await createSandboxExecutor({ concurrency: 1, workRoot, uidBase: 63300 });
  const inputs = BENCH_CASES.map(([input]) => `${input}\n`);
  const naiveMs: number[] = [];
  try {
    for (const [i, submission] of burstSources.slice(0, NAIVE_SAMPLE).entries()) {
      const started = performance.now();
      for (const [c, input] of inputs.entries()) {
        const report = await sandbox.execute({ id: `naive-${i}`, language: submission.language, source: submission.source, cases: [{ index: 1, input }], limits: { timeLimitMs: 2000, memoryLimitMb: 256, outputLimitBytes: 65536 } });
        const run = report.runs[0]?.outcome;
        if (run?.status !== 'exited' || run.stdout.trim() !== BENCH_CASES[c][1]) throw new Error(`naive run of submission ${i} case ${c + 1} went wrong: ${report.compile.output || JSON.stringify(run)}`);
      }
      naiveMs.push(performance.now() - started);
    }
  } finally {
    await sandbox.close();
    fs.rmSync(workRoot, { recursive: true, force: true });
  }
  const naiveSeconds = naiveMs.reduce((a, b) => a + b, 0) / 1000;
  let elapsed = 0;
  const naiveQueued = naiveMs.map((ms) => (elapsed += ms));
  const sample = NAIVE_SAMPLE < N ? `first ${NAIVE_SAMPLE} of the ${N}` : `the same ${N}`;
  rows.push([`naive, ${sample}: service time`, round(NAIVE_SAMPLE / naiveSeconds, 1), round(percentile(naiveMs, 50), 0), round(percentile(naiveMs, 95), 0), round(percentile(naiveMs, 99), 0)]);
  rows.push([`naive, ${sample}: as a burst`, '-', round(percentile(naiveQueued, 50), 0), round(percentile(naiveQueued, 95), 0), round(percentile(naiveQueued, 99), 0)]);
  return [
    `Pipeline on the local stack: problem bench-sum (${cases} cases), 4 in 5 submissions Python, 1 in 5 C; worker concurrency 4, sandbox concurrency ${os.cpus().length}`,
    table(['run', 'submissions/s', 'latency p50 ms', 'p95 ms', 'p99 ms'], rows),
    `Worker peak RSS (VmRSS of the worker process, sampled every 200 ms): ${round(workerRss, 0)} MB.`,
    'Latency = send to the final result on grading-results. Naive (no queue, S3 or database; one case at a time,',
    'compiling for every case): service time = grading one submission; "as a burst" = when it would finish had all',
    'arrived at once and been graded in order.',
  ].join('\n');
}
