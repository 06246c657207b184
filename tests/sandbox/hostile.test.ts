/**
 * The hostile program suite: each program really runs in the sandbox, graded by the real engine,
 * while this process (the "worker") holds canary secrets in its environment. Each must get its
 * expected outcome; no canary, host path or hidden test data may appear in its output, the result or
 * execution.log; and it must leave nothing behind (processes, cgroups, files, mounts, uid locks).
 *
 * Two lanes (two executors, one uid each) take programs from one queue, so the suite runs two at a
 * time; each lane checks for leftovers of its own uid after every program.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { GradingResult } from '../../core/src/contracts/result';
import { createSandboxExecutor } from '../../worker/src/executors/sandbox';
import type { CaseRun, ExecutionJob, ExecutionReport, Executor } from '../../worker/src/executors/port';
import { gradeSubmission } from '../../worker/src/grading/engine';
import { LANGUAGE_IDS } from '../../core/src/languages';
import { buildTestSet } from '../../worker/src/problems/testSet';
import { Expectation, HOSTILE_PROGRAMS, HostileProgram, withPort } from './hostilePrograms';

const UID_BASE = 62000;
const LANES = 2;
const CAPTURE_BYTES = 1 << 20;
const tag = randomBytes(6).toString('hex');

/** What the worker holds that no program may see: its secrets and where it lives. */
const CANARY_ENV: Record<string, string> = {
  DB_PASSWORD: `canary-db-${tag}`,
  MQ_PASSWORD: `canary-mq-${tag}`,
  AWS_SECRET_ACCESS_KEY: `canary-aws-${tag}`,
  REVIEW_API_KEY: `canary-review-${tag}`,
  JUDGE0_AUTH_TOKEN: `canary-judge0-${tag}`,
};

/** Records what the engine does not keep: the executor's raw report and every byte of stdout (bounded). */
class RecordingExecutor implements Executor {
  readonly name: string;
  report?: ExecutionReport;
  stdout = new Map<number, Buffer[]>();
  constructor(private readonly inner: Executor) {
    this.name = inner.name;
  }
  async execute(job: ExecutionJob, onCase?: (run: CaseRun) => void): Promise<ExecutionReport> {
    this.stdout = new Map();
    const openOutput = (index: number) => {
      const sink = job.openOutput?.(index);
      const kept: Buffer[] = [];
      let size = 0;
      this.stdout.set(index, kept);
      return {
        write: (chunk: Buffer) => {
          if (size < CAPTURE_BYTES) kept.push(Buffer.from(chunk.subarray(0, CAPTURE_BYTES - size)));
          size += chunk.length;
          sink?.write(chunk);
        },
      };
    };
    // The raw statuses and stderr, before the engine releases stdout.
    const raw = new Map<number, CaseRun>();
    this.report = await this.inner.execute({ ...job, openOutput }, (run) => {
      raw.set(run.index, { index: run.index, outcome: { ...run.outcome } });
      onCase?.(run);
    });
    this.report = { compile: this.report.compile, runs: this.report.runs.map((run) => raw.get(run.index) ?? run) };
    return this.report;
  }
  close() {
    return this.inner.close();
  }
}

interface Lane {
  uid: number;
  workRoot: string;
  executor: RecordingExecutor;
}

interface Graded {
  report: ExecutionReport;
  stdout: string;
  result: GradingResult;
  log: string;
  hidden: string[];
  leftovers: string[];
}

function outcomeKinds(report: ExecutionReport): Expectation[] {
  if (!report.compile.ok) return ['compile-error'];
  return report.runs.map(({ outcome: { status, exitCode } }) =>
    status === 'exited' ? (exitCode === 0 ? 'exited-0' : 'exited-nonzero') : (status as Expectation),
  );
}

function processesOf(uid: number): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
      if (Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) === uid && /^State:\s+(\S)/m.exec(status)?.[1] !== 'Z') found.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

function cgroupsOf(uid: number): string[] {
  const parents = ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/pids', '/sys/fs/cgroup/cpuacct', '/sys/fs/cgroup'].map((root) =>
    path.join(root, 'grading-sandbox'),
  );
  return parents.flatMap((dir) =>
    fs.existsSync(dir)
      ? fs
          .readdirSync(dir)
          .filter((name) => name.includes(`-u${uid}-`))
          .map((name) => path.join(dir, name))
      : [],
  );
}

async function leftoversOf(lane: Lane, lockDir: string): Promise<string[]> {
  let processes = processesOf(lane.uid);
  for (let i = 0; i < 50 && processes.length; i++) {
    await new Promise((r) => setTimeout(r, 100));
    processes = processesOf(lane.uid);
  }
  const jobs = fs.readdirSync(path.join(lane.workRoot, 'jobs')).filter((name) => name !== 'secret-other-job.py');
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.includes(lane.workRoot));
  const locks = fs.readdirSync(lockDir).filter((name) => name.includes(String(lane.uid)));
  return [
    ...processes.map((pid) => `process ${pid}`),
    ...cgroupsOf(lane.uid).map((dir) => `cgroup ${dir}`),
    ...jobs.map((name) => `job dir ${name}`),
    ...mounts.map((line) => `mount ${line}`),
    ...locks.map((name) => `uid lock ${name}`),
  ];
}

describe('sandbox: hostile programs', function () {
  this.timeout(300_000);
  const programs = HOSTILE_PROGRAMS.filter((p) => !p.arch || p.arch === process.arch);
  const results = new Map<HostileProgram, Promise<Graded>>();
  const lanes: Lane[] = [];
  const savedEnv: Record<string, string | undefined> = {};
  let base: string;
  let lockDir: string;
  let listener: net.Server;
  let loopbackConnections = 0;
  let hostSecrets: string[];

  before(async function () {
    this.timeout(120_000);
    for (const [key, value] of Object.entries(CANARY_ENV)) {
      savedEnv[key] = process.env[key];
      process.env[key] = value;
    }
    base = fs.mkdtempSync(path.join(os.tmpdir(), `hostile-${tag}-`));
    fs.chmodSync(base, 0o711);
    lockDir = path.join(base, 'locks');
    for (let i = 0; i < LANES; i++) {
      const workRoot = path.join(base, `lane${i}`);
      fs.mkdirSync(path.join(workRoot, 'jobs'), { recursive: true, mode: 0o711 });
      fs.chmodSync(workRoot, 0o711);
      // Another job's file, which no program may read.
      if (i === 0) fs.writeFileSync(path.join(workRoot, 'jobs', 'secret-other-job.py'), `secret-${tag}`);
      const executor = await createSandboxExecutor({ concurrency: 1, workRoot, uidBase: UID_BASE + i, uidCount: 1, lockDir });
      lanes.push({ uid: UID_BASE + i, workRoot, executor: new RecordingExecutor(executor) });
    }
    hostSecrets = [...Object.values(CANARY_ENV), `secret-${tag}`, base, lockDir, process.cwd()];
    listener = net.createServer((socket) => {
      loopbackConnections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as net.AddressInfo).port;

    // Both lanes take the next program from one queue; each test below awaits its own.
    const queue = [...programs];
    const settle = new Map<HostileProgram, { resolve: (g: Graded) => void; reject: (e: unknown) => void }>();
    for (const program of programs) results.set(program, new Promise((resolve, reject) => settle.set(program, { resolve, reject })));
    for (const promise of results.values()) promise.catch(() => undefined);
    for (const lane of lanes) {
      void (async () => {
        for (let program = queue.shift(); program; program = queue.shift()) {
          try {
            const graded = await grade(lane, program, port);
            settle.get(program)!.resolve({ ...graded, leftovers: await leftoversOf(lane, lockDir) });
          } catch (error) {
            settle.get(program)!.reject(error);
          }
        }
      })();
    }
  });

  after(async () => {
    for (const [key, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await Promise.allSettled(results.values());
    for (const lane of lanes) await lane.executor.close();
    listener?.close();
    fs.rmSync(base, { recursive: true, force: true });
  });

  async function grade(lane: Lane, program: HostileProgram, port: number) {
    const count = program.cases ?? 1;
    const files = new Map<string, string>();
    const hidden: string[] = [];
    for (let n = 1; n <= count; n++) {
      if (program.harvest && n > 1) {
        const secretIn = `hidden-input-${n}-${tag}`;
        const secretOut = `hidden-answer-${n}-${tag}`;
        hidden.push(secretIn, secretOut);
        files.set(`${n}.in`, `${secretIn}\n`);
        files.set(`${n}.out`, `${secretOut}\n`);
      } else {
        files.set(`${n}.in`, program.harvest ? 'sample-input\n' : (program.input ?? ''));
        files.set(`${n}.out`, program.harvest ? 'sample-output\n' : 'expected\n');
      }
    }
    // A program that can only end in TLE gets a short limit: the suite stays quick, the verdict is the same.
    const onlyTimeLimit = program.expect.length === 1 && program.expect[0] === 'time-limit';
    const timeLimit = program.timeLimitMs ?? (onlyTimeLimit ? 300 : program.language === 'java' ? 2000 : 700);
    files.set(
      'manifest.json',
      JSON.stringify({ outputLimit: program.outputLimitBytes ?? 64 * 1024, ...(program.harvest ? { samples: [1] } : {}) }),
    );
    const { result, log } = await gradeSubmission({
      request: { requestId: `hostile_${lane.uid}`, language: program.language, timeLimit, memoryLimit: program.memoryLimitMb ?? 64 },
      source: withPort(program.source, port),
      testSet: buildTestSet(files),
      executor: lane.executor,
    });
    const stdout = [...lane.executor.stdout.values()].map((chunks) => Buffer.concat(chunks).toString('latin1')).join('\n');
    return { report: lane.executor.report!, stdout, result, log, hidden };
  }

  for (const program of programs) {
    it(`${program.name} -> ${program.expect.join(' | ')}`, async () => {
      const { report, stdout, result, log, hidden, leftovers } = await results.get(program)!;
      const kinds = outcomeKinds(report);
      const detail = report.compile.ok
        ? JSON.stringify({ ...report.runs[0]?.outcome, stdout: stdout.slice(0, 300) })
        : report.compile.output.slice(0, 300);
      for (const kind of kinds) assert.ok(program.expect.includes(kind), `got ${kind}: ${detail}`);
      assert.equal(kinds.length, report.compile.ok ? (program.cases ?? 1) : 1);
      if (report.compile.ok) {
        if (program.stdoutMustNotMatch) assert.doesNotMatch(stdout, program.stdoutMustNotMatch);
        if (program.stdoutMustMatch) assert.match(stdout, program.stdoutMustMatch);
      }
      // Nothing of the worker's, anywhere a program's bytes go.
      const stderr = report.runs.map((r) => r.outcome.stderr).join('\n');
      const published = JSON.stringify(result);
      for (const secret of hostSecrets) {
        for (const [where, text] of Object.entries({ stdout, stderr, compile: report.compile.output, result: published, log })) {
          assert.ok(!text.includes(secret), `${where} contains the worker's ${JSON.stringify(secret)}`);
        }
      }
      // Hidden cases stay hidden: the published result says verdict, time and memory only.
      for (const secret of hidden) assert.ok(!published.includes(secret), `result quotes hidden test data ${secret}`);
      for (const t of result.result?.testResults ?? [])
        if (t.case > 1 || !program.harvest) assert.equal(t.message, undefined, `case ${t.case} message published`);
      assert.doesNotMatch(log, /[\x00-\x08\x0b-\x1f\x7f]/, 'raw control bytes in execution.log');
      assert.ok(log.length < 64 * 1024, `execution.log is ${log.length} characters`);
      assert.deepEqual(leftovers, [], 'left behind');
    });
  }

  it(`runs at least 70 programs across every language`, () => {
    assert.ok(HOSTILE_PROGRAMS.length >= 70, `${HOSTILE_PROGRAMS.length} programs`);
    assert.deepEqual(new Set(HOSTILE_PROGRAMS.map((p) => p.language)), new Set(LANGUAGE_IDS));
  });

  it('nothing reached the loopback listener and nothing was written outside', async () => {
    await Promise.allSettled(results.values());
    assert.equal(loopbackConnections, 0);
    assert.equal(fs.existsSync('/usr/evil.txt'), false);
    assert.doesNotMatch(fs.readFileSync('/etc/passwd', 'utf8'), /^x$/);
  });

  it('still runs a normal program afterwards', async () => {
    await Promise.allSettled(results.values());
    const report = await lanes[0].executor.execute({
      id: 'after',
      language: 'python',
      source: 'print(input()[::-1])',
      cases: [{ index: 1, input: 'olleh\n' }],
      limits: { timeLimitMs: 1000, memoryLimitMb: 64, outputLimitBytes: 1024 },
    });
    assert.equal(report.runs[0].outcome.stdout, 'hello\n');
  });
});
