/**
 * The results consumer on the real broker: a result whose handling must wait stays unacked and is
 * handled again at its retry time, then acked (not redelivered); malformed messages are dropped.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { GradingResult } from '../../core/src/contracts/result';
import { BrokerSession } from '../../core/src/queue/session';
import { ResultsConsumer } from '../../worker/src/solutions/consumer';
import type { AcceptedResultHandler, HandleOutcome } from '../../worker/src/solutions/onAccepted';
import { sharedActiveMq } from '../helpers/services';

describe('accepted-solutions results consumer', function () {
  this.timeout(60_000);
  let session: BrokerSession;
  let consumer: ResultsConsumer;
  const queue = `/queue/consumer-test-${randomBytes(4).toString('hex')}`;

  before(async () => {
    session = await BrokerSession.open({ ...(await sharedActiveMq()).connectOptions() });
  });
  after(async () => {
    await consumer?.stop();
    await session?.close();
  });

  it("retries at the handler's time, acks when done, and drops malformed results", async () => {
    const seen: string[] = [];
    const outcomes: HandleOutcome[] = [
      { kind: 'retry', retryAt: Date.now() + 200, reason: 'rate limited' },
      { kind: 'done', fingerprinted: true, github: 'committed' },
    ];
    let finished!: () => void;
    const allDone = new Promise<void>((resolve) => (finished = resolve));
    const handler = {
      handle: async (result: GradingResult) => {
        seen.push(result.requestId);
        const outcome = outcomes.shift() ?? { kind: 'done', fingerprinted: true, github: 'already-committed' };
        if (outcomes.length === 0 && outcome.kind === 'done') setTimeout(finished, 1500); // leave time for a wrong redelivery to show
        return outcome;
      },
    } as unknown as AcceptedResultHandler;
    consumer = new ResultsConsumer(session, handler, { destination: queue, maxDelayMs: 1000 });
    consumer.start();
    await session.send(queue, 'not json', { persistent: 'true' });
    const result: GradingResult = {
      requestId: 'req_consumer1',
      status: 'completed',
      timestamp: new Date().toISOString(),
      result: { verdict: 'AC', score: 100, executionTime: 1, memoryUsage: 1, testResults: [{ case: 1, status: 'AC', time: 1, memory: 1 }] },
    };
    await session.send(queue, JSON.stringify(result), { persistent: 'true' });
    await allDone;
    assert.deepEqual(seen, ['req_consumer1', 'req_consumer1'], 'handled twice: the retry, then done; never redelivered after the ack');
    assert.deepEqual(consumer.stats, { handled: 1, retried: 1, gaveUp: 0, malformed: 1 });
  });
});
