/**
 * Interactive problems in the real sandbox: the program and the interactor each sandboxed, connected
 * by pipes; the interactor's exit code decides, a deadlock is TLE by wall clock, a broken interactor IE.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createSandboxExecutor } from '../../worker/src/executors/sandbox';
import type { Executor } from '../../worker/src/executors/port';
import { gradeSubmission } from '../../worker/src/grading/engine';
import { buildTestSet, TestSet } from '../../worker/src/problems/testSet';
import { readTestSetFromFolder } from '../../worker/src/problems/localFolder';
import type { Language } from '../../core/src/languages';

const GUESS = path.resolve(__dirname, '../../examples/problems/guess-number');
const SOLUTION = fs.readFileSync(path.resolve(__dirname, '../../examples/solutions/guess-number/accepted.py'), 'utf8');

/** One case (input "5"), judged by a Python interactor. */
function withInteractor(interactor: string): TestSet {
  return buildTestSet(
    new Map(
      Object.entries({
        '1.in': '5\n',
        '1.out': '',
        'manifest.json': JSON.stringify({ interactor: { source: 'interactor.py' }, timeLimit: 1000 }),
        'interactor.py': interactor,
      }),
    ),
  );
}

describe('interactive problems in the sandbox', function () {
  this.timeout(180_000);
  let executor: Executor;
  let workRoot: string;

  before(async () => {
    workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'interactive-'));
    executor = await createSandboxExecutor({ concurrency: 2, workRoot, uidBase: 62500 });
  });
  after(() => fs.rmSync(workRoot, { recursive: true, force: true }));

  const grade = (testSet: TestSet, source: string, language: Language = 'python') =>
    gradeSubmission({
      request: { requestId: `int_${Date.now()}`, language, timeLimit: 1000, memoryLimit: 256 },
      source,
      testSet,
      executor,
      audience: 'author',
    });

  it('accepts a binary search against the C++ interactor and rejects a guess', async () => {
    const testSet = await readTestSetFromFolder(GUESS);
    const ok = await grade(testSet, SOLUTION);
    assert.equal(ok.result.result!.verdict, 'AC', ok.log);
    assert.match(ok.result.result!.testResults[0].message ?? '', /found in \d+ questions/);
    const wrong = await grade(testSet, 'print("! 42", flush=True)\n');
    assert.deepEqual(
      wrong.result.result!.testResults.map((r) => r.status),
      ['WA', 'WA', 'WA'],
    );
  });

  it("counts the program its own CPU time, not the interactor's", async () => {
    const busyInteractor =
      'import sys\nx = 0\nfor i in range(3_000_000): x += i\nn = int(open(sys.argv[1]).read())\nprint("<" if n < 0 else "=", flush=True)\nsys.stdin.readline()\nsys.exit(0)\n';
    const result = await grade(withInteractor(busyInteractor), 'print("? 1", flush=True)\ninput()\nprint("! 5", flush=True)\n');
    assert.equal(result.result.result!.verdict, 'AC', result.log);
    assert.ok(result.result.result!.testResults[0].time < 150, result.log);
  });

  it('ends a deadlock (both sides reading) as TLE by wall clock', async () => {
    const waiting = 'import sys\nsys.stdin.readline()\nsys.exit(0)\n';
    const result = await grade(withInteractor(waiting), 'input()\n');
    assert.equal(result.result.result!.verdict, 'TLE', result.log);
    assert.match(result.log, /wall time limit/);
  });

  it("lets the interactor's wrong answer win over the program's crash on the closed pipe", async () => {
    const rejecting = 'import sys\nsys.stderr.write("no thanks\\n")\nsys.exit(1)\n';
    const result = await grade(withInteractor(rejecting), 'import time\ntime.sleep(0.3)\nwhile True:\n    print("? 1", flush=True)\n');
    assert.equal(result.result.result!.verdict, 'WA', result.log);
  });

  it('judges RE when the program crashes and the interactor has nothing against it', async () => {
    const lenient = 'import sys\nsys.stdin.read()\nsys.exit(0)\n';
    const result = await grade(withInteractor(lenient), 'raise SystemExit(3)\n');
    assert.equal(result.result.result!.verdict, 'RE', result.log);
  });

  for (const [what, interactor] of [
    ['crashes', 'import os\nos.abort()\n'],
    ['exits 3', 'import sys\nsys.exit(3)\n'],
    ['loops', 'while True: pass\n'],
    ['prints garbage points', 'import sys\nprint("plenty")\nsys.exit(7)\n'],
  ]) {
    it(`makes the case IE, never AC, when the interactor ${what}`, async () => {
      const result = await grade(withInteractor(interactor), 'import sys\nsys.stdin.read()\n');
      assert.equal(result.result.result!.verdict, 'IE', result.log);
      assert.match(result.log, /interactor failed/);
    });
  }

  it('lets the interactor write its output file (testlib opens it)', async () => {
    const writing = 'import sys\nopen(sys.argv[2], "w").write("log")\nsys.exit(0)\n';
    const result = await grade(withInteractor(writing), 'pass\n');
    assert.equal(result.result.result!.verdict, 'AC', result.log);
  });

  it('refuses (IE) an interactive problem on an executor that cannot interact (Judge0)', async () => {
    const testSet = await readTestSetFromFolder(GUESS);
    const judge0Like: Executor = { name: 'judge0', execute: () => assert.fail('must not run'), close: async () => undefined };
    const result = await gradeSubmission({
      request: { requestId: 'j0', language: 'python', timeLimit: 1000, memoryLimit: 64 },
      source: SOLUTION,
      testSet,
      executor: judge0Like,
    });
    assert.equal(result.result.result!.verdict, 'IE');
    assert.match(result.log, /interactive problems run on the worker's local sandbox executor/);
  });
});
