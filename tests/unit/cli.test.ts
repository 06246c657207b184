/** The problem-author CLI, run as a real process with the real sandbox on the sample problems. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '../..');
const cli = (...args: string[]) => run(process.execPath, [path.join(ROOT, 'bin/grading-stack.js'), ...args], { cwd: ROOT }).catch((e) => e);

describe('grading-stack grade (CLI)', function () {
  this.timeout(60_000);

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

  it('lists subtask scores: 32-bit arithmetic earns the small subtask only', async () => {
    const { stdout } = await cli('grade', '--problem', 'examples/problems/triangle-sum', '--source', 'examples/solutions/triangle-sum/wrong-answer.c');
    const { result } = JSON.parse(stdout);
    assert.equal(result.verdict, 'WA');
    assert.equal(result.score, 30);
    assert.deepEqual(result.subtasks, [{ name: 'small', points: 30, score: 30 }, { name: 'large', points: 70, score: 0 }]);
  });

  it('explains usage errors with exit code 2', async () => {
    const { stderr, code } = await cli('grade', '--problem', 'examples/problems/sum', '--language', 'cobol', '--source', 'x.cob', '--time-limit', 'fast');
    assert.equal(code, 2);
    assert.match(stderr, /--language must be one of/);
    assert.match(stderr, /--time-limit must be an integer/);
  });
});
