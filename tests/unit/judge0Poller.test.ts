/**
 * The Judge0 adapter's poll scheduling: one poll round for every job due about the same time (up to
 * the batch size per request), poll delays from the expected run time, and that expectation learnt
 * from Judge0's own timestamps.
 */
import assert from 'node:assert/strict';
import { BatchPoller, pollDelays, RunTimeEstimates, serverSpanMs } from '../../worker/src/executors/judge0/poller';
import type { Judge0Submission } from '../../worker/src/executors/judge0/statuses';

const final = (token: string): Judge0Submission => ({
  token,
  status: { id: 3, description: 'Accepted' },
  stdout: null,
  stderr: null,
  compile_output: null,
  message: null,
  time: '0.01',
  memory: 1000,
  exit_code: 0,
  exit_signal: null,
});

/** Sleeps that end only when the test says so, in any order. */
function manualClock() {
  const sleepers: Array<{ ms: number; wake(): void }> = [];
  return {
    sleep: (ms: number) => new Promise<void>((wake) => sleepers.push({ ms, wake })),
    wake: (ms: number) => sleepers.filter((s) => s.ms === ms).forEach((s) => s.wake()),
    sleepers,
  };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('Judge0 poll scheduling', () => {
  it('polls the tokens of every job due within the merge window in one round, batch size per request', async () => {
    const clock = manualClock();
    const requests: string[][] = [];
    const poller = new BatchPoller({
      fetch: async (tokens) => {
        requests.push(tokens);
        return tokens.filter((t) => t !== 'b2').map((t) => [t, t === 'lost' ? null : final(t)] as [string, Judge0Submission | null]);
      },
      batchSize: () => 3,
      sleep: clock.sleep,
      mergeWindowMs: 50,
    });
    const a = poller.poll(['a1', 'a2'], 100, 20);
    const b = poller.poll(['b1', 'b2', 'lost'], 140, 20);
    const late = poller.poll(['c1'], 10_000, 20);
    clock.wake(100);
    const [answersA, answersB] = await Promise.all([a, b]);
    assert.deepEqual(
      requests,
      [
        ['a1', 'a2', 'b1'],
        ['b2', 'lost'],
      ],
      'two jobs, one round: 5 tokens in requests of at most 3',
    );
    assert.deepEqual([...answersA.keys()], ['a1', 'a2']);
    assert.deepEqual([...answersB.keys()], ['b1', 'lost'], 'a token that is not final is left out');
    assert.equal(answersB.get('lost'), null);
    clock.wake(140);
    await settle();
    assert.equal(requests.length, 2, 'the job polled early is not polled again when its own delay ends');
    clock.wake(10_000);
    assert.deepEqual([...(await late).keys()], ['c1']);
    assert.deepEqual(requests[2], ['c1']);
  });

  it('fails the jobs whose tokens were in a request that failed, and only those', async () => {
    const clock = manualClock();
    const poller = new BatchPoller({
      fetch: async (tokens) => {
        if (tokens.includes('bad')) throw new Error('Judge0 unreachable');
        return tokens.map((t) => [t, final(t)] as [string, Judge0Submission]);
      },
      batchSize: () => 1,
      sleep: clock.sleep,
      mergeWindowMs: 50,
    });
    const good = poller.poll(['ok'], 10, 20);
    const bad = poller.poll(['bad'], 10, 20);
    clock.wake(10);
    assert.deepEqual([...(await good).keys()], ['ok']);
    await assert.rejects(bad, /Judge0 unreachable/);
  });

  it('waits the configured first delay until run times are known, then polls shortly before the expected end', () => {
    const unknown = pollDelays(undefined, 100, 2000);
    assert.deepEqual([unknown(), unknown(), unknown()], [100, 150, 225]);
    const known = pollDelays(1000, 100, 2000);
    assert.deepEqual([known(), known(), known()], [850, 100, 150]);
    const long = pollDelays(60_000, 100, 2000);
    assert.deepEqual([long(), long()], [2000, 2000], 'never longer than the cap');
  });

  it('learns the time per case per language from created_at..finished_at, as a weighted mean', () => {
    const estimates = new RunTimeEstimates(0.5);
    assert.equal(estimates.expectedMs(71, 5), undefined);
    const span = serverSpanMs([
      { created_at: '2026-01-01T00:00:00.000Z', finished_at: '2026-01-01T00:00:00.300Z' },
      { created_at: '2026-01-01T00:00:00.000Z', finished_at: '2026-01-01T00:00:00.500Z' },
    ]);
    assert.equal(span, 500);
    estimates.observe(71, 5, span!);
    assert.equal(estimates.expectedMs(71, 20), 2000);
    estimates.observe(71, 5, 1500);
    assert.equal(estimates.expectedMs(71, 1), 200);
    assert.equal(estimates.expectedMs(62, 1), undefined, 'per language');
    assert.equal(serverSpanMs([{ created_at: '2026-01-01T00:00:00.000Z', finished_at: null }]), undefined);
  });
});
