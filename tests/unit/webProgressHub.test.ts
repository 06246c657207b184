import assert from 'node:assert/strict';
import { ProgressHub } from '../../web/src/progressHub';
import type { ProgressItem } from '../../web/src/progressItems';

const caseItem = (requestId: string, n: number): ProgressItem => ({
  kind: 'case',
  requestId,
  testResult: { case: n, status: 'AC', time: 1, memory: 1 },
});
const finalItem = (requestId: string): ProgressItem => ({
  kind: 'final',
  requestId,
  result: {
    requestId,
    status: 'completed',
    result: { verdict: 'AC', score: 100, executionTime: 1, memoryUsage: 1, testResults: [] },
    timestamp: '2026-01-01T00:00:00Z',
  },
});

describe('web progress hub', () => {
  it('fans events out to the listeners of that request only', () => {
    const hub = new ProgressHub();
    const a: ProgressItem[] = [];
    const b: ProgressItem[] = [];
    hub.listen('req_a', (i) => a.push(i));
    hub.listen('req_b', (i) => b.push(i));
    hub.publish(caseItem('req_a', 1));
    hub.publish(caseItem('req_b', 2));
    assert.deepEqual(a, [caseItem('req_a', 1)]);
    assert.deepEqual(b, [caseItem('req_b', 2)]);
  });

  it('buffers events for late listeners, oldest first', () => {
    const hub = new ProgressHub();
    hub.publish(caseItem('req_a', 2));
    hub.publish(caseItem('req_a', 1));
    hub.publish(finalItem('req_a'));
    assert.deepEqual(hub.snapshot('req_a'), [caseItem('req_a', 2), caseItem('req_a', 1), finalItem('req_a')]);
    assert.deepEqual(hub.snapshot('req_unknown'), []);
  });

  it('expires a request ttl after its last event', () => {
    let now = 0;
    const hub = new ProgressHub({ ttlMs: 1000, now: () => now });
    hub.publish(caseItem('req_a', 1));
    now = 900;
    hub.publish(caseItem('req_a', 2));
    now = 1800;
    assert.equal(hub.snapshot('req_a').length, 2, 'the second event renewed it');
    now = 1900;
    assert.deepEqual(hub.snapshot('req_a'), []);
    hub.publish(caseItem('req_b', 1));
    assert.equal(hub.bufferedRequests, 1, 'expired buffers are dropped');
    hub.publish(caseItem('req_a', 3));
    assert.deepEqual(hub.snapshot('req_a'), [caseItem('req_a', 3)], 'an expired buffer starts over');
  });

  it('bounds requests (least recently updated go first) and events per request (final kept)', () => {
    const hub = new ProgressHub({ maxRequests: 2, maxEventsPerRequest: 2 });
    hub.publish(caseItem('req_a', 1));
    hub.publish(caseItem('req_b', 1));
    hub.publish(caseItem('req_a', 2));
    hub.publish(caseItem('req_c', 1));
    assert.deepEqual(hub.snapshot('req_b'), []);
    assert.equal(hub.snapshot('req_a').length, 2);
    hub.publish(caseItem('req_a', 3));
    hub.publish(finalItem('req_a'));
    assert.deepEqual(hub.snapshot('req_a'), [caseItem('req_a', 1), caseItem('req_a', 2), finalItem('req_a')]);
  });

  it('unsubscribes, and one throwing listener does not stop the others', () => {
    const hub = new ProgressHub();
    const seen: number[] = [];
    const stop = hub.listen('req_a', () => seen.push(1));
    hub.listen('req_a', () => {
      throw new Error('broken stream');
    });
    hub.listen('req_a', () => seen.push(3));
    hub.publish(caseItem('req_a', 1));
    stop();
    hub.publish(caseItem('req_a', 2));
    assert.deepEqual(seen, [1, 3, 3]);
    assert.equal(hub.listenerCount, 2);
  });
});
