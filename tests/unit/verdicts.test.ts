import assert from 'node:assert/strict';
import type { RunOutcome } from '../../worker/src/executors/port';
import { caseVerdict, overallVerdict, score } from '../../worker/src/grading/verdicts';

const run = (over: Partial<RunOutcome>): RunOutcome => ({
  status: 'exited',
  exitCode: 0,
  signal: null,
  stdout: '',
  stderr: '',
  timeMs: 1,
  wallMs: 1,
  memoryMb: 1,
  ...over,
});
const ok = () => ({ ok: true });
const bad = () => ({ ok: false, message: 'line 1' });

describe('verdicts', () => {
  it('maps run facts and the checker to a case verdict', () => {
    assert.deepEqual(caseVerdict(run({}), ok), { status: 'AC' });
    assert.deepEqual(caseVerdict(run({}), bad), { status: 'WA', message: 'line 1' });
    assert.deepEqual(caseVerdict(run({ exitCode: 3 }), ok), { status: 'RE', message: 'exit code 3' });
    assert.deepEqual(caseVerdict(run({ status: 'signaled', signal: 'SIGSEGV', exitCode: null }), ok), {
      status: 'RE',
      message: 'killed by SIGSEGV',
    });
    assert.equal(caseVerdict(run({ status: 'time-limit' }), ok).status, 'TLE');
    assert.equal(caseVerdict(run({ status: 'memory-limit' }), ok).status, 'MLE');
    assert.equal(caseVerdict(run({ status: 'output-limit' }), ok).status, 'OLE');
    assert.equal(caseVerdict(run({ status: 'internal-error' }), ok).status, 'IE');
  });

  it('does not run the checker when the program failed', () => {
    let called = false;
    caseVerdict(run({ status: 'time-limit' }), () => ((called = true), { ok: true }));
    assert.equal(called, false);
  });

  it('orders failing verdicts IE > TLE > MLE > OLE > RE > WA', () => {
    const v = (...s: string[]) => overallVerdict(s.map((status) => ({ status: status as never })));
    assert.equal(v('AC', 'AC'), 'AC');
    assert.equal(v('AC', 'WA', 'RE'), 'RE');
    assert.equal(v('WA', 'TLE', 'MLE'), 'TLE');
    assert.equal(v('OLE', 'RE', 'WA'), 'OLE');
    assert.equal(v('MLE', 'OLE'), 'MLE');
    assert.equal(v('TLE', 'IE'), 'IE');
    assert.equal(overallVerdict([{ status: 'AC' }], true), 'CE');
    assert.equal(overallVerdict([]), 'IE');
  });

  it('scores by the weights of accepted cases', () => {
    const cases = [
      { case: 1, status: 'AC' as const },
      { case: 2, status: 'WA' as const },
      { case: 3, status: 'AC' as const },
    ];
    assert.equal(score(cases, new Map()), 66, 'an integer, rounded down');
    assert.equal(
      score(
        cases,
        new Map([
          [1, 1],
          [2, 7],
          [3, 2],
        ]),
      ),
      30,
    );
    assert.equal(score([], new Map()), 0);
    const many = Array.from({ length: 200 }, (_, i) => ({ case: i + 1, status: i === 0 ? ('WA' as const) : ('AC' as const) }));
    assert.equal(score(many, new Map()), 99, '199 of 200 is not 100');
    assert.equal(score([{ case: 1, status: 'AC' as const }], new Map([[1, 0.29]])), 100);
  });
});
