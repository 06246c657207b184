/** Subtasks and per-language limits: manifest rules, scoring, the short circuit, and the engine's use of them. */
import assert from 'node:assert/strict';
import { validateGradingResult } from '../../core/src/contracts';
import type { CaseRun, ExecutionJob, ExecutionReport, Executor, RunOutcome } from '../../worker/src/executors/port';
import { effectiveLimits, gradeSubmission } from '../../worker/src/grading/engine';
import { scoreSubtasks, SubtaskShortCircuit } from '../../worker/src/grading/subtasks';
import { buildTestSet, parseCaseList, TestSetError } from '../../worker/src/problems/testSet';

const cases = (n: number) =>
  Object.fromEntries(
    Array.from({ length: n }, (_, i) => [
      [`${i + 1}.in`, `${i + 1}`],
      [`${i + 1}.out`, `${i + 1}`],
    ]).flat(),
  );
const setWith = (manifest: object, n = 4) =>
  buildTestSet(new Map(Object.entries({ ...cases(n), 'manifest.json': JSON.stringify(manifest) })));
const problemsOf = (manifest: object, n = 4) => {
  try {
    setWith(manifest, n);
  } catch (error) {
    assert.ok(error instanceof TestSetError);
    return error.problems.join('\n');
  }
  return assert.fail('expected an invalid manifest');
};
const SUBTASKS = [
  { name: 'small', cases: '1-2', points: 30 },
  { name: 'all', cases: [1, 2, 3, 4], points: 70, dependencies: ['small'] },
];

describe('subtasks', () => {
  it('parses case lists', () => {
    assert.deepEqual(parseCaseList('1-3, 7 ,9-10'), [1, 2, 3, 7, 9, 10]);
    assert.deepEqual(parseCaseList([4, 2]), [4, 2]);
  });

  it('reads subtasks with their scoring (default all, manifest-wide or per subtask)', () => {
    const set = setWith({ subtasks: [...SUBTASKS, { name: 'mins', cases: '3', points: 5, scoring: 'min' }], scoring: 'all' });
    assert.deepEqual(
      set.subtasks!.map((s) => [s.name, s.cases, s.points, s.dependencies, s.scoring]),
      [
        ['small', [1, 2], 30, [], 'all'],
        ['all', [1, 2, 3, 4], 70, ['small'], 'all'],
        ['mins', [3], 5, [], 'min'],
      ],
    );
  });

  it('reports every subtask mistake at once', () => {
    const text = problemsOf({
      scores: { 1: 2 },
      subtasks: [
        { name: 'a', cases: '1-2,9', points: 10, dependencies: ['later'] },
        { name: 'a', cases: '1', points: 0 },
        { name: 'later', cases: '2', points: 5 },
      ],
    });
    assert.match(text, /both scores and subtasks/);
    assert.match(text, /subtask "a" names case 9, which does not exist/);
    assert.match(text, /subtask "a" depends on "later", which is not defined before it/);
    assert.match(text, /subtask "a" is defined twice/);
    assert.match(text, /no subtask covers case\(s\) 3, 4/);
    assert.match(
      problemsOf({ subtasks: [{ name: 'bad name!', cases: '1-x', points: -1 }] }),
      /subtasks\.0\.name[\s\S]*subtasks\.0\.cases[\s\S]*subtasks\.0\.points/,
    );
  });

  it('scores all-or-nothing, min, and dependencies', () => {
    const set = setWith({ subtasks: [...SUBTASKS, { name: 'partial', cases: '3-4', points: 10, scoring: 'min' }] });
    const results = [
      { case: 1, status: 'AC' as const },
      { case: 2, status: 'AC' as const },
      { case: 3, status: 'WA' as const, points: 0.5 },
      { case: 4, status: 'AC' as const },
    ];
    const scored = scoreSubtasks(set.subtasks!, results);
    assert.deepEqual(scored.subtasks, [
      { name: 'small', points: 30, score: 30 },
      { name: 'all', points: 70, score: 0 },
      { name: 'partial', points: 10, score: 5 },
    ]);
    assert.equal(scored.score, Math.floor((35 / 110) * 100));
    const smallFailed = scoreSubtasks(set.subtasks!, [
      { case: 1, status: 'TLE' },
      ...results.slice(1).map((r) => ({ ...r, status: 'AC' as const })),
    ]);
    assert.deepEqual(
      smallFailed.subtasks.map((s) => s.score),
      [0, 0, 10],
      'all depends on small',
    );
  });

  it('short-circuits a case once every subtask holding it failed, directly or through a dependency', () => {
    const set = setWith({
      subtasks: [
        { name: 'one', cases: '1', points: 10 },
        { name: 'two', cases: '2', points: 10 },
        { name: 'rest', cases: '3-4', points: 80, dependencies: ['one'] },
      ],
    });
    const sc = new SubtaskShortCircuit(set.subtasks!);
    assert.equal(sc.reasonToSkip(3), undefined);
    sc.record({ case: 2, status: 'WA' });
    assert.equal(sc.reasonToSkip(3), undefined);
    sc.record({ case: 1, status: 'RE' });
    assert.equal(sc.reasonToSkip(3), 'RE');
    assert.equal(sc.reasonToSkip(4), 'RE');
  });
});

describe('per-language limits', () => {
  const request = { language: 'python' as const, timeLimit: 1000, memoryLimit: 128 };
  it('multiplies or replaces the time limit and replaces the memory limit per language', () => {
    const set = setWith({
      timeLimit: 2000,
      languageLimits: { python: { timeMultiplier: 3 }, java: { timeLimit: 4000, memoryLimit: 512 } },
    });
    assert.deepEqual(effectiveLimits(request, set), { timeLimitMs: 6000, memoryLimitMb: 128, outputLimitBytes: 16 * 1024 * 1024 });
    assert.deepEqual(effectiveLimits({ ...request, language: 'java' }, set), {
      timeLimitMs: 4000,
      memoryLimitMb: 512,
      outputLimitBytes: 16 * 1024 * 1024,
    });
    assert.deepEqual(effectiveLimits({ ...request, language: 'cpp' }, set).timeLimitMs, 2000);
  });

  it('rejects unknown languages and settings', () => {
    const text = problemsOf({ languageLimits: { cobol: { timeMultiplier: 2 }, python: { timeMultiplier: 50, stack: 1 } } });
    assert.match(text, /languageLimits/);
    assert.match(text, /cobol/);
    assert.match(text, /timeMultiplier/);
    assert.match(text, /stack/);
  });
});

describe('grading engine with subtasks', () => {
  const out = (stdout: string, over: Partial<RunOutcome> = {}): RunOutcome => ({
    status: 'exited',
    exitCode: 0,
    signal: null,
    stdout,
    stderr: '',
    timeMs: 5,
    wallMs: 5,
    memoryMb: 1,
    ...over,
  });

  /** Runs cases one at a time and asks `skip` before each, as the sandbox does when slots are busy. */
  class SequentialExecutor implements Executor {
    readonly name = 'sequential';
    started: number[] = [];
    constructor(private readonly outputs: Record<number, string>) {}
    async execute(job: ExecutionJob, onCase?: (run: CaseRun) => void): Promise<ExecutionReport> {
      const runs: CaseRun[] = [];
      for (const c of job.cases) {
        await new Promise((resolve) => setImmediate(resolve));
        if (job.skip?.(c.index)) continue;
        this.started.push(c.index);
        const run = { index: c.index, outcome: out(this.outputs[c.index]) };
        runs.push(run);
        onCase?.(run);
      }
      return { compile: { ok: true, output: '', timeMs: 0 }, runs };
    }
    async close() {}
  }

  it('lists subtask scores, skips the cases of a failed subtask, and validates against the contract', async () => {
    const set = setWith(
      {
        subtasks: [
          { name: 'small', cases: '1-2', points: 40 },
          { name: 'big', cases: '3-5', points: 60 },
        ],
      },
      5,
    );
    // Case 3 is wrong: cases 4 and 5 (only in "big") need not run.
    const executor = new SequentialExecutor({ 1: '1', 2: '2', 3: 'x', 4: '4', 5: '5' });
    const { result, log } = await gradeSubmission({
      request: { requestId: 'sub', language: 'python', timeLimit: 1000, memoryLimit: 64 },
      source: '',
      testSet: set,
      executor,
    });
    assert.deepEqual(executor.started, [1, 2, 3]);
    const outcome = result.result!;
    assert.deepEqual(outcome.subtasks, [
      { name: 'small', points: 40, score: 40 },
      { name: 'big', points: 60, score: 0 },
    ]);
    assert.equal(outcome.score, 40);
    assert.equal(outcome.verdict, 'WA');
    assert.deepEqual(
      outcome.testResults.map((r) => [r.case, r.status, r.skipped ?? false]),
      [
        [1, 'AC', false],
        [2, 'AC', false],
        [3, 'WA', false],
        [4, 'WA', true],
        [5, 'WA', true],
      ],
    );
    assert.match(log, /case 4: WA .*skipped/);
    assert.deepEqual(validateGradingResult(result).ok, true);
  });
});
