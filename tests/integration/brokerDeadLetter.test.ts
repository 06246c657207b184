/**
 * The broker XML from components/brokerXml.ts, run by a real ActiveMQ: a grading request that is
 * rejected (NACKed) past the redelivery limit must land in grading-dlq, with its body intact.
 */
import assert from 'node:assert/strict';
import { QUEUES } from '../../components/brokerXml';
import type { LocalActiveMq } from '../../scripts/services/activemq';
import { StompConnection } from '../../core/src/queue/stomp';
import { privateActiveMq } from '../helpers/services';
import { collect, connectTo } from '../helpers/stompProbe';

describe('local ActiveMQ with the generated broker XML', function () {
  this.timeout(120_000);
  const maximumRedeliveries = 2;
  let broker: LocalActiveMq;
  let conn: StompConnection;

  before(async () => {
    broker = await privateActiveMq('dlq', {
      broker: { maximumRedeliveries, initialRedeliveryDelayMs: 1100, maximumRedeliveryDelayMs: 1500 },
    });
    conn = await connectTo(broker);
  });

  after(async () => {
    await conn?.close();
    await broker?.stop();
  });

  it('dead-letters a request NACKed more than maximumRedeliveries times into grading-dlq', async () => {
    const body = JSON.stringify({ requestId: 'req_dlq_1', poison: true });
    await conn.send(`/queue/${QUEUES.requests}`, body, { persistent: 'true', 'correlation-id': 'req_dlq_1' });

    let deliveries = 0;
    const dlq = collect(conn, `/queue/${QUEUES.dlq}`, 1, 60_000);
    const consumer = conn.subscribe(`/queue/${QUEUES.requests}`, { ack: 'client-individual', prefetch: 1 }, (message) => {
      deliveries += 1;
      void conn.nack(message);
    });
    const [dead] = await dlq;
    consumer.unsubscribe();

    assert.equal(dead.body, body);
    assert.equal(deliveries, maximumRedeliveries + 1, 'first delivery plus each broker-side redelivery');
  });

  it('does not dead-letter a request that is acknowledged', async () => {
    await conn.send(`/queue/${QUEUES.requests}`, '{"requestId":"req_ok"}', { persistent: 'true' });
    const got = await collect(conn, `/queue/${QUEUES.requests}`, 1, 10_000);
    assert.equal(got[0].body, '{"requestId":"req_ok"}');
    await assert.rejects(collect(conn, `/queue/${QUEUES.dlq}`, 1, 3_000), /expected 1 message/);
  });

  it('also dead-letters from grading-priority', async () => {
    await conn.send(`/queue/${QUEUES.priority}`, '{"requestId":"req_prio"}', { persistent: 'true' });
    const dlq = collect(conn, `/queue/${QUEUES.dlq}`, 1, 60_000);
    const consumer = conn.subscribe(`/queue/${QUEUES.priority}`, { ack: 'client-individual', prefetch: 1 }, (m) => void conn.nack(m));
    const [dead] = await dlq;
    consumer.unsubscribe();
    assert.equal(dead.body, '{"requestId":"req_prio"}');
  });
});
