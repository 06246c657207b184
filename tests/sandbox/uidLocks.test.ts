/**
 * Sandbox uids are locked host-wide: two executors (two workers) never run programs as the same uid
 * at once, a lock of a dead owner is taken over, and nothing is left behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createSandboxExecutor } from '../../worker/src/executors/sandbox';
import { UidLease, UidLocks } from '../../worker/src/executors/sandbox/uidLocks';

const UID_BASE = 62500;

describe('sandbox: uid locks', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uid-locks-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('hands each uid to one holder at a time, across lock objects', async () => {
    const a = new UidLocks(dir, [UID_BASE, UID_BASE + 1]);
    const b = new UidLocks(dir, [UID_BASE, UID_BASE + 1]);
    const first = await a.acquire();
    const second = await b.acquire();
    assert.notEqual(first.uid, second.uid);
    assert.equal(a.tryLock(first.uid), undefined);
    let third: UidLease | undefined;
    const waiting = b.acquire().then((lease) => (third = lease));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(third, undefined, 'waits while every uid is held');
    first.release();
    await waiting;
    assert.equal(third!.uid, first.uid);
    second.release();
    third!.release();
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('takes over the lock of a process that died holding it, not of one that lives', async () => {
    const holder = spawn(
      process.execPath,
      [
        '--require',
        'tsx/cjs',
        '-e',
        `const { UidLocks } = require(${JSON.stringify(path.resolve(__dirname, '../../worker/src/executors/sandbox/uidLocks'))});` +
          `new UidLocks(${JSON.stringify(dir)}, [${UID_BASE}]).tryLock(${UID_BASE}); console.log('held'); setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    const locks = new UidLocks(dir, [UID_BASE]);
    assert.equal(locks.tryLock(UID_BASE), undefined, 'a live holder keeps its lock');
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    const lease = locks.tryLock(UID_BASE);
    assert.ok(lease, "the dead holder's lock is taken over");
    lease.release();
    // A pid that lives but started at another time (reused) does not hold the lock either.
    fs.writeFileSync(locks.lockFile(UID_BASE), `${process.pid} 1\n`);
    const again = locks.tryLock(UID_BASE);
    assert.ok(again);
    again.release();
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it('keeps two executors sharing a uid range on different uids at any moment', async () => {
    const workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'uid-share-'));
    fs.chmodSync(workRoot, 0o711);
    const options = { concurrency: 2, workRoot, uidBase: UID_BASE + 10, uidCount: 2, lockDir: dir };
    const [one, two] = [await createSandboxExecutor(options), await createSandboxExecutor(options)];
    try {
      const source = 'import os, time\nstart = time.time()\ntime.sleep(0.3)\nprint(os.getuid(), start, time.time())';
      const cases = Array.from({ length: 3 }, (_, i) => ({ index: i + 1, input: '' }));
      const limits = { timeLimitMs: 2000, memoryLimitMb: 64, outputLimitBytes: 1024 };
      const reports = await Promise.all(
        [one, two].map((executor, i) => executor.execute({ id: `share-${i}`, language: 'python', source, cases, limits })),
      );
      const runs = reports.flatMap((r) => r.runs.map((run) => run.outcome.stdout.trim().split(' ').map(Number)));
      assert.equal(runs.length, 6);
      for (const [uid, start, end] of runs) {
        const clash = runs.find(([u, s, e]) => u === uid && s !== start && s < end && start < e);
        assert.equal(clash, undefined, `two runs as uid ${uid} overlapped: ${JSON.stringify(runs)}`);
      }
      assert.deepEqual(fs.readdirSync(dir), [], 'no lock left behind');
    } finally {
      fs.rmSync(workRoot, { recursive: true, force: true });
    }
  });
});
