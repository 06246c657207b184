/**
 * The pipeline's broker ports over STOMP (worker/src/broker/stompOutbox.ts) with a recording sink:
 * destinations and headers that consumers (JMS selectors, Spring reply-to, `grading-stack dlq`) read.
 */
import assert from 'node:assert/strict';
import type { GradingResult } from '../../core/src/contracts/result';
import type { Headers } from '../../core/src/queue/stomp';
import { DLQ_HEADERS, MessageSink, StompOutbox } from '../../worker/src/broker/stompOutbox';

class RecordingSink implements MessageSink {
  readonly sent: Array<{ destination: string; body: string; headers: Headers; timeoutMs?: number }> = [];
  async send(destination: string, body: string, headers: Headers = {}, timeoutMs?: number): Promise<void> {
    this.sent.push({ destination, body, headers, timeoutMs });
  }
}

const destinations = { results: '/queue/grading-results', dlq: '/queue/grading-dlq', progress: '/topic/grading-progress' };
const result: GradingResult = {
  requestId: 'req_1',
  status: 'failed',
  reason: 'internal-error',
  error: 'internal-error: x',
  timestamp: '2026-01-01T00:00:00Z',
};

describe('pipeline broker ports (StompOutbox)', () => {
  it('publishes results persistent, correlated by requestId, with selectable properties', async () => {
    const session = new RecordingSink();
    await new StompOutbox(session, destinations).publish(result);
    assert.deepEqual(session.sent, [
      {
        destination: '/queue/grading-results',
        body: JSON.stringify(result),
        headers: { persistent: 'true', 'correlation-id': 'req_1', grading_request_id: 'req_1', grading_status: 'failed' },
        timeoutMs: undefined,
      },
    ]);
  });

  it("sends replies on the replies connection with the requester's correlation id, bounded in time", async () => {
    const session = new RecordingSink();
    const replies = new RecordingSink();
    await new StompOutbox(session, destinations, replies).reply('/temp-queue/r', result, 'corr-9');
    assert.deepEqual(session.sent, []);
    assert.equal(replies.sent[0].destination, '/temp-queue/r');
    assert.equal(replies.sent[0].headers['correlation-id'], 'corr-9');
    assert.equal(replies.sent[0].headers.grading_request_id, 'req_1');
    assert.equal(replies.sent[0].timeoutMs, 5000);
  });

  it('sends progress events on the progress topic, not persistent', async () => {
    const session = new RecordingSink();
    await new StompOutbox(session, destinations).progress({ type: 'final', requestId: 'req_1', result });
    assert.equal(session.sent[0].destination, '/topic/grading-progress');
    assert.deepEqual(session.sent[0].headers, { 'correlation-id': 'req_1' });
  });

  it('dead-letters the original body with the reason under selector-safe and old header names, one line each', async () => {
    const session = new RecordingSink();
    const letter = {
      body: '{not json',
      reason: 'invalid-json',
      detail: 'line one\r\nline two',
      originalDestination: '/queue/grading-requests',
      originalMessageId: 'ID:m-1',
      failedAt: '2026-01-01T00:00:00.000Z',
      requestId: 'req_1',
    };
    await new StompOutbox(session, destinations).deadLetter(letter);
    const [sent] = session.sent;
    assert.equal(sent.destination, '/queue/grading-dlq');
    assert.equal(sent.body, '{not json');
    assert.deepEqual(sent.headers, {
      persistent: 'true',
      grading_error_reason: 'invalid-json',
      'x-error-reason': 'invalid-json',
      grading_error_detail: 'line one | line two',
      'x-error-detail': 'line one | line two',
      grading_original_destination: '/queue/grading-requests',
      'x-original-destination': '/queue/grading-requests',
      grading_original_message_id: 'ID:m-1',
      'x-original-message-id': 'ID:m-1',
      grading_failed_at: '2026-01-01T00:00:00.000Z',
      'x-failed-at': '2026-01-01T00:00:00.000Z',
      'correlation-id': 'req_1',
      grading_request_id: 'req_1',
    });
    assert.deepEqual(Object.keys(DLQ_HEADERS), ['reason', 'detail', 'originalDestination', 'originalMessageId', 'failedAt']);
    await new StompOutbox(session, destinations).deadLetter({ ...letter, requestId: undefined, detail: 'x'.repeat(5000) });
    assert.equal(session.sent[1].headers['correlation-id'], undefined, 'no id to correlate');
    assert.equal(session.sent[1].headers.grading_error_detail.length, 2000);
  });
});
