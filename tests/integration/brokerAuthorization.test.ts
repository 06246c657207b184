/**
 * Per-tier broker users on real ActiveMQ, configured by the same authorization entries the Messaging
 * component deploys to Amazon MQ (components/brokerXml.ts): what each tier may do works, and what it
 * may not is refused by the broker (a gateway user cannot consume requests, a worker user cannot
 * queue them, neither can touch other destinations).
 */
import assert from 'node:assert/strict';
import type { LocalActiveMq } from '../../scripts/services/activemq';
import { BROKER_GROUPS, BROKER_USERS, PROGRESS_TOPIC, QUEUES } from '../../components/brokerXml';
import { StompConnection } from '../../core/src/queue/stomp';
import { collect } from '../helpers/stompProbe';
import { privateActiveMq } from '../helpers/services';

const GATEWAY = { username: BROKER_USERS.gateway, password: 'gateway-broker-password', groups: [BROKER_GROUPS.gateways] };
const WORKER = { username: BROKER_USERS.worker, password: 'worker-broker-password', groups: [BROKER_GROUPS.workers] };

describe('broker authorization per tier (real ActiveMQ)', function () {
  this.timeout(60_000);
  let broker: LocalActiveMq;
  const open: StompConnection[] = [];
  const as = async (user: { username: string; password: string }) => {
    const { endpoints, ca } = broker.connectOptions();
    const conn = await StompConnection.open(endpoints[0], { username: user.username, password: user.password, ca, heartbeatMs: 0 });
    open.push(conn);
    return conn;
  };
  /** The ERROR frame the broker answers an unauthorized SUBSCRIBE with (it closes the connection). */
  const refusedSubscribe = (conn: StompConnection, destination: string) =>
    new Promise<string>((resolve) => {
      conn.once('closed', (error?: Error) => resolve(error?.message ?? 'closed without an error'));
      conn.subscribe(destination, { ack: 'auto' }, () => resolve('a message arrived'));
    });

  before(async function () {
    this.timeout(120_000);
    broker = await privateActiveMq('authorization', { users: [GATEWAY, WORKER] });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close().catch(() => undefined)));
  });

  it('lets a gateway queue requests and a worker take them; progress flows worker to gateway', async () => {
    const gateway = await as(GATEWAY);
    const worker = await as(WORKER);
    const progress = collect(gateway, `/topic/${PROGRESS_TOPIC}`, 1, 20_000);
    await gateway.send(`/queue/${QUEUES.requests}`, '{"requestId":"req_authz_1"}', { persistent: 'true' });
    await gateway.send(`/queue/${QUEUES.priority}`, '{"requestId":"req_authz_2"}', { persistent: 'true' });
    const [request] = await collect(worker, `/queue/${QUEUES.requests}`, 1, 20_000);
    const [priority] = await collect(worker, `/queue/${QUEUES.priority}`, 1, 20_000);
    assert.equal(JSON.parse(request.body).requestId, 'req_authz_1');
    assert.equal(JSON.parse(priority.body).requestId, 'req_authz_2');
    // A topic keeps nothing for late subscribers: publish until the gateway's subscription has one.
    let received = false;
    void progress.then(
      () => (received = true),
      () => (received = true),
    );
    while (!received) {
      await worker.send(`/topic/${PROGRESS_TOPIC}`, '{"requestId":"req_authz_1","case":1}');
      await new Promise((r) => setImmediate(r));
    }
    await worker.send(`/queue/${QUEUES.results}`, '{"requestId":"req_authz_1"}', { persistent: 'true' });
    await worker.send(`/queue/${QUEUES.dlq}`, '{"requestId":"req_bad"}', { persistent: 'true' });
    assert.equal(JSON.parse((await progress)[0].body).case, 1);
  });

  it('refuses a gateway user consuming requests, priority, results or the DLQ', async () => {
    for (const queue of [QUEUES.requests, QUEUES.priority, QUEUES.results, QUEUES.dlq]) {
      const refusal = await refusedSubscribe(await as(GATEWAY), `/queue/${queue}`);
      assert.match(refusal, new RegExp(`${GATEWAY.username} is not authorized to read from: queue://${queue}`), queue);
    }
  });

  it('refuses a worker user sending to grading-requests or grading-priority, or reading the progress topic', async () => {
    for (const queue of [QUEUES.requests, QUEUES.priority]) {
      await assert.rejects(
        (await as(WORKER)).send(`/queue/${queue}`, '{"requestId":"req_forged"}', { persistent: 'true' }),
        new RegExp(`${WORKER.username} is not authorized to write to: queue://${queue}`),
      );
    }
    const refusal = await refusedSubscribe(await as(WORKER), `/topic/${PROGRESS_TOPIC}`);
    assert.match(refusal, new RegExp(`not authorized to read from: topic://${PROGRESS_TOPIC}`));
  });

  it('refuses both tiers on any other destination, and forging progress from a gateway', async () => {
    await assert.rejects(
      (await as(GATEWAY)).send(`/topic/${PROGRESS_TOPIC}`, '{"requestId":"req_x","case":1}'),
      /not authorized to write to: topic:\/\/grading-progress/,
    );
    await assert.rejects((await as(GATEWAY)).send('/queue/something-else', 'x'), /not authorized to write to: queue:\/\/something-else/);
    await assert.rejects((await as(WORKER)).send('/queue/something-else', 'x'), /not authorized to write to: queue:\/\/something-else/);
    // The operators' admin user still reaches everything (tests and tools use it).
    const admin = await as({ username: broker.username, password: broker.password });
    await admin.send('/queue/something-else', 'x');
    assert.equal((await collect(admin, '/queue/something-else', 1, 20_000))[0].body, 'x');
  });

  it('refuses a wrong password', async () => {
    await assert.rejects(as({ username: GATEWAY.username, password: 'wrong' }), /STOMP connect .* failed/);
  });
});
