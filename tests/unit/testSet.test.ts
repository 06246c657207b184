import assert from 'node:assert/strict';
import { buildTestSet, TestSetError } from '../../worker/src/problems/testSet';

const files = (entries: Record<string, string>) => new Map(Object.entries(entries));
const problemsOf = (entries: Record<string, string>) => {
  try {
    buildTestSet(files(entries));
  } catch (error) {
    assert.ok(error instanceof TestSetError);
    return error.problems;
  }
  assert.fail('expected an invalid test set');
};

describe('test case sets', () => {
  it('orders cases by number and defaults to the whitespace checker and weight 1', () => {
    const set = buildTestSet(files({ '2.in': 'b', '2.out': 'B', '1.in': 'a', '1.out': 'A', 'README.md': 'x' }));
    assert.deepEqual(
      set.cases.map((c) => [c.index, c.input, c.expected, c.weight]),
      [
        [1, 'a', 'A', 1],
        [2, 'b', 'B', 1],
      ],
    );
    assert.deepEqual(set.checker, { type: 'whitespace' });
    assert.match(set.version, /^[0-9a-f]{64}$/);
  });

  it('reads checker, scores and limits from manifest.json', () => {
    const set = buildTestSet(
      files({
        '1.in': '',
        '1.out': '',
        '2.in': '',
        '2.out': '',
        'manifest.json': '{"checker":{"type":"float","absoluteError":0.001},"scores":{"2":9},"timeLimit":500}',
      }),
      'etag-v',
    );
    assert.deepEqual(set.checker, { type: 'float', absoluteError: 0.001 });
    assert.deepEqual(
      set.cases.map((c) => c.weight),
      [1, 9],
    );
    assert.equal(set.timeLimitMs, 500);
    assert.equal(set.version, 'etag-v');
  });

  it('changes version when a file changes', () => {
    const a = buildTestSet(files({ '1.in': '1', '1.out': '1' }));
    const b = buildTestSet(files({ '1.in': '1', '1.out': '2' }));
    assert.notEqual(a.version, b.version);
  });

  it('reports gaps, unpaired files and manifest errors together', () => {
    const problems = problemsOf({
      '1.in': '',
      '1.out': '',
      '2.in': '',
      '4.in': '',
      '4.out': '',
      'manifest.json': '{"checker":{"type":"regex"},"scores":{"9":1}}',
    });
    const text = problems.join('\n');
    assert.match(text, /2\.in has no 2\.out/);
    assert.match(text, /case 3 is missing/);
    assert.match(text, /manifest\.json checker\.type/);
  });

  it('rejects scores for cases that do not exist', () => {
    assert.match(
      problemsOf({ '1.in': '', '1.out': '', 'manifest.json': '{"scores":{"9":1}}' }).join(),
      /scores case 9, which does not exist/,
    );
  });

  it('rejects an empty folder and a broken manifest', () => {
    assert.match(problemsOf({}).join(), /no test cases/);
    assert.match(problemsOf({ '1.in': '', '1.out': '', 'manifest.json': '{' }).join(), /manifest\.json is not JSON/);
  });

  it('marks the manifest samples public and every other case hidden', () => {
    const set = buildTestSet(
      files({ '1.in': '', '1.out': '', '2.in': '', '2.out': '', '3.in': '', '3.out': '', 'manifest.json': '{"samples":[1,3]}' }),
    );
    assert.deepEqual(
      set.cases.map((c) => c.sample),
      [true, false, true],
    );
    assert.deepEqual(buildTestSet(files({ '1.in': '', '1.out': '' })).cases[0].sample, false, 'without a manifest every case is hidden');
  });

  it('rejects samples that do not exist or are not case numbers', () => {
    assert.match(
      problemsOf({ '1.in': '', '1.out': '', 'manifest.json': '{"samples":[4]}' }).join(),
      /samples case 4, which does not exist/,
    );
    assert.match(problemsOf({ '1.in': '', '1.out': '', 'manifest.json': '{"samples":["1"]}' }).join(), /manifest\.json samples/);
  });
});
