/**
 * Judge0 round trips: the adapter (one batch POST per 20 cases, then polls timed from the expected
 * run time) against the naive design (one `POST /submissions?wait=true` per test case), both against
 * the test Judge0 server (tests/helpers/judge0TestServer.ts) that answers like Judge0 1.13.1 and runs
 * the code in the local sandbox, one submission at a time (an idle server). Targets: adapter latency
 * p50 at most 1.3x the naive one, and exactly ceil(cases / 20) submit requests per submission.
 */
import { startJudge0TestServer } from '../tests/helpers/judge0TestServer';
import { createJudge0Executor } from '../worker/src/executors/judge0';
import type { ExecutionJob } from '../worker/src/executors/port';
import { hrMs, median, percentile, round, table } from './stats';
import { checkTarget } from './targets';

const SUBMISSIONS = Number(process.env.BENCH_JUDGE0_SUBMISSIONS ?? 20);
const CASE_COUNTS = [5, 20];
const TOKEN = 'bench-token';
const LATENCY_RATIO_TARGET = 1.3;
const PYTHON_ID = 71; // "Python (3.8.1)" on the test server, as on Judge0 CE

function job(i: number, cases: number): ExecutionJob {
  return {
    id: `bench-${i}`,
    language: 'python',
    source: `# ${i}\na, b = map(int, input().split())\nprint(a + b)\n`,
    cases: Array.from({ length: cases }, (_, c) => ({ index: c + 1, input: `${i} ${c}\n` })),
    limits: { timeLimitMs: 2000, memoryLimitMb: 128, outputLimitBytes: 65536 },
  };
}

/** The naive client: each case is its own blocking call. */
async function naive(baseUrl: string, j: ExecutionJob): Promise<void> {
  for (const testCase of j.cases) {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const response = await fetch(`${baseUrl}/submissions?base64_encoded=true&wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': TOKEN },
      body: JSON.stringify({
        language_id: PYTHON_ID,
        source_code: b64(j.source),
        stdin: b64(testCase.input),
        cpu_time_limit: j.limits.timeLimitMs / 1000,
        memory_limit: j.limits.memoryLimitMb * 1024,
      }),
    });
    const result = (await response.json()) as { status?: { id: number } };
    if (response.status !== 201 || result.status?.id !== 3)
      throw new Error(`naive call failed: ${response.status} ${JSON.stringify(result).slice(0, 200)}`);
  }
}

export async function judge0Bench(): Promise<string> {
  const server = await startJudge0TestServer({ authToken: TOKEN, uidBase: 63100, settings: { maxQueueSize: 1000 } });
  const adapter = await createJudge0Executor({ baseUrl: server.baseUrl, authToken: TOKEN });
  const rows: Array<Array<string | number>> = [];
  const checks: string[] = [];
  try {
    for (const cases of CASE_COUNTS) {
      const measured = {
        batched: { requests: [] as number[], submits: [] as number[], ms: [] as number[] },
        naive: { requests: [] as number[], submits: [] as number[], ms: [] as number[] },
      };
      for (let i = 0; i < SUBMISSIONS; i++) {
        for (const design of i % 2 ? (['naive', 'batched'] as const) : (['batched', 'naive'] as const)) {
          const before = server.requests.length;
          const start = process.hrtime.bigint();
          if (design === 'batched') {
            const report = await adapter.execute(job(i, cases));
            if (report.runs.some((r) => r.outcome.status !== 'exited' || r.outcome.exitCode !== 0)) throw new Error('batched run failed');
          } else {
            await naive(server.baseUrl, job(i, cases));
          }
          measured[design].ms.push(hrMs(start));
          const sent = server.requests.slice(before);
          measured[design].requests.push(sent.length);
          measured[design].submits.push(sent.filter((r) => r.startsWith('POST /submissions')).length);
        }
      }
      rows.push(row(`adapter, ${cases} cases`, measured.batched), row(`naive wait=true, ${cases} cases`, measured.naive));
      const ratio = median(measured.batched.ms) / median(measured.naive.ms);
      checks.push(checkTarget(`judge0 ${cases} cases: adapter p50 latency / naive wait=true p50`, ratio, '<=', LATENCY_RATIO_TARGET, 'x'));
      const submits = Math.max(...measured.batched.submits);
      checks.push(
        checkTarget(
          `judge0 ${cases} cases: adapter submit requests per submission (max), ceil(cases/20)`,
          submits,
          '<=',
          Math.ceil(cases / 20),
        ),
      );
    }
  } finally {
    await adapter.close();
    await server.close();
  }
  return [
    `Judge0 round trips per submission (${SUBMISSIONS} Python submissions per row, test Judge0 server running the sandbox)`,
    table(['design', 'HTTP req/submission', 'max', 'submit req', 'latency p50 ms', 'latency p95 ms'], rows),
    'adapter = one batch POST per 20 cases, first poll at 0.85x the run time expected from earlier jobs of the language',
    "(Judge0's created_at..finished_at per case), then every 0.1x growing; naive = one blocking POST /submissions?wait=true",
    'per case, in sequence. The test server queues jobs for two workers as Judge0 does (In Queue, Processing, final);',
    'every job compiles and runs as `/bin/bash run` in the sandbox.',
    ...checks,
  ].join('\n');
}

function row(name: string, m: { requests: number[]; submits: number[]; ms: number[] }): Array<string | number> {
  return [
    name,
    round(m.requests.reduce((a, b) => a + b, 0) / m.requests.length),
    Math.max(...m.requests),
    Math.max(...m.submits),
    round(median(m.ms), 0),
    round(percentile(m.ms, 95), 0),
  ];
}
