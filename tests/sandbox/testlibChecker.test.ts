/**
 * Checker programs in the testlib convention, compiled and run in the real sandbox: the verdict
 * comes from the checker's exit code, partial points from its output, and a checker that crashes,
 * loops, floods or answers nonsense makes the case IE, never AC.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createSandboxExecutor } from '../../worker/src/executors/sandbox';
import type { Executor } from '../../worker/src/executors/port';
import type { CheckerHost } from '../../worker/src/grading/programChecker';
import { gradeSubmission } from '../../worker/src/grading/engine';
import { buildTestSet, TestSet } from '../../worker/src/problems/testSet';
import { readTestSetFromFolder } from '../../worker/src/problems/localFolder';
import type { Language } from '../../core/src/languages';

const ANY_PAIR = path.resolve(__dirname, '../../examples/problems/any-pair');
const PAIR_PY = 'n = int(input())\nprint(n // 2, n - n // 2)\n';

/** A problem whose every case is `input` -> `answer`, judged by `checker` (file name picks the language). */
function problemWith(checkerFile: string, checker: string, extra: Record<string, string> = {}, manifest: object = {}): TestSet {
  return buildTestSet(
    new Map(
      Object.entries({
        '1.in': '7\n',
        '1.out': '1 6\n',
        '2.in': '9\n',
        '2.out': '1 8\n',
        'manifest.json': JSON.stringify({ checker: { type: 'testlib', source: checkerFile }, samples: [1], ...manifest }),
        [checkerFile]: checker,
        ...extra,
      }),
    ),
  );
}

describe('testlib checkers in the sandbox', function () {
  this.timeout(180_000);
  let executor: Executor & CheckerHost;
  let workRoot: string;

  before(async () => {
    workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'checkers-'));
    executor = await createSandboxExecutor({ concurrency: 2, workRoot, uidBase: 62300 });
  });
  after(() => fs.rmSync(workRoot, { recursive: true, force: true }));

  const grade = (testSet: TestSet, source = PAIR_PY, language: Language = 'python', audience: 'public' | 'author' = 'public') =>
    gradeSubmission({
      request: { requestId: `chk_${Date.now()}`, language, timeLimit: 2000, memoryLimit: 256 },
      source,
      testSet,
      executor,
      audience,
    });

  it('accepts any valid pair (the output differs from the answer file) and rejects an invalid one', async () => {
    const testSet = await readTestSetFromFolder(ANY_PAIR);
    const ok = await grade(testSet);
    assert.equal(ok.result.result!.verdict, 'AC', ok.log);
    assert.equal(ok.result.result!.score, 100);
    // The checker's comment is the case message, for the sample case only.
    assert.equal(ok.result.result!.testResults[0].message, 'ok 3 + 4');
    assert.equal(ok.result.result!.testResults[1].message, undefined);
    const wrong = await grade(testSet, 'n = int(input())\nprint(n, 0)\n');
    assert.equal(wrong.result.result!.verdict, 'WA');
    assert.match(wrong.log, /expected two positive integers/);
  });

  it('compiles a checker once per test-set version', async () => {
    const testSet = await readTestSetFromFolder(ANY_PAIR);
    await grade(testSet);
    const cache = path.join(workRoot, 'checkers');
    const before = fs.readdirSync(cache).map((d) => [d, fs.statSync(path.join(cache, d, 'checker')).mtimeMs]);
    await grade(testSet);
    const after = fs.readdirSync(cache).map((d) => [d, fs.statSync(path.join(cache, d, 'checker')).mtimeMs]);
    assert.deepEqual(after, before);
  });

  it('compiles #include "testlib.h" from the problem folder', async () => {
    const header =
      '#pragma once\n#include <cstdio>\ninline int acceptWith(const char *m) { std::fprintf(stderr, "%s\\n", m); return 0; }\n';
    const checker = '#include "testlib.h"\nint main() { return acceptWith("fine by the header"); }\n';
    const result = await grade(problemWith('checker.cpp', checker, { 'testlib.h': header }));
    assert.equal(result.result.result!.verdict, 'AC', result.log);
    assert.equal(result.result.result!.testResults[0].message, 'fine by the header');
  });

  it('runs a Python checker and scores partial points (exit 7, fraction on stdout)', async () => {
    const checker = 'import sys\nprint("0.25 a quarter")\nsys.exit(7)\n';
    const result = await grade(problemWith('checker.py', checker));
    const outcome = result.result.result!;
    assert.equal(outcome.verdict, 'WA', result.log);
    assert.deepEqual(
      outcome.testResults.map((r) => [r.status, r.points]),
      [
        ['WA', 0.25],
        ['WA', 0.25],
      ],
    );
    assert.equal(outcome.score, 25);
  });

  it('reads testlib-style points from stderr ("points 1" is accepted)', async () => {
    const checker = 'import sys\nsys.stderr.write("points 1 full marks\\n")\nsys.exit(7)\n';
    const result = await grade(problemWith('checker.py', checker));
    assert.equal(result.result.result!.verdict, 'AC', result.log);
  });

  it('counts presentation error (exit 2) as WA', async () => {
    const result = await grade(problemWith('checker.py', 'import sys\nsys.exit(2)\n'));
    assert.deepEqual(
      result.result.result!.testResults.map((r) => r.status),
      ['WA', 'WA'],
    );
  });

  const hostile: Array<[string, string, string, RegExp]> = [
    [
      'exits 3 (checker failure)',
      'checker.py',
      'import sys\nsys.stderr.write("bad answer file\\n")\nsys.exit(3)\n',
      /exit code 3: bad answer file/,
    ],
    ['crashes', 'checker.cpp', '#include <cstdlib>\nint main() { std::abort(); }\n', /checker failed/],
    ['loops', 'checker.cpp', 'int main() { volatile unsigned long x = 0; for (;;) x++; }\n', /checker failed: (CPU|wall) time limit/], // CPU, or wall first on a loaded machine: IE either way
    ['sleeps', 'checker.py', 'import time\ntime.sleep(60)\n', /checker failed: wall time limit/],
    ['floods stdout', 'checker.py', 'import sys\nwhile True: sys.stdout.write("x" * 65536)\n', /checker failed: output exceeded/],
    ['exits 7 with garbage instead of points', 'checker.py', 'import sys\nprint("lots")\nsys.exit(7)\n', /without a score fraction/],
    ['exits 7 with points above 1', 'checker.py', 'import sys\nprint("1.5")\nsys.exit(7)\n', /without a score fraction/],
    ['exits with an unknown code', 'checker.py', 'import sys\nsys.exit(42)\n', /exit code 42/],
  ];
  for (const [what, file, source, why] of hostile) {
    it(`makes every case IE, never AC, when the checker ${what}`, async () => {
      const result = await grade(problemWith(file, source));
      assert.deepEqual(
        result.result.result!.testResults.map((r) => r.status),
        ['IE', 'IE'],
        result.log,
      );
      assert.equal(result.result.result!.verdict, 'IE');
      assert.match(result.log, why);
    });
  }

  it('makes every case IE and runs nothing when the checker does not compile', async () => {
    const result = await grade(problemWith('checker.cpp', 'int main( {'));
    assert.equal(result.result.result!.verdict, 'IE');
    assert.match(result.log, /checker checker\.cpp does not compile/);
    assert.doesNotMatch(result.log, /compile: ok/);
  });

  it('checks output an executor returned whole (as Judge0 does), with the sandbox as checker host', async () => {
    const testSet = await readTestSetFromFolder(ANY_PAIR);
    const wholeOutput: Executor = {
      name: 'whole-output',
      async execute(job) {
        const runs = job.cases.map((c) => {
          const n = Number(c.input.trim());
          return {
            index: c.index,
            outcome: {
              status: 'exited' as const,
              exitCode: 0,
              signal: null,
              stdout: `2 ${n - 2}\n`,
              stderr: '',
              timeMs: 1,
              wallMs: 1,
              memoryMb: 1,
            },
          };
        });
        return { compile: { ok: true, output: '', timeMs: 0 }, runs };
      },
      async close() {},
    };
    const result = await gradeSubmission({
      request: { requestId: 'whole', language: 'python', timeLimit: 1000, memoryLimit: 64 },
      source: '',
      testSet,
      executor: wholeOutput,
      checkerHost: executor,
    });
    // Case 2 is n = 2: "2 0" is not a pair of positive integers.
    assert.deepEqual(
      result.result.result!.testResults.map((r) => r.status),
      ['AC', 'WA', 'AC', 'AC'],
      result.log,
    );
  });

  it('refuses (IE) a testlib problem on an executor without a checker host', async () => {
    const testSet = await readTestSetFromFolder(ANY_PAIR);
    const none: Executor = { name: 'none', execute: () => assert.fail('must not run'), close: async () => undefined };
    const result = await gradeSubmission({
      request: { requestId: 'none', language: 'python', timeLimit: 1000, memoryLimit: 64 },
      source: '',
      testSet,
      executor: none,
    });
    assert.equal(result.result.result!.verdict, 'IE');
    assert.match(result.log, /runs in the worker's local sandbox/);
  });
});
