import assert from 'node:assert/strict';
import {
  decodeEventId,
  encodeCasesId,
  FINAL_EVENT_ID,
  formatSseComment,
  formatSseEvent,
  MAX_CASE_NUMBER,
  SseParser,
} from '../../web/src/sse';

describe('web SSE framing', () => {
  it('frames id, event and data, ending with a blank line', () => {
    assert.equal(formatSseEvent({ id: 'c1', event: 'case', data: '{"a":1}' }), 'id: c1\nevent: case\ndata: {"a":1}\n\n');
  });

  it('splits multi-line data into data lines and writes retry', () => {
    assert.equal(formatSseEvent({ data: 'a\nb\r\nc', retry: 2500.7 }), 'retry: 2500\ndata: a\ndata: b\ndata: c\n\n');
  });

  it('refuses line breaks in id and event names (they would forge fields)', () => {
    assert.throws(() => formatSseEvent({ id: 'x\ndata: evil', data: '' }), /id/);
    assert.throws(() => formatSseEvent({ event: 'a\rb', data: '' }), /event/);
  });

  it('frames comments on one line', () => {
    assert.equal(formatSseComment('keep\nalive'), ': keep alive\n\n');
  });
});

describe('web SSE event ids (delivered-set cursor)', () => {
  it('round-trips any set of case numbers regardless of delivery order', () => {
    for (const cases of [[1], [3, 1, 2], [8], [9], [1, 16, 17, 100], [MAX_CASE_NUMBER]]) {
      const id = encodeCasesId(cases);
      assert.match(id, /^c[A-Za-z0-9_-]+$/);
      assert.deepEqual(
        [...decodeEventId(id).cases].sort((a, b) => a - b),
        [...cases].sort((a, b) => a - b),
      );
      assert.equal(decodeEventId(id).final, false);
    }
  });

  it('is compact: 100 cases fit in a short id', () => {
    const id = encodeCasesId(Array.from({ length: 100 }, (_, i) => i + 1));
    assert.ok(id.length <= 20, id);
  });

  it('recognises the final id', () => {
    assert.deepEqual(decodeEventId(FINAL_EVENT_ID), { cases: new Set(), final: true });
  });

  it('treats absent or unrecognised ids as nothing delivered', () => {
    for (const id of [undefined, null, '', 'garbage!', '42', 'c' + 'A'.repeat(5000)]) {
      assert.deepEqual(decodeEventId(id), { cases: new Set(), final: false }, String(id));
    }
  });

  it('rejects case numbers outside 1..MAX_CASE_NUMBER', () => {
    assert.throws(() => encodeCasesId([0]), /1\.\./);
    assert.throws(() => encodeCasesId([MAX_CASE_NUMBER + 1]), /1\.\./);
    assert.throws(() => encodeCasesId([1.5]), /1\.\./);
  });
});

describe('web SSE parser (client side)', () => {
  it('parses what formatSseEvent writes, across arbitrary chunk boundaries', () => {
    const stream =
      'retry: 2000\n' +
      formatSseComment('open') +
      formatSseEvent({ id: 'c1', event: 'case', data: '{"case":1}' }) +
      formatSseComment('heartbeat') +
      formatSseEvent({ id: 'final', event: 'final', data: 'line1\nline2' });
    for (const size of [1, 2, 3, 7, 1000]) {
      const parser = new SseParser();
      const events = [];
      for (let i = 0; i < stream.length; i += size) events.push(...parser.feed(stream.slice(i, i + size)));
      assert.deepEqual(events, [
        { id: 'c1', event: 'case', data: '{"case":1}' },
        { id: 'final', event: 'final', data: 'line1\nline2' },
      ]);
      assert.equal(parser.lastEventId, 'final');
    }
  });

  it('handles CRLF and CR line ends, default event type and fields without a space', () => {
    const parser = new SseParser();
    assert.deepEqual(parser.feed('data:a\r\ndata: b\r\rid:7\nevent:x\ndata:c\n\n'), [
      { event: 'message', data: 'a\nb' },
      { id: '7', event: 'x', data: 'c' },
    ]);
  });
});
