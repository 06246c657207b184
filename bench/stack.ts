/**
 * The local services for the process benchmarks (broker, database, S3 API in one temp dir), a
 * results follower, and helpers to submit requests and sample a process's CPU and memory.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { seedProblems } from '../scripts/local';
import { pushProblems } from '../worker/src/problems/tooling/push';
import { validateProblems } from '../worker/src/problems/tooling/validate';
import { LocalActiveMq } from '../scripts/services/activemq';
import { LocalMariaDb } from '../scripts/services/mariadb';
import { LocalS3 } from '../scripts/services/s3';
import { ensureLocalTls } from '../scripts/services/tls';
import { prepareRequest, s3Client } from '../tests/helpers/workerHarness';
import type { Language } from '../core/src/languages';
import { BrokerSession } from '../core/src/queue/session';

export interface BenchStack {
  broker: LocalActiveMq;
  db: LocalMariaDb;
  s3: LocalS3;
  session: BrokerSession;
  /** requestId -> when its result arrived (performance.now()). */
  results: Map<string, number>;
  /** requestId -> overall verdict (or the failed status). */
  verdicts: Map<string, string>;
  env(): Record<string, string>;
  stop(): Promise<void>;
}

export async function startBenchStack(name: string): Promise<BenchStack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${name}-`));
  // TLS on the broker and database hops, as in AWS: the figures include the handshakes and encryption.
  const tls = ensureLocalTls(path.join(dir, 'tls'));
  const [broker, db, s3] = await Promise.all([
    LocalActiveMq.create({ dir: path.join(dir, 'activemq'), tls }),
    LocalMariaDb.create({ dir: path.join(dir, 'mariadb'), tls }),
    LocalS3.create({ dir: path.join(dir, 's3') }),
  ]);
  // The deploy's `npm run db:migrate` step: the worker only checks the schema version.
  await db.migrate();
  await seedProblems(s3.env());
  await seedBenchProblem(s3, dir);
  const session = await BrokerSession.open(broker.connectOptions());
  const results = new Map<string, number>();
  const verdicts = new Map<string, string>();
  session.subscribe('/queue/grading-results', (body, headers) => {
    const id = headers['correlation-id'];
    if (!id || results.has(id)) return;
    results.set(id, performance.now());
    const parsed = JSON.parse(body) as { status: string; result?: { verdict: string } };
    verdicts.set(id, parsed.result?.verdict ?? parsed.status);
  });
  return {
    broker,
    db,
    s3,
    session,
    results,
    verdicts,
    env: () => ({ ...broker.env(), ...db.env(), ...s3.env(), TESTCASE_CACHE_DIR: path.join(dir, 'cache') }),
    async stop() {
      await session.close().catch(() => undefined);
      await Promise.all([broker.stop(), db.stop(), s3.stop()]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PreparedRequest {
  requestId: string;
  body: string;
}

/** Problem `bench-sum`: a + b over five cases, as the pipeline benchmark asks for. */
export const BENCH_PROBLEM = 'bench-sum';
export const BENCH_CASES = [
  ['1 2', '3'],
  ['-5 5', '0'],
  ['1000000000000 1000000000000', '2000000000000'],
  ['123456 654321', '777777'],
  ['-999999999999 -1', '-1000000000000'],
];

/** Pushed the way `grading-stack problem push` does (a live version under testcases/versions/), as production problems are. */
async function seedBenchProblem(s3: LocalS3, dir: string): Promise<void> {
  const folder = path.join(dir, 'bench-problems', BENCH_PROBLEM);
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, 'description.md'), '# A + B (benchmark)\n\nPrint the sum of two integers.\n');
  BENCH_CASES.forEach(([input, output], i) => {
    fs.writeFileSync(path.join(folder, `${i + 1}.in`), `${input}\n`);
    fs.writeFileSync(path.join(folder, `${i + 1}.out`), `${output}\n`);
  });
  const client = s3Client(s3);
  try {
    await pushProblems(await validateProblems(path.dirname(folder)), client, s3.bucket);
  } finally {
    client.destroy();
  }
}

/** Uploads each source (in parallel batches) and returns the grading requests for `problemId`. */
export async function prepare(
  stack: BenchStack,
  sources: Array<{ language: Language; source: string }>,
  problemId = BENCH_PROBLEM,
): Promise<PreparedRequest[]> {
  const client = s3Client(stack.s3);
  const out: PreparedRequest[] = [];
  try {
    for (let i = 0; i < sources.length; i += 50) {
      const chunk = await Promise.all(
        sources.slice(i, i + 50).map(({ language, source }) => prepareRequest(stack.s3, { problemId, language, source }, client)),
      );
      out.push(...chunk.map((request) => ({ requestId: request.requestId, body: JSON.stringify(request) })));
    }
  } finally {
    client.destroy();
  }
  return out;
}

export function send(stack: BenchStack, request: PreparedRequest): Promise<void> {
  return stack.session.send('/queue/grading-requests', request.body, {
    persistent: 'true',
    'content-type': 'application/json',
    'correlation-id': request.requestId,
  });
}

export async function waitForResults(stack: BenchStack, ids: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (ids.some((id) => !stack.results.has(id))) {
    if (Date.now() > deadline)
      throw new Error(`${ids.filter((id) => !stack.results.has(id)).length} of ${ids.length} results missing after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** CPU seconds (user + system) of a process and its peak resident memory, sampled from /proc. */
export class ProcessSampler {
  peakRssMb = 0;
  private timer: NodeJS.Timeout;

  constructor(private readonly pid: number) {
    this.timer = setInterval(() => this.sample(), 200);
    this.sample();
  }

  cpuSeconds(): number {
    const fields = fs.readFileSync(`/proc/${this.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of stat; after "pid (comm) " they are at 11 and 12.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  }

  private sample(): void {
    try {
      const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      if (match) this.peakRssMb = Math.max(this.peakRssMb, Number(match[1]) / 1024);
    } catch {
      // the process is gone
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export interface WorkerChild {
  pid: number;
  stop(): Promise<void>;
}

const ROOT = path.join(__dirname, '..');
let build: Promise<string> | undefined;

/**
 * The worker compiled as its image runs it (`npm run build`'s settings, then plain `node`, no tsx),
 * once per benchmark run, into dist/bench/ (with bench/instantWorker.ts); returns that directory.
 */
export function buildWorker(): Promise<string> {
  build ??= new Promise<string>((resolve, reject) => {
    const out = path.join(ROOT, 'dist', 'bench');
    fs.rmSync(out, { recursive: true, force: true });
    fs.mkdirSync(out, { recursive: true });
    const config = path.join(out, 'tsconfig.json');
    const include = ['core/src/**/*.ts', 'worker/src/**/*.ts', 'bench/instantWorker.ts'].map((p) => `../../${p}`);
    fs.writeFileSync(
      config,
      JSON.stringify({ extends: '../../tsconfig.build.json', compilerOptions: { outDir: '.', rootDir: '../..' }, include }),
    );
    const tsc = spawn(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', config], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    tsc.stdout!.on('data', (d: Buffer) => (output += d));
    tsc.stderr!.on('data', (d: Buffer) => (output += d));
    tsc.once('error', reject);
    tsc.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`compiling the worker for the benchmark failed:\n${output}`)),
    );
  });
  return build;
}

/** Starts a worker entry point (compiled .js from buildWorker, or .ts through tsx) and waits for "worker ready". */
export async function spawnWorker(entry: string, env: Record<string, string>): Promise<WorkerChild> {
  // BENCH_CPU_PROF=<dir>: the worker writes a V8 CPU profile there when it stops (node --cpu-prof).
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(process.env.BENCH_CPU_PROF)] : [];
  const loader = entry.endsWith('.ts') ? ['--require', 'tsx/cjs'] : [];
  const child = spawn(process.execPath, [...profile, ...loader, entry], {
    env: {
      PATH: process.env.PATH!,
      HEALTH_PORT: '0',
      GRADING_LOG_LEVEL: 'info',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...env,
    },
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start:\n${output}`)), 60_000);
    const onData = (d: Buffer) => {
      output += d;
      if (output.includes('"worker ready"')) {
        clearTimeout(timer);
        // Keep draining its output (metrics lines) so it never blocks on a full pipe.
        output = '';
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited (${code}):\n${output}`)));
  });
  child.stdout!.removeAllListeners('data');
  child.stderr!.removeAllListeners('data');
  // BENCH_WORKER_LOG=<file>: the worker's log lines go there (to see where a message's time goes).
  if (process.env.BENCH_WORKER_LOG) {
    const log = fs.createWriteStream(process.env.BENCH_WORKER_LOG, { flags: 'a' });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
  }
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
