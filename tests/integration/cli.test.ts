/** The problem-author CLI, run as a real process with the real sandbox (and a Judge0 test server) on the sample problems. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Judge0TestServer, startJudge0TestServer } from '../helpers/judge0TestServer';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '../..');
const cli = (...args: string[]) => run(process.execPath, [path.join(ROOT, 'bin/grading-stack.js'), ...args], { cwd: ROOT }).catch((e) => e);

describe('grading-stack grade (CLI)', function () {
  this.timeout(120_000);

  const cases: Array<[string, string, string]> = [
    ['sum', 'examples/solutions/sum/accepted.py', 'AC'],
    ['sum', 'examples/solutions/sum/wrong-answer.py', 'WA'],
    ['sum', 'examples/solutions/sum/compile-error.c', 'CE'],
    ['sum', 'examples/solutions/sum/Accepted.java', 'AC'],
    ['circle-area', 'examples/solutions/circle-area/accepted.cpp', 'AC'],
    ['circle-area', 'examples/solutions/circle-area/wrong-answer.py', 'WA'],
    // A testlib checker accepts a pair that differs from the answer file.
    ['any-pair', 'examples/solutions/any-pair/accepted.cpp', 'AC'],
    ['any-pair', 'examples/solutions/any-pair/wrong-answer.py', 'WA'],
    ['triangle-sum', 'examples/solutions/triangle-sum/accepted.py', 'AC'],
    // Python passes only with its per-language time multiplier.
    ['slow-python', 'examples/solutions/slow-python/accepted.py', 'AC'],
    // Interactive: the program talks to the interactor over pipes.
    ['guess-number', 'examples/solutions/guess-number/accepted.py', 'AC'],
    ['guess-number', 'examples/solutions/guess-number/wrong-answer.py', 'WA'],
  ];
  for (const [problem, source, verdict] of cases) {
    it(`grades ${source} as ${verdict}`, async () => {
      const { stdout, code } = await cli('grade', '--problem', `examples/problems/${problem}`, '--source', source);
      assert.equal(code ?? 0, 0);
      const result = JSON.parse(stdout);
      assert.equal(result.status, 'completed');
      assert.equal(result.result.verdict, verdict);
    });
  }

  describe('through Judge0 (--executor judge0)', () => {
    let judge0: Judge0TestServer;
    before(async () => {
      judge0 = await startJudge0TestServer({ authToken: 'cli-token', uidBase: 62900 });
    });
    after(() => judge0?.close());

    for (const [problem, source, verdict] of [cases[0], cases[2], cases[4]]) {
      it(`grades ${source} as ${verdict}`, async () => {
        const { stdout, stderr, code } = await cli(
          'grade',
          '--executor',
          'judge0',
          '--judge0-url',
          judge0.baseUrl,
          '--judge0-token',
          'cli-token',
          '--problem',
          `examples/problems/${problem}`,
          '--source',
          source,
        );
        assert.equal(code ?? 0, 0, stderr);
        assert.equal(JSON.parse(stdout).result.verdict, verdict);
      });
    }
  });

  it('lists subtask scores: 32-bit arithmetic earns the small subtask only', async () => {
    const { stdout } = await cli(
      'grade',
      '--problem',
      'examples/problems/triangle-sum',
      '--source',
      'examples/solutions/triangle-sum/wrong-answer.c',
    );
    const { result } = JSON.parse(stdout);
    assert.equal(result.verdict, 'WA');
    assert.equal(result.score, 30);
    assert.deepEqual(result.subtasks, [
      { name: 'small', points: 30, score: 30 },
      { name: 'large', points: 70, score: 0 },
    ]);
  });

  it('explains usage errors with exit code 2, all at once', async () => {
    const { stderr, code } = await cli(
      'grade',
      '--problem',
      'examples/problems/sum',
      '--language',
      'cobol',
      '--source',
      'x.cob',
      '--time-limit',
      'fast',
      '--colour',
      'red',
    );
    assert.equal(code, 2);
    assert.match(stderr, /--language must be one of/);
    assert.match(stderr, /--time-limit must be an integer/);
    assert.match(stderr, /unknown option --colour/);
  });

  it('requires a Judge0 URL with --executor judge0, and refuses Judge0 options without it', async () => {
    const missing = await cli(
      'grade',
      '--executor',
      'judge0',
      '--problem',
      'examples/problems/sum',
      '--source',
      'examples/solutions/sum/accepted.py',
    );
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--judge0-url is required with --executor judge0/);
    const stray = await cli(
      'grade',
      '--judge0-url',
      'http://127.0.0.1:1',
      '--problem',
      'examples/problems/sum',
      '--source',
      'examples/solutions/sum/accepted.py',
    );
    assert.equal(stray.code, 2);
    assert.match(stray.stderr, /need --executor judge0/);
  });

  it('answers --help for the program and each command; unknown commands are errors', async () => {
    const top = await cli('--help');
    assert.equal(top.code ?? 0, 0);
    assert.match(top.stdout, /grade +grade a submission/);
    assert.match(top.stdout, /judge0-check/);
    const grade = await cli('grade', '--help');
    assert.equal(grade.code ?? 0, 0);
    assert.match(grade.stdout, /--judge0-url/);
    const unknown = await cli('frobnicate');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  });
});
