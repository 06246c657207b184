/**
 * Testlib checkers and interactive problems on the Judge0 path (EXECUTOR=judge0: no local sandbox,
 * no compiler in the worker), against the Judge0 test server, which really runs multi-file programs
 * (zip unpacked into the box, `compile` and `run` scripts, isolate_job.rb:82-233). The checker and the
 * interactor are compiled on "Judge0" once per test-set version; hostile checkers and interactors
 * make the case IE, never AC.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createJudge0Executor, Judge0Executor } from '../../worker/src/executors/judge0';
import { checkerOutcome, JUDGE0_CHECKER_LIMITS } from '../../worker/src/executors/judge0/checker';
import { readInteractiveRun } from '../../worker/src/executors/judge0/interactive';
import type { Judge0Submission } from '../../worker/src/executors/judge0/statuses';
import { readTestlibRun } from '../../worker/src/grading/programChecker';
import { isInteractiveExecutor } from '../../worker/src/executors/port';
import { gradeSubmission } from '../../worker/src/grading/engine';
import { isCheckerHost } from '../../worker/src/grading/programChecker';
import { buildTestSet, TestSet } from '../../worker/src/problems/testSet';
import { readTestSetFromFolder } from '../../worker/src/problems/localFolder';
import type { Language } from '../../core/src/languages';
import { Judge0TestServer, startJudge0TestServer } from '../helpers/judge0TestServer';

const ANY_PAIR = path.resolve(__dirname, '../../examples/problems/any-pair');
const GUESS = path.resolve(__dirname, '../../examples/problems/guess-number');
const GUESS_PY = fs.readFileSync(path.resolve(__dirname, '../../examples/solutions/guess-number/accepted.py'), 'utf8');
const PAIR_PY = 'n = int(input())\nprint(n // 2, n - n // 2)\n';
const fast = { pollInitialMs: 20, pollMaxMs: 100, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 50))) };

/** Every case `n` -> `1 n-1`, judged by `checker` (the file name picks the language). */
function withChecker(checkerFile: string, checker: string, extra: Record<string, string> = {}): TestSet {
  const files = { '1.in': '7\n', '1.out': '1 6\n', '2.in': '9\n', '2.out': '1 8\n', [checkerFile]: checker, ...extra };
  return buildTestSet(
    new Map(
      Object.entries({ ...files, 'manifest.json': JSON.stringify({ checker: { type: 'testlib', source: checkerFile }, samples: [1] }) }),
    ),
  );
}

/** One case (input "5"), judged by a Python interactor. */
function withInteractor(interactor: string): TestSet {
  const manifest = JSON.stringify({ interactor: { source: 'interactor.py' }, timeLimit: 1000 });
  return buildTestSet(new Map(Object.entries({ '1.in': '5\n', '1.out': '', 'manifest.json': manifest, 'interactor.py': interactor })));
}

/** The files of the multi-file programs posted so far (unzipped names), one list per submission. */
function postedProjects(judge0: Judge0TestServer): string[][] {
  return judge0.posted
    .filter((p) => p.path === '/submissions' && (p.body as { language_id?: number }).language_id === 89)
    .map((p) => zipNames(Buffer.from(String((p.body as { additional_files: string }).additional_files), 'base64')));
}

function zipNames(zip: Buffer): string[] {
  const names: string[] = [];
  for (
    let at = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    at >= 0;
    at = zip.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), at + 46)
  ) {
    names.push(zip.subarray(at + 46, at + 46 + zip.readUInt16LE(at + 28)).toString('utf8'));
  }
  return names;
}

describe('Judge0: testlib checkers and interactive problems (multi-file programs)', function () {
  this.timeout(300_000);
  let judge0: Judge0TestServer;
  let executor: Judge0Executor;

  before(async () => {
    judge0 = await startJudge0TestServer({ authToken: 'tok', uidBase: 63100, workers: 2 });
    executor = await createJudge0Executor({ baseUrl: judge0.baseUrl, authToken: 'tok', ...fast });
  });
  after(() => judge0?.close());

  const grade = (testSet: TestSet, source: string, language: Language = 'python', audience: 'public' | 'author' = 'public') =>
    gradeSubmission({
      request: { requestId: `j0p_${Date.now()}`, language, timeLimit: 1000, memoryLimit: 128 },
      source,
      testSet,
      executor,
      audience,
    });

  it('is its own checker host and runs interactive problems', () => {
    assert.equal(isCheckerHost(executor), true);
    assert.equal(isInteractiveExecutor(executor), true);
  });

  describe('testlib checkers', () => {
    it('accepts any valid pair with the example C++ checker and rejects an invalid one, compiling the checker once', async () => {
      const testSet = await readTestSetFromFolder(ANY_PAIR);
      const ok = await grade(testSet, PAIR_PY);
      assert.equal(ok.result.result!.verdict, 'AC', ok.log);
      assert.equal(ok.result.result!.testResults[0].message, 'ok 3 + 4');
      assert.equal(ok.result.result!.testResults[1].message, undefined);
      const wrong = await grade(testSet, 'n = int(input())\nprint(n, 0)\n');
      assert.equal(wrong.result.result!.verdict, 'WA', wrong.log);
      assert.match(wrong.log, /expected two positive integers/);
      const projects = postedProjects(judge0);
      // One build (the compile script), then one checker run per case that exited cleanly.
      assert.equal(projects.filter((files) => files.includes('compile')).length, 1, JSON.stringify(projects));
      const runs = projects.filter((files) => files.includes('answer.txt'));
      assert.equal(runs.length, 2 * testSet.cases.length);
      assert.deepEqual([...runs[0]].sort(), ['answer.txt', 'checker', 'input.txt', 'output.txt', 'run']);
    });

    it('does not run the checker for a program that failed (its own verdict stands)', async () => {
      const before = postedProjects(judge0).length;
      const result = await grade(await readTestSetFromFolder(ANY_PAIR), 'raise SystemExit(2)\n');
      assert.equal(result.result.result!.verdict, 'RE', result.log);
      assert.equal(postedProjects(judge0).length, before);
    });

    it('compiles #include "testlib.h" from the problem folder', async () => {
      const header =
        '#pragma once\n#include <cstdio>\ninline int acceptWith(const char *m) { std::fprintf(stderr, "%s\\n", m); return 0; }\n';
      const checker = '#include "testlib.h"\nint main() { return acceptWith("fine by the header"); }\n';
      const result = await grade(withChecker('checker.cpp', checker, { 'testlib.h': header }), PAIR_PY);
      assert.equal(result.result.result!.verdict, 'AC', result.log);
      assert.equal(result.result.result!.testResults[0].message, 'fine by the header');
    });

    it('reads the three files in testlib order and scores partial points (exit 7, fraction on stdout)', async () => {
      const checker = [
        'import sys',
        'inp, out, ans = (open(f).read().split() for f in sys.argv[1:4])',
        'if len(out) == 2 and int(out[0]) + int(out[1]) == int(inp[0]) and ans[0] == "1": print("0.25 a quarter"); sys.exit(7)',
        'sys.exit(3)',
      ].join('\n');
      const result = await grade(withChecker('checker.py', checker), PAIR_PY);
      const outcome = result.result.result!;
      assert.deepEqual(
        outcome.testResults.map((r) => [r.status, r.points]),
        [
          ['WA', 0.25],
          ['WA', 0.25],
        ],
        result.log,
      );
      assert.equal(outcome.score, 25);
    });

    it('counts presentation error (exit 2, Judge0 "Runtime Error (NZEC)") as WA', async () => {
      const result = await grade(withChecker('checker.py', 'import sys\nsys.exit(2)\n'), PAIR_PY);
      assert.deepEqual(
        result.result.result!.testResults.map((r) => r.status),
        ['WA', 'WA'],
        result.log,
      );
    });

    const hostile: Array<[string, string, string, RegExp]> = [
      [
        'exits 3 (checker failure)',
        'checker.py',
        'import sys\nsys.stderr.write("bad answer file\\n")\nsys.exit(3)\n',
        /exit code 3: bad answer file/,
      ],
      ['crashes', 'checker.cpp', '#include <cstdlib>\nint main() { std::abort(); }\n', /checker failed: killed/],
      ['loops', 'checker.cpp', 'int main() { volatile unsigned long x = 0; for (;;) x++; }\n', /checker failed: time limit/],
      ['sleeps', 'checker.py', 'import time\ntime.sleep(60)\n', /checker failed: time limit/],
      ['floods stdout', 'checker.py', 'import sys\nwhile True: sys.stdout.write("x" * 65536)\n', /checker failed: output exceeded/],
      ['exits 7 with garbage instead of points', 'checker.py', 'import sys\nprint("lots")\nsys.exit(7)\n', /without a score fraction/],
      ['exits with an unknown code', 'checker.py', 'import sys\nsys.exit(42)\n', /exit code 42/],
    ];
    for (const [what, file, source, why] of hostile) {
      it(`makes every case IE, never AC, when the checker ${what}`, async () => {
        const result = await grade(withChecker(file, source), PAIR_PY);
        assert.deepEqual(
          result.result.result!.testResults.map((r) => r.status),
          ['IE', 'IE'],
          result.log,
        );
        assert.match(result.log, why);
      });
    }

    it("makes a case IE, naming the file, when a file for the checker exceeds Judge0's MAX_EXTRACT_SIZE", async () => {
      const small = await startJudge0TestServer({ authToken: 'tok', uidBase: 63104, workers: 1, settings: { maxExtractSize: 1 } });
      try {
        const limited = await createJudge0Executor({ baseUrl: small.baseUrl, authToken: 'tok', ...fast });
        const big = withChecker('checker.py', 'import sys\nsys.exit(0)\n', { '2.out': `1 8\n${' '.repeat(2000)}\n` });
        const result = await gradeSubmission({
          request: { requestId: 'extract', language: 'python', timeLimit: 1000, memoryLimit: 128 },
          source: PAIR_PY,
          testSet: big,
          executor: limited,
        });
        assert.deepEqual(
          result.result.result!.testResults.map((r) => r.status),
          ['AC', 'IE'],
          result.log,
        );
        assert.match(result.log, /answer\.txt \(2005 bytes\) larger than Judge0's MAX_EXTRACT_SIZE \(1 KB\)/);
      } finally {
        await small.close();
      }
    });

    it('makes every case IE and runs no program when the checker does not compile', async () => {
      const result = await grade(withChecker('checker.cpp', 'int main( {'), PAIR_PY);
      assert.equal(result.result.result!.verdict, 'IE');
      assert.match(result.log, /checker checker\.cpp does not compile on Judge0/);
      assert.doesNotMatch(result.log, /compile: ok/);
    });
  });

  describe('interactive problems', () => {
    it('accepts a binary search against the example C++ interactor and rejects a guess', async () => {
      const testSet = await readTestSetFromFolder(GUESS);
      const ok = await grade(testSet, GUESS_PY, 'python', 'author');
      assert.equal(ok.result.result!.verdict, 'AC', ok.log);
      assert.match(ok.result.result!.testResults[0].message ?? '', /found in \d+ questions/);
      const wrong = await grade(testSet, 'print("! 42", flush=True)\n');
      assert.deepEqual(
        wrong.result.result!.testResults.map((r) => r.status),
        ['WA', 'WA', 'WA'],
        wrong.log,
      );
    });

    it("compiles the contestant's C++ in the same box", async () => {
      const cpp =
        '#include <cstdio>\nint main(){long long lo=1,hi=1000000000;while(true){long long m=(lo+hi)/2;' +
        'printf("? %lld\\n",m);fflush(stdout);' +
        'char c[2];if(scanf("%1s",c)!=1)return 0;if(c[0]==\'=\'){printf("! %lld\\n",m);fflush(stdout);return 0;}' +
        "if(c[0]=='<')hi=m-1;else lo=m+1;}}";
      const result = await grade(await readTestSetFromFolder(GUESS), cpp, 'cpp');
      assert.equal(result.result.result!.verdict, 'AC', result.log);
      const compileError = await grade(await readTestSetFromFolder(GUESS), 'int main( {', 'cpp');
      assert.equal(compileError.result.result!.verdict, 'CE');
    });

    it('runs Java with its heap flags in the interaction (the run command of GET /languages/:id)', async () => {
      const java =
        'import java.util.*;\npublic class Main { public static void main(String[] a) {\n' +
        'Scanner s = new Scanner(System.in); long lo = 1, hi = 1000000000L;\n' +
        'while (true) { long m = (lo + hi) / 2; System.out.println("? " + m); System.out.flush(); String c = s.next();\n' +
        'if (c.equals("=")) { System.out.println("! " + m); System.out.flush(); return; }\n' +
        'if (c.equals("<")) hi = m - 1; else lo = m + 1; } } }';
      const result = await gradeSubmission({
        request: { requestId: 'j0p_java', language: 'java', timeLimit: 3000, memoryLimit: 128 },
        source: java,
        testSet: await readTestSetFromFolder(GUESS),
        executor,
      });
      assert.equal(result.result.result!.verdict, 'AC', result.log);
      const run = postedProjects(judge0).at(-1)!;
      assert.ok(run.includes('Main.java') && run.includes('compile') && run.includes('interactor'), run.join(','));
      // Stored entries: the run script is readable in the zip as it was sent.
      const zip = Buffer.from(String((judge0.posted.at(-1)!.body as { additional_files: string }).additional_files), 'base64').toString(
        'latin1',
      );
      const script = zip.slice(zip.indexOf('mkfifo'), zip.indexOf('mkfifo') + 300);
      assert.match(script, /ulimit -t 2\n +\/usr\/bin\/java -Xmx128m [^\n]* Main < to_program > to_interactor/, script);
    });

    it('keeps the case input away from the program (it shares the box with the interactor)', async () => {
      const peek =
        'import os\nsecret = open("input.txt").read().strip() if os.path.exists("input.txt") else "0"\nprint("!", secret, flush=True)\n';
      const result = await grade(await readTestSetFromFolder(GUESS), peek);
      assert.deepEqual(
        result.result.result!.testResults.map((r) => r.status),
        ['WA', 'WA', 'WA'],
        result.log,
      );
    });

    it("counts the program its own CPU time, not the interactor's", async () => {
      const busy =
        'import sys\nx = 0\nfor i in range(6_000_000): x += i\nn = int(open(sys.argv[1]).read())\n' +
        'print("=", flush=True)\nsys.stdin.readline()\nsys.stdin.readline()\nsys.exit(0)\n';
      const result = await grade(withInteractor(busy), 'print("? 1", flush=True)\ninput()\nprint("! 5", flush=True)\n', 'python', 'author');
      assert.equal(result.result.result!.verdict, 'AC', result.log);
      // The box's CPU time includes the interactor's busy loop; the program's own does not.
      assert.ok(result.result.result!.testResults[0].time < 300, result.log);
    });

    it('ends a deadlock (both sides reading) as TLE by wall clock', async () => {
      const waiting = 'import sys\nsys.stdin.readline()\nsys.exit(0)\n';
      const result = await grade(withInteractor(waiting), 'input()\n');
      assert.equal(result.result.result!.verdict, 'TLE', result.log);
    });

    it('judges a program over its CPU limit TLE', async () => {
      const lenient = 'import sys\nsys.stdin.read()\nsys.exit(0)\n';
      const result = await grade(withInteractor(lenient), 'while True: pass\n');
      assert.equal(result.result.result!.verdict, 'TLE', result.log);
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
  });
});

describe('Judge0 multi-file results read as checker and interaction facts', () => {
  const submission = (id: number, exitCode: number | null, extra: Partial<Judge0Submission> = {}): Judge0Submission => ({
    token: 't',
    status: { id, description: `status ${id}` },
    stdout: null,
    stderr: null,
    compile_output: null,
    message: null,
    time: '0.01',
    wall_time: '0.02',
    memory: 2048,
    exit_code: exitCode,
    exit_signal: null,
    ...extra,
  });
  const checker = (s: Judge0Submission, stdout = '', stderr = '') =>
    readTestlibRun(
      checkerOutcome(
        { submission: s, stdout: Buffer.from(stdout), stderr, stderrBytes: Buffer.byteLength(stderr), message: '' },
        JUDGE0_CHECKER_LIMITS,
      ),
    );

  it("maps the checker's exit code, which Judge0 reports as Accepted or NZEC with exit_code", () => {
    assert.deepEqual(checker(submission(3, 0), '', 'ok'), { ok: true, message: 'ok' });
    assert.deepEqual(checker(submission(11, 1), '', 'wrong'), { ok: false, message: 'wrong' });
    assert.deepEqual(checker(submission(11, 2)), { ok: false, message: 'wrong answer' });
    assert.deepEqual(checker(submission(11, 7), '0.5 half'), { ok: false, points: 0.5, message: '0.5 half' });
  });

  it('never accepts on a checker crash, time-out, garbage, output at the cap or a Judge0 error', () => {
    const failures: Array<[string, Judge0Submission, string?]> = [
      ['exit 3', submission(11, 3)],
      ['killed by SIGSEGV through bash', submission(11, 139)],
      ['killed, bash itself', submission(7, 0, { exit_signal: 11 })],
      ['time limit (exit_code 0)', submission(5, 0)],
      ['internal error', submission(13, null)],
      ['exec format error', submission(14, null)],
      ['exit 7 with garbage', submission(11, 7), 'many'],
      ['exit 0 with output cut at max_file_size', submission(3, 0), 'x'.repeat(JUDGE0_CHECKER_LIMITS.max_file_size * 1024)],
    ];
    for (const [what, s, stdout] of failures) {
      const said = checker(s, stdout);
      assert.equal(said.ok, false, what);
      assert.equal(said.checkerFailed, true, what);
    }
  });

  const box = { cpu_time_limit: 6, wall_time_limit: 8, memory_limit: 192 * 1024, stack_limit: 65536, max_file_size: 1025 };
  const report = (programExit: number, times: string, interactorExit: number, stderr = '') =>
    Buffer.from(`program-exit ${programExit}\nprogram-times ${times}\ninteractor-exit ${interactorExit}\ninteractor-stderr\n${stderr}`);
  const interaction = (s: Judge0Submission, stdout: Buffer) =>
    readInteractiveRun({ submission: s, stdout, stderr: '', message: '' }, 1000, box);

  it("reads the run script's report: the program's own CPU time, both exit codes, the interactor's comment", () => {
    const run = interaction(submission(3, 0, { time: '2.5' }), report(0, '0m0.120s 0m0.010s', 0, 'found in 7 questions'));
    assert.deepEqual([run.status, run.exitCode, run.timeMs, run.memoryMb], ['exited', 0, 130, 2]);
    assert.deepEqual([run.interactor?.status, run.interactor?.exitCode, run.interactor?.stderr], ['exited', 0, 'found in 7 questions']);
    const crashed = interaction(submission(3, 0), report(139, '0m0.010s 0m0.000s', 1));
    assert.deepEqual([crashed.status, crashed.signal, crashed.interactor?.exitCode], ['signaled', 'SIGSEGV', 1]);
    assert.equal(interaction(submission(3, 0), report(0, '0m1.200s 0m0.000s', 0)).status, 'time-limit');
    assert.equal(interaction(submission(3, 0), report(152, '0m2.000s 0m0.000s', 0)).status, 'time-limit');
    assert.equal(interaction(submission(3, 0, { memory: 190 * 1024 }), report(137, '0m0.100s 0m0.000s', 1)).status, 'memory-limit');
    const interactorKilled = interaction(submission(3, 0), report(0, '0m0.100s 0m0.000s', 134));
    assert.equal(readTestlibRun(interactorKilled.interactor!).checkerFailed, true);
  });

  it('judges a box time-out TLE (a deadlock), and a missing report or a Judge0 error IE', () => {
    const deadlock = interaction(submission(5, 0), Buffer.alloc(0));
    assert.equal(deadlock.status, 'time-limit');
    assert.equal(readTestlibRun(deadlock.interactor!).ok, true);
    assert.equal(interaction(submission(3, 0), Buffer.from('program-exit 0\n')).status, 'internal-error');
    assert.equal(interaction(submission(11, 97), Buffer.alloc(0)).status, 'internal-error');
    assert.equal(interaction(submission(13, null), Buffer.alloc(0)).status, 'internal-error');
  });
});
