/**
 * The hostile program suite: each program really runs in the sandbox and must get its expected
 * outcome, leave no process or file behind, and leave the test process (the "worker") healthy.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createSandboxExecutor } from '../../worker/src/executors/sandbox';
import type { ExecutionReport, Executor } from '../../worker/src/executors/port';
import { Expectation, HOSTILE_PROGRAMS, withPort } from './hostilePrograms';

const UID_BASE = 62000;
const CONCURRENCY = 2;

function outcomeKind(report: ExecutionReport): Expectation {
  if (!report.compile.ok) return 'compile-error';
  const { status, exitCode } = report.runs[0].outcome;
  if (status === 'exited') return exitCode === 0 ? 'exited-0' : 'exited-nonzero';
  return status as Expectation;
}

/** Processes owned by the sandbox uids, from /proc. */
function sandboxProcesses(): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = fs.readFileSync(`/proc/${entry}/status`, 'utf8');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      const state = /^State:\s+(\S)/m.exec(status)?.[1];
      if (uid >= UID_BASE && uid < UID_BASE + CONCURRENCY && state !== 'Z') found.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

async function waitForNoSandboxProcesses(): Promise<number[]> {
  for (let i = 0; i < 50; i++) {
    const left = sandboxProcesses();
    if (left.length === 0) return [];
    await new Promise((r) => setTimeout(r, 100));
  }
  return sandboxProcesses();
}

describe('sandbox: hostile programs', function () {
  this.timeout(120_000);
  let executor: Executor;
  let workRoot: string;
  let listener: net.Server;
  let port: number;
  let loopbackConnections = 0;

  before(async () => {
    process.env.SANDBOX_TEST_SECRET = 'do-not-leak';
    workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'hostile-'));
    fs.chmodSync(workRoot, 0o711);
    // Another job's file, which no program may read.
    fs.mkdirSync(path.join(workRoot, 'jobs'), { recursive: true, mode: 0o711 });
    fs.writeFileSync(path.join(workRoot, 'jobs', 'secret-other-job.py'), 'secret');
    executor = await createSandboxExecutor({ concurrency: CONCURRENCY, workRoot, uidBase: UID_BASE });
    listener = net.createServer((socket) => {
      loopbackConnections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as net.AddressInfo).port;
  });

  after(async () => {
    await executor?.close();
    listener?.close();
    fs.rmSync(workRoot, { recursive: true, force: true });
  });

  for (const program of HOSTILE_PROGRAMS) {
    it(`${program.name} -> ${program.expect.join(' | ')}`, async () => {
      const report = await executor.execute({
        id: program.name,
        language: program.language,
        source: withPort(program.source, port),
        cases: [{ index: 1, input: program.input ?? '' }],
        limits: { timeLimitMs: 1000, memoryLimitMb: program.memoryLimitMb ?? 64, outputLimitBytes: 64 * 1024 },
      });
      const kind = outcomeKind(report);
      const detail = report.compile.ok ? JSON.stringify({ ...report.runs[0].outcome, stdout: report.runs[0].outcome.stdout.slice(0, 200) }) : report.compile.output.slice(0, 300);
      assert.ok(program.expect.includes(kind), `got ${kind}: ${detail}`);
      if (report.compile.ok) {
        const { stdout } = report.runs[0].outcome;
        if (program.stdoutMustNotMatch) assert.doesNotMatch(stdout, program.stdoutMustNotMatch);
        if (program.stdoutMustMatch) assert.match(stdout, program.stdoutMustMatch);
      }
      assert.deepEqual(await waitForNoSandboxProcesses(), [], 'processes outlived the run');
      assert.deepEqual(fs.readdirSync(path.join(workRoot, 'jobs')), ['secret-other-job.py'], 'job files left behind');
    });
  }

  it('nothing reached the loopback listener and nothing was written outside', () => {
    assert.equal(loopbackConnections, 0);
    assert.equal(fs.existsSync('/usr/evil.txt'), false);
    assert.doesNotMatch(fs.readFileSync('/etc/passwd', 'utf8'), /^x$/);
  });

  it('still runs a normal program afterwards', async () => {
    const report = await executor.execute({ id: 'after', language: 'python', source: 'print(input()[::-1])', cases: [{ index: 1, input: 'olleh\n' }], limits: { timeLimitMs: 1000, memoryLimitMb: 64, outputLimitBytes: 1024 } });
    assert.equal(report.runs[0].outcome.stdout, 'hello\n');
  });
});
