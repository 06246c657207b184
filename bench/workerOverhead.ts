/**
 * Worker overhead: one worker process with an executor that answers at once, fed a queue of
 * requests; messages per second it sustains and its CPU per message. Targets: at most 2 ms of worker
 * CPU per message and at most 120 MB peak RSS at every concurrency, at least 400 messages/s at the
 * highest, with broker, database and S3 server on the same cores.
 */
import * as path from 'node:path';
import { buildWorker, prepare, ProcessSampler, send, spawnWorker, startBenchStack, waitForResults } from './stack';
import { round, table } from './stats';
import { checkTarget } from './targets';

const MESSAGES = Number(process.env.BENCH_OVERHEAD_MESSAGES ?? 1000);
const CONCURRENCY = ['4', '16'];

export async function workerOverheadBench(): Promise<string> {
  const built = await buildWorker();
  const stack = await startBenchStack('overhead');
  const rows: Array<Array<string | number>> = [];
  const checks: string[] = [];
  try {
    for (const concurrency of CONCURRENCY) {
      // Unique sources: no result comes from the cache, every message takes the full path.
      const requests = await prepare(
        stack,
        Array.from({ length: MESSAGES }, (_, i) => ({ language: 'python' as const, source: `# ${concurrency}-${i}\nprint(3)\n` })),
      );
      for (const request of requests) await send(stack, request);
      const worker = await spawnWorker(path.join(built, 'bench/instantWorker.js'), { ...stack.env(), WORKER_CONCURRENCY: concurrency });
      const sampler = new ProcessSampler(worker.pid);
      const cpuBefore = sampler.cpuSeconds();
      const start = performance.now();
      await waitForResults(
        stack,
        requests.map((r) => r.requestId),
        600_000,
      );
      const seconds = (performance.now() - start) / 1000;
      const cpu = sampler.cpuSeconds() - cpuBefore;
      sampler.stop();
      await worker.stop();
      const cpuMs = (cpu * 1000) / MESSAGES;
      rows.push([
        concurrency,
        MESSAGES,
        round(seconds),
        round(MESSAGES / seconds),
        round(cpuMs, 2),
        round((cpu / seconds) * 100, 0),
        round(sampler.peakRssMb, 0),
      ]);
      checks.push(checkTarget(`worker CPU per message, concurrency ${concurrency}`, cpuMs, '<=', 2, ' ms'));
      checks.push(checkTarget(`worker peak RSS, concurrency ${concurrency}`, sampler.peakRssMb, '<=', 120, ' MB'));
      if (concurrency === CONCURRENCY[CONCURRENCY.length - 1])
        checks.push(checkTarget(`worker messages/s, concurrency ${concurrency}`, MESSAGES / seconds, '>=', 400));
    }
  } finally {
    await stack.stop();
  }
  return [
    'Worker overhead with an instant executor (per message: the source and current.json from S3, the test set from memory,',
    '5 database statements, result.json + execution.log to S3, result and 6 progress events to the broker, ack)',
    table(['concurrency', 'messages', 'seconds', 'messages/s', 'worker CPU ms/msg', 'worker CPU %', 'peak RSS MB'], rows),
    'Broker, MariaDB and s3rver run on the same 2 cores, so the worker is not the only thing being measured.',
    ...checks,
  ].join('\n');
}
