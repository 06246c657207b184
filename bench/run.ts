/**
 * `npm run bench [-- name...]`: runs the benchmarks (all, or the named ones) and prints each one's
 * figures as a table, then every target of issue 21 as met or MISSED; exits 1 when one is missed.
 * Not part of `npm test`; docs/benchmarks.md records a run.
 * Sizes: BENCH_SUBMISSIONS (pipeline burst, default 500), BENCH_PACED_SUBMISSIONS (pipeline paced run, 100),
 * BENCH_SANDBOX_RUNS (200), BENCH_JUDGE0_SUBMISSIONS (20), BENCH_OVERHEAD_MESSAGES (1000).
 * BENCH_CPU_PROF=<dir> makes the benchmarks' worker processes write V8 CPU profiles there; BENCH_WORKER_LOG=<file>
 * appends their log lines to a file.
 */
import * as os from 'node:os';
import { judge0Bench } from './judge0';
import { pipelineBench } from './pipeline';
import { sandboxBench } from './sandbox';
import { formatCheck, recordedChecks } from './targets';
import { workerOverheadBench } from './workerOverhead';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const BENCHES: Record<string, () => Promise<string>> = {
  sandbox: sandboxBench,
  judge0: judge0Bench,
  'worker-overhead': workerOverheadBench,
  pipeline: pipelineBench,
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !(name in BENCHES));
  if (unknown.length) throw new Error(`unknown benchmark(s) ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}`);
  const cpu = os.cpus();
  console.log(`# grading-stack benchmarks, ${new Date().toISOString()}`);
  console.log(
    `# ${cpu[0]?.model.trim()} x ${cpu.length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Linux ${os.release()}, Node ${process.version}\n`,
  );
  for (const name of wanted.length ? wanted : Object.keys(BENCHES)) {
    const started = Date.now();
    const figures = await BENCHES[name]();
    console.log(`## ${name} (${Math.round((Date.now() - started) / 1000)} s)\n${figures}\n`);
  }
  const missed = recordedChecks().filter((c) => !c.met);
  console.log(`## targets: ${recordedChecks().length - missed.length} of ${recordedChecks().length} met`);
  for (const c of recordedChecks()) console.log(formatCheck(c));
  if (missed.length) {
    console.error(`benchmark targets missed: ${missed.map((c) => c.name).join('; ')}`);
    process.exitCode = 1;
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error) => {
    console.error(`benchmark failed: ${(error as Error).stack ?? error}`);
    process.exit(1);
  },
);
