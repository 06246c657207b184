/** Ordinary programs in the sandbox: every language, accurate figures, parallel cases. */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createSandboxExecutor } from '../../worker/src/executors/sandbox';
import type { CaseRun, Executor } from '../../worker/src/executors/port';
import type { Language } from '../../core/src/languages';
import { startTimeOf } from '../../worker/src/executors/sandbox/uidLocks';

const SUM: Record<Language, string> = {
  python: 'a, b = map(int, input().split())\nprint(a + b)',
  javascript: 'const [a, b] = require("fs").readFileSync(0, "utf8").trim().split(/\\s+/).map(Number);\nconsole.log(a + b);',
  c: '#include <stdio.h>\nint main(){ long a, b; scanf("%ld %ld", &a, &b); printf("%ld\\n", a + b); return 0; }',
  cpp: '#include <iostream>\nint main(){ long a, b; std::cin >> a >> b; std::cout << a + b << "\\n"; }',
  java: 'import java.util.*;\npublic class Main { public static void main(String[] args) { Scanner s = new Scanner(System.in); System.out.println(s.nextLong() + s.nextLong()); } }',
  go: 'package main\nimport "fmt"\nfunc main() { var a, b int64; fmt.Scan(&a, &b); fmt.Println(a + b) }',
  rust:
    'use std::io::Read;\nfn main() { let mut s = String::new(); std::io::stdin().read_to_string(&mut s).unwrap(); ' +
    'let v: Vec<i64> = s.split_whitespace().map(|x| x.parse().unwrap()).collect(); println!("{}", v[0] + v[1]); }',
};

const limits = { timeLimitMs: 3000, memoryLimitMb: 256, outputLimitBytes: 1 << 20 };

describe('sandbox executor', function () {
  this.timeout(120_000);
  let executor: Executor;
  let workRoot: string;

  before(async () => {
    workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-'));
    executor = await createSandboxExecutor({ concurrency: 2, workRoot, uidBase: 62100 });
  });
  after(() => fs.rmSync(workRoot, { recursive: true, force: true }));

  for (const language of Object.keys(SUM) as Language[]) {
    it(`compiles once and runs every case in ${language}`, async () => {
      const cases = [
        { index: 1, input: '1 2\n' },
        { index: 2, input: '40 2\n' },
        { index: 3, input: '-5 5\n' },
      ];
      const seen: number[] = [];
      const report = await executor.execute({ id: `sum-${language}`, language, source: SUM[language], cases, limits }, (run) =>
        seen.push(run.index),
      );
      assert.equal(report.compile.ok, true, report.compile.output);
      assert.deepEqual(
        report.runs.map((r) => [r.index, r.outcome.status, r.outcome.exitCode, r.outcome.stdout]),
        [
          [1, 'exited', 0, '3\n'],
          [2, 'exited', 0, '42\n'],
          [3, 'exited', 0, '0\n'],
        ],
      );
      assert.deepEqual(seen.sort(), [1, 2, 3]);
    });
  }

  it('reports peak memory within 10 MB for a program touching 100 MB', async () => {
    const source =
      '#include <stdlib.h>\n#include <string.h>\n#include <stdio.h>\nint main(){ size_t n = 100u << 20; volatile char *p = malloc(n); long sum = 0; for (size_t i = 0; i < n; i += 4096) p[i] = (char)i; for (size_t i = 0; i < n; i += 4096) sum += p[i]; printf("%ld\\n", sum); return 0; }';
    const report = await executor.execute({ id: 'mem', language: 'c', source, cases: [{ index: 1, input: '' }], limits });
    const { memoryMb, status } = report.runs[0].outcome;
    assert.equal(status, 'exited');
    assert.ok(Math.abs(memoryMb - 100) <= 10, `memoryMb ${memoryMb}`);
  });

  it('reports CPU time within 50 ms for a 1 s busy loop', async () => {
    const source =
      '#include <time.h>\nint main(){ clock_t start = clock(); while ((double)(clock() - start) / CLOCKS_PER_SEC < 1.0) {} return 0; }';
    const report = await executor.execute({ id: 'cpu', language: 'c', source, cases: [{ index: 1, input: '' }], limits });
    const { timeMs } = report.runs[0].outcome;
    assert.ok(Math.abs(timeMs - 1000) <= 50, `timeMs ${timeMs}`);
  });

  it('reports exit codes, signals and compile errors', async () => {
    const exit3 = await executor.execute({
      id: 're',
      language: 'python',
      source: 'import sys\nsys.exit(3)',
      cases: [{ index: 1, input: '' }],
      limits,
    });
    assert.deepEqual([exit3.runs[0].outcome.status, exit3.runs[0].outcome.exitCode], ['exited', 3]);
    const segv = await executor.execute({
      id: 'segv',
      language: 'c',
      source: 'int main(){ volatile int *p = 0; return *p; }',
      cases: [{ index: 1, input: '' }],
      limits,
    });
    assert.deepEqual([segv.runs[0].outcome.status, segv.runs[0].outcome.signal], ['signaled', 'SIGSEGV']);
    const fpe = await executor.execute({
      id: 'fpe',
      language: 'c',
      source: 'int main(){ volatile int zero = 0, seven = 7; return seven / zero; }',
      cases: [{ index: 1, input: '' }],
      limits,
    });
    assert.equal(fpe.runs[0].outcome.signal, 'SIGFPE');
    const ce = await executor.execute({
      id: 'ce',
      language: 'java',
      source: 'public class Main { void f( }',
      cases: [{ index: 1, input: '' }],
      limits,
    });
    assert.equal(ce.compile.ok, false);
    assert.match(ce.compile.output, /Main\.java:1: error/);
    assert.deepEqual(ce.runs, []);
  });

  for (const [language, panics, broken, exitCode, message] of [
    [
      'go',
      'package main\nimport "fmt"\nfunc main() { var n int; fmt.Scan(&n); a := []int{1}; fmt.Println(a[n]) }',
      'package main\nfunc main() { x := }',
      2,
      /main\.go:2/,
    ],
    [
      'rust',
      'fn main() { let mut s = String::new(); std::io::stdin().read_line(&mut s).unwrap(); let n: usize = s.trim().parse().unwrap(); ' +
        'let a = vec![1]; println!("{}", a[n]); }',
      'fn main() { let x: i32 = "text"; }',
      101,
      /mismatched types/,
    ],
  ] as const) {
    it(`reports a ${language} panic as its exit code and a ${language} compile error with the compiler's message`, async () => {
      const ran = await executor.execute({
        id: `panic-${language}`,
        language,
        source: panics,
        cases: [
          { index: 1, input: '0\n' },
          { index: 2, input: '5\n' },
        ],
        limits,
      });
      assert.deepEqual(
        ran.runs.map((r) => [r.outcome.status, r.outcome.exitCode, r.outcome.stdout]),
        [
          ['exited', 0, '1\n'],
          ['exited', exitCode, ''],
        ],
      );
      assert.match(ran.runs[1].outcome.stderr, /index out of (range|bounds)/);
      const ce = await executor.execute({ id: `ce-${language}`, language, source: broken, cases: [{ index: 1, input: '' }], limits });
      assert.equal(ce.compile.ok, false);
      assert.match(ce.compile.output, message);
    });
  }

  it('runs cases in parallel up to its concurrency', async () => {
    const cases = Array.from({ length: 4 }, (_, i) => ({ index: i + 1, input: '' }));
    const finished: CaseRun[] = [];
    // Each run prints when it started and ended (wall clock); with two slots some must overlap.
    const source = 'import time\nstart = time.time()\ntime.sleep(0.3)\nprint(start, time.time())';
    await executor.execute({ id: 'par', language: 'python', source, cases, limits }, (r) => finished.push(r));
    assert.equal(finished.length, 4);
    const spans = finished.map((r) => r.outcome.stdout.trim().split(' ').map(Number)).sort((a, b) => a[0] - b[0]);
    const overlaps = spans.some(([start], i) => spans.some(([s, e], j) => j !== i && s <= start && start < e));
    assert.ok(overlaps, `no two runs overlapped: ${JSON.stringify(spans)}`);
  });

  it('removes the job dirs and mounts a dead worker left behind, and only those', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-stale-'));
    try {
      const jobs = path.join(root, 'jobs');
      fs.mkdirSync(jobs);
      const dead = spawnSync('/bin/true').pid!;
      const stale = path.join(jobs, `${dead}_1-req_x-AbCdEf`);
      const live = path.join(jobs, `${process.pid}_${startTimeOf(process.pid)}-req_y-GhIjKl`);
      for (const dir of [stale, live]) fs.mkdirSync(dir);
      execFileSync('/usr/bin/mount', ['-t', 'tmpfs', 'box', stale]);
      fs.writeFileSync(path.join(stale, 'main'), 'x');
      await createSandboxExecutor({ concurrency: 1, workRoot: root, uidBase: 62180, uidCount: 1 });
      assert.deepEqual(fs.readdirSync(jobs), [path.basename(live)]);
      assert.ok(!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(stale), 'the stale tmpfs is unmounted');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
