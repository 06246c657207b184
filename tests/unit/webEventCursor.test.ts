import assert from 'node:assert/strict';
import { DeliveryCursor, GatewayEvent } from '../../web/src/eventCursor';
import type { GradingResult, ProgressItem } from '../../web/src/progressItems';
import type { Verdict } from '../../core/src/contracts';
import { decodeEventId, emptyPosition } from '../../web/src/sse';

const R = 'req_1';
const tr = (n: number, status: Verdict = 'AC') => ({ case: n, status, time: 10 * n, memory: 5 });
const caseItem = (n: number, status: Verdict = 'AC'): ProgressItem => ({
  kind: 'case',
  requestId: R,
  testResult: tr(n, status),
  totalCases: 3,
});
const result: GradingResult = {
  requestId: R,
  status: 'completed',
  result: { verdict: 'WA', score: 67, executionTime: 30, memoryUsage: 5, testResults: [tr(1), tr(2, 'WA'), tr(3)] },
  timestamp: '2026-01-01T00:00:00Z',
};
const finalItem: ProgressItem = { kind: 'final', requestId: R, result };

function summary(events: GatewayEvent[]): string[] {
  return events.map((e) => (e.type === 'case' ? `case ${e.testResult.case}` : 'final'));
}

describe('web delivery cursor (what a stream still owes its client)', () => {
  it('passes live cases through once each, then the final', () => {
    const cursor = new DeliveryCursor(emptyPosition());
    const events = [caseItem(2), caseItem(1), caseItem(2), caseItem(3), finalItem].flatMap((i) => cursor.take(i));
    assert.deepEqual(summary(events), ['case 2', 'case 1', 'case 3', 'final']);
    assert.equal(cursor.done, true);
    assert.deepEqual(cursor.take(caseItem(1)), []);
    assert.deepEqual(cursor.take(finalItem), []);
  });

  it('gives each case event an id naming every case delivered so far', () => {
    const cursor = new DeliveryCursor(emptyPosition());
    const [first] = cursor.take(caseItem(3));
    const [second] = cursor.take(caseItem(1));
    assert.deepEqual([...decodeEventId(first.id).cases], [3]);
    assert.deepEqual([...decodeEventId(second.id).cases].sort(), [1, 3]);
  });

  it('synthesizes the missing cases from the final result (late connection)', () => {
    const cursor = new DeliveryCursor(emptyPosition());
    const events = cursor.take(finalItem);
    assert.deepEqual(summary(events), ['case 1', 'case 2', 'case 3', 'final']);
    assert.deepEqual(events[1].type === 'case' && events[1].testResult, tr(2, 'WA'));
    assert.equal(events[3].type === 'final' && events[3].result, result);
    assert.equal(events[3].id, 'final');
  });

  it('resumes from a Last-Event-ID: only what the client lacks', () => {
    const first = new DeliveryCursor(emptyPosition());
    first.take(caseItem(1));
    const [lastSeen] = first.take(caseItem(3));
    const resumed = new DeliveryCursor(decodeEventId(lastSeen.id));
    assert.deepEqual(summary([caseItem(1), caseItem(2), finalItem].flatMap((i) => resumed.take(i))), ['case 2', 'final']);
  });

  it('owes nothing to a client that already has the final event', () => {
    const cursor = new DeliveryCursor(decodeEventId('final'));
    assert.equal(cursor.done, true);
    assert.deepEqual(cursor.take(finalItem), []);
  });

  it('ignores case numbers it cannot name', () => {
    const cursor = new DeliveryCursor(emptyPosition());
    assert.deepEqual(cursor.take({ kind: 'case', requestId: R, testResult: { case: 0, status: 'AC', time: 0, memory: 0 } }), []);
  });

  it('finishes a failed grading with no test results', () => {
    const failed: GradingResult = { requestId: R, status: 'failed', error: 'executor unavailable', timestamp: '2026-01-01T00:00:00Z' };
    const cursor = new DeliveryCursor(emptyPosition());
    assert.deepEqual(summary(cursor.take({ kind: 'final', requestId: R, result: failed })), ['final']);
  });
});
