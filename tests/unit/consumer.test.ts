/**
 * The queue consumer with an in-memory broker, a fake clock and a processor the test resolves by
 * hand: priority, the concurrency cap, acks only after an outcome, and shutdown.
 */
import assert from 'node:assert/strict';
import { QueueConsumer } from '../../worker/src/consumer/queueConsumer';
import type { Delivery, Outcome } from '../../worker/src/consumer/types';
import { FakeMessageSource } from '../helpers/fakes/broker';
import { FakeClock } from '../helpers/fakes/clock';

const PRIORITY = '/queue/grading-priority';
const NORMAL = '/queue/grading-requests';
const SETTLE_MS = 250;

/** A processor whose calls wait until the test settles them. */
class HeldProcessor {
  readonly calls: Array<{ delivery: Delivery; signal: AbortSignal; settle: (outcome: Outcome) => void; fail: (error: Error) => void }> = [];
  readonly process = (delivery: Delivery, signal: AbortSignal) =>
    new Promise<Outcome>((resolve, reject) => this.calls.push({ delivery, signal, settle: resolve, fail: reject }));
  bodies(): string[] {
    return this.calls.map((c) => c.delivery.body);
  }
}

/** Lets promise callbacks (processor outcome -> ack -> next dispatch) run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('queue consumer', () => {
  let source: FakeMessageSource;
  let clock: FakeClock;
  let processor: HeldProcessor;
  let logs: Array<{ level: string; msg: string; fields: Record<string, unknown> }>;
  const consumer = (concurrency = 1) =>
    new QueueConsumer(source, processor.process, {
      priorityQueue: PRIORITY,
      normalQueue: NORMAL,
      concurrency,
      settleMs: SETTLE_MS,
      clock,
      log: (level, msg, fields = {}) => logs.push({ level, msg, fields }),
    });

  beforeEach(() => {
    source = new FakeMessageSource();
    clock = new FakeClock();
    processor = new HeldProcessor();
    logs = [];
  });

  it('subscribes to both queues with client-individual acks and prefetch = concurrency', () => {
    consumer(3).start();
    assert.deepEqual(
      source.subscriptions.map((s) => [s.destination, s.options]),
      [
        [PRIORITY, { ack: 'client-individual', prefetch: 3 }],
        [NORMAL, { ack: 'client-individual', prefetch: 3 }],
      ],
    );
  });

  it('waits for the settle after subscribing, so a priority message that arrives second still goes first', async () => {
    consumer(1).start();
    source.deliver(NORMAL, 'normal');
    source.deliver(PRIORITY, 'urgent');
    assert.deepEqual(processor.bodies(), [], 'nothing dispatched before the settle ends');
    clock.advance(SETTLE_MS - 1);
    assert.deepEqual(processor.bodies(), []);
    clock.advance(1);
    assert.deepEqual(processor.bodies(), ['urgent']);
    processor.calls[0].settle({ action: 'ack' });
    await flush();
    assert.deepEqual(processor.bodies(), ['urgent', 'normal']);
  });

  it('takes a waiting priority message before waiting normal ones whenever a slot frees', async () => {
    consumer(1).start();
    clock.advance(SETTLE_MS);
    source.deliver(NORMAL, 'n1');
    source.deliver(NORMAL, 'n2');
    source.deliver(PRIORITY, 'p1');
    assert.deepEqual(processor.bodies(), ['n1'], 'after the settle a message goes at once');
    processor.calls[0].settle({ action: 'ack' });
    await flush();
    assert.deepEqual(processor.bodies(), ['n1', 'p1']);
    processor.calls[1].settle({ action: 'ack' });
    await flush();
    assert.deepEqual(processor.bodies(), ['n1', 'p1', 'n2']);
  });

  it('settles again after a reconnect and drops what the lost connection had buffered', async () => {
    const c = consumer(1);
    c.start();
    clock.advance(SETTLE_MS);
    source.deliver(NORMAL, 'busy');
    source.deliver(NORMAL, 'buffered on the old connection');
    assert.equal(c.bufferedCount, 1);
    source.reconnect();
    assert.equal(c.bufferedCount, 0, 'it can no longer be acked; the broker redelivers it');
    source.deliver(NORMAL, 'normal after reconnect');
    source.deliver(PRIORITY, 'urgent after reconnect');
    processor.calls[0].settle({ action: 'ack' });
    await flush();
    assert.deepEqual(processor.bodies(), ['busy'], 'the settle after reconnecting holds dispatch');
    clock.advance(SETTLE_MS);
    assert.deepEqual(processor.bodies(), ['busy', 'urgent after reconnect']);
    assert.ok(
      logs.some((l) => l.msg === 'ack not delivered; the broker will redeliver' && l.level === 'info'),
      'a stale ack is expected, not an alarm',
    );
  });

  it('never has more than `concurrency` deliveries in flight', async () => {
    const c = consumer(2);
    c.start();
    clock.advance(SETTLE_MS);
    for (let i = 1; i <= 5; i++) source.deliver(NORMAL, `m${i}`);
    assert.deepEqual(processor.bodies(), ['m1', 'm2']);
    assert.equal(c.inFlightCount, 2);
    assert.equal(c.bufferedCount, 3);
    processor.calls[1].settle({ action: 'ack' });
    await flush();
    assert.deepEqual(processor.bodies(), ['m1', 'm2', 'm3']);
    assert.equal(c.inFlightCount, 2);
    for (const call of processor.calls.slice()) call.settle({ action: 'ack' });
    await flush();
    for (const call of processor.calls.slice(3)) call.settle({ action: 'ack' });
    await flush();
    assert.deepEqual(processor.bodies(), ['m1', 'm2', 'm3', 'm4', 'm5']);
    assert.equal(c.inFlightCount, 0);
    assert.equal(source.acked.length, 5);
  });

  it('acks only once the processor reports the outcome, NACKs a hand-back, and leaves a `leave` unsettled', async () => {
    consumer(3).start();
    clock.advance(SETTLE_MS);
    const done = source.deliver(NORMAL, 'done');
    const failed = source.deliver(NORMAL, 'cannot record');
    const left = source.deliver(NORMAL, 'shutting down');
    await flush();
    assert.deepEqual(
      [done, failed, left].map((m) => source.settled(m)),
      [undefined, undefined, undefined],
      'nothing settled while processing',
    );
    processor.calls[0].settle({ action: 'ack' });
    processor.calls[1].settle({ action: 'hand-back', error: new Error('database unavailable') });
    processor.calls[2].settle({ action: 'leave' });
    await flush();
    assert.deepEqual(
      [done, failed, left].map((m) => source.settled(m)),
      ['acked', 'nacked', undefined],
    );
    const handBack = logs.find((l) => l.msg === 'could not record or deliver the outcome; returning the message for redelivery');
    assert.deepEqual(handBack?.fields, { error: 'database unavailable' });
  });

  it('hands back a message whose processor threw instead of holding it', async () => {
    consumer(1).start();
    clock.advance(SETTLE_MS);
    const message = source.deliver(NORMAL, 'bug');
    processor.calls[0].fail(new TypeError('a bug'));
    await flush();
    assert.equal(source.settled(message), 'nacked');
    assert.ok(logs.some((l) => l.msg === 'unhandled error while handling a message' && /a bug/.test(String(l.fields.error))));
  });

  it('logs a failed ack and carries on (the broker redelivers; the pipeline finds the result published)', async () => {
    consumer(1).start();
    clock.advance(SETTLE_MS);
    source.ackError = new Error('socket closed');
    source.deliver(NORMAL, 'a');
    source.deliver(NORMAL, 'b');
    processor.calls[0].settle({ action: 'ack' });
    await flush();
    assert.deepEqual(processor.bodies(), ['a', 'b']);
    const failedAck = logs.find((l) => l.msg === 'ack not delivered; the broker will redeliver');
    assert.equal(failedAck?.level, 'warn');
  });

  describe('stop', () => {
    it('unsubscribes, drops the buffered messages unsettled, aborts the signal and waits for in-flight work', async () => {
      const c = consumer(1);
      c.start();
      clock.advance(SETTLE_MS);
      const inFlight = source.deliver(NORMAL, 'in flight');
      const buffered = [source.deliver(NORMAL, 'buffered'), source.deliver(PRIORITY, 'buffered urgent')];
      let stopped = false;
      const stopping = c.stop(20_000).then(() => (stopped = true));
      assert.ok(
        source.subscriptions.every((s) => !s.active),
        'unsubscribed from both queues',
      );
      assert.equal(processor.calls[0].signal.aborted, true, 'the processor can tell the worker is stopping');
      assert.equal(c.bufferedCount, 0);
      await flush();
      assert.equal(stopped, false, 'waits for the grading in flight');
      processor.calls[0].settle({ action: 'ack' });
      await stopping;
      assert.equal(source.settled(inFlight), 'acked', 'in-flight work finishes and is acked');
      assert.deepEqual(processor.bodies(), ['in flight'], 'buffered messages are not processed');
      assert.deepEqual(
        buffered.map((m) => source.settled(m)),
        [undefined, undefined],
        'nor acked or NACKed: the broker redelivers them',
      );
      assert.ok(logs.some((l) => l.msg === 'worker drained' && l.fields.inFlight === 0));
      assert.equal(clock.pending, 0, 'the grace timer is cleared');
    });

    it('gives up after the grace period, leaving unfinished work for redelivery', async () => {
      const c = consumer(1);
      c.start();
      clock.advance(SETTLE_MS);
      const stuck = source.deliver(NORMAL, 'stuck');
      let stopped = false;
      const stopping = c.stop(5000).then(() => (stopped = true));
      clock.advance(4999);
      await flush();
      assert.equal(stopped, false);
      clock.advance(1);
      await stopping;
      assert.ok(logs.some((l) => l.msg === 'shutdown grace expired; unfinished work will be redelivered' && l.fields.inFlight === 1));
      assert.equal(source.settled(stuck), undefined);
    });

    it('dispatches nothing that arrives while stopping, even when the settle timer fires', async () => {
      const c = consumer(1);
      c.start();
      source.deliver(NORMAL, 'early');
      await c.stop(1000);
      clock.advance(SETTLE_MS);
      assert.deepEqual(processor.bodies(), []);
    });
  });
});
