/**
 * Message lifetime in the broker XML (components/brokerXml.ts), on a real ActiveMQ: a message sent
 * without an expiry gets the broker's lifetime, so results nobody consumes cannot fill the store.
 * An expired request is dead-lettered to grading-dlq; an expired result is dropped.
 */
import assert from 'node:assert/strict';
import { QUEUES } from '../../components/brokerXml';
import type { LocalActiveMq } from '../../scripts/services/activemq';
import { StompConnection } from '../../core/src/queue/stomp';
import { privateActiveMq } from '../helpers/services';
import { collect, connectTo } from '../helpers/stompProbe';

describe('local ActiveMQ: broker-given message lifetime', function () {
  this.timeout(120_000);
  const messageTtlMs = 1500;
  let broker: LocalActiveMq;
  let conn: StompConnection;

  before(async () => {
    broker = await privateActiveMq('expiry', { broker: { messageTtlMs } });
    conn = await connectTo(broker);
  });

  after(async () => {
    await conn?.close();
    await broker?.stop();
  });

  it('expires a request into grading-dlq and drops an unconsumed result, keeping fresh ones', async () => {
    await conn.send(`/queue/${QUEUES.results}`, '{"requestId":"req_old"}', { persistent: 'true' });
    await conn.send(`/queue/${QUEUES.requests}`, '{"requestId":"req_stale"}', { persistent: 'true' });

    // The broker's expiry scan (every 30 s by default) moves the stale request to the DLQ: by then
    // both messages have outlived their lifetime.
    const [dead] = await collect(conn, `/queue/${QUEUES.dlq}`, 1, 90_000);
    assert.equal(dead.body, '{"requestId":"req_stale"}');

    await conn.send(`/queue/${QUEUES.results}`, '{"requestId":"req_new"}', { persistent: 'true' });
    const [first] = await collect(conn, `/queue/${QUEUES.results}`, 1, 10_000);
    assert.equal(first.body, '{"requestId":"req_new"}', 'the expired result is not delivered');
  });
});
