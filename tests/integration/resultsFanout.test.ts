/**
 * The broker's copy of grading-results for the accepted-solutions process (components/brokerXml.ts,
 * composite queue): with a site consuming grading-results and the solutions process consuming its
 * copy, both get every result, instead of the queue splitting results between them. Real ActiveMQ
 * with the authorization entries deployed to Amazon MQ.
 */
import assert from 'node:assert/strict';
import type { LocalActiveMq } from '../../scripts/services/activemq';
import { BROKER_GROUPS, BROKER_USERS, QUEUES } from '../../components/brokerXml';
import { StompConnection } from '../../core/src/queue/stomp';
import { BrokerSession } from '../../core/src/queue/session';
import { ResultsConsumer } from '../../worker/src/solutions/consumer';
import { DEFAULT_RESULTS_QUEUE } from '../../worker/src/solutions/config';
import type { GradingResult } from '../../core/src/contracts/result';
import type { AcceptedResultHandler } from '../../worker/src/solutions/onAccepted';
import { collect } from '../helpers/stompProbe';
import { privateActiveMq } from '../helpers/services';

const WORKER = { username: BROKER_USERS.worker, password: 'worker-broker-password', groups: [BROKER_GROUPS.workers] };
const SOLUTIONS = { username: BROKER_USERS.solutions, password: 'solutions-broker-password', groups: [BROKER_GROUPS.solutions] };

describe('grading-results fan-out to the accepted-solutions process (real ActiveMQ)', function () {
  this.timeout(90_000);
  let broker: LocalActiveMq;
  const open: Array<{ close(): Promise<void> }> = [];
  const as = async (user?: { username: string; password: string }) => {
    const options = broker.connectOptions();
    const { endpoints, ca } = options;
    const credentials = user ?? { username: options.username!, password: options.password! };
    const conn = await StompConnection.open(endpoints[0], { ...credentials, ca, heartbeatMs: 0 });
    open.push(conn);
    return conn;
  };

  before(async function () {
    this.timeout(120_000);
    broker = await privateActiveMq('fanout', { users: [WORKER, SOLUTIONS] });
  });
  after(async () => {
    await Promise.all(open.splice(0).map((c) => c.close().catch(() => undefined)));
  });

  it("defaults the solutions process to the broker's copy", () => {
    assert.equal(DEFAULT_RESULTS_QUEUE, QUEUES.solutionsResults, 'the worker image keeps its own copy of the name');
  });

  it('delivers every result to both a site consumer and the solutions process', async () => {
    const count = 20;
    const site = collect(await as(), `/queue/${QUEUES.results}`, count, 60_000);
    const handled: string[] = [];
    let allHandled!: () => void;
    const done = new Promise<void>((resolve) => (allHandled = resolve));
    const handler = {
      handle: async (result: GradingResult) => {
        handled.push(result.requestId);
        if (handled.length === count) allHandled();
        return { kind: 'done', fingerprinted: false, github: 'not-linked' };
      },
    } as unknown as AcceptedResultHandler;
    const { endpoints, ca } = broker.connectOptions();
    const session = await BrokerSession.open({ endpoints, ca, username: SOLUTIONS.username, password: SOLUTIONS.password });
    const consumer = new ResultsConsumer(session, handler, { destination: `/queue/${DEFAULT_RESULTS_QUEUE}` });
    open.push({
      close: async () => {
        await consumer.stop();
        await session.close();
      },
    });
    consumer.start();

    const worker = await as(WORKER);
    const ids = Array.from({ length: count }, (_, i) => `req_fanout_${i}`);
    for (const requestId of ids) {
      const result: GradingResult = {
        requestId,
        status: 'completed',
        timestamp: new Date().toISOString(),
        result: {
          verdict: 'AC',
          score: 100,
          executionTime: 1,
          memoryUsage: 1,
          testResults: [{ case: 1, status: 'AC', time: 1, memory: 1 }],
        },
      };
      await worker.send(`/queue/${QUEUES.results}`, JSON.stringify(result), { persistent: 'true' });
    }
    const siteIds = (await site).map((m) => (JSON.parse(m.body) as GradingResult).requestId);
    await done;
    assert.deepEqual(siteIds.sort(), [...ids].sort(), 'the site gets every result');
    assert.deepEqual([...handled].sort(), [...ids].sort(), 'the solutions process gets every result too');
  });

  it('lets the solutions user read only its copy, and nobody but the broker write it', async () => {
    const refusedSubscribe = (conn: StompConnection, destination: string) =>
      new Promise<string>((resolve) => {
        conn.once('closed', (error?: Error) => resolve(error?.message ?? 'closed without an error'));
        conn.subscribe(destination, { ack: 'auto' }, () => resolve('a message arrived'));
      });
    const refusal = await refusedSubscribe(await as(SOLUTIONS), `/queue/${QUEUES.results}`);
    assert.match(refusal, new RegExp(`not authorized to read from: queue://${QUEUES.results}`));
    for (const user of [SOLUTIONS, WORKER]) {
      await assert.rejects(
        (await as(user)).send(`/queue/${QUEUES.solutionsResults}`, '{"requestId":"req_forged"}', { persistent: 'true' }),
        new RegExp(`not authorized to write to: queue://${QUEUES.solutionsResults}`),
      );
    }
  });
});
