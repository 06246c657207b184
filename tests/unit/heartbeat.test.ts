/** The worker's heartbeat, Judge0's health probe and the gateway's reading of the heartbeats. */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseHeartbeat } from '../../core/src/contracts/heartbeat';
import { Heartbeat, judge0HealthProbe } from '../../worker/src/ops/heartbeat';
import { WorkerPresence } from '../../web/src/workerPresence';

/**
 * Answers GET /workers as Judge0 1.13.1's HealthController#workers does (app/controllers/health_controller.rb):
 * always 200, one entry per Resque queue {queue, size, available, idle, working, paused, failed}, `[]` before any
 * job was pushed; 401 without the right X-Auth-Token (SessionsController).
 */
async function judge0Workers(queues: Array<{ available: number; size: number }>): Promise<{ url: string; close(): void }> {
  const server = http.createServer((req, res) => {
    if (req.headers['x-auth-token'] !== 'tok') return void res.writeHead(401).end();
    res.writeHead(200, { 'content-type': 'application/json' });
    const body = queues.map((q) => ({
      queue: '1.13.1',
      size: q.size,
      available: q.available,
      idle: q.available,
      working: 0,
      paused: 0,
      failed: 0,
    }));
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

describe('worker heartbeat', () => {
  it('publishes who it is, what it does and the executor health, and writes the ExecutorHealthy metric', async () => {
    const sent: Array<{ destination: string; body: string }> = [];
    const metrics: string[] = [];
    const heartbeat = new Heartbeat({
      send: async (destination, body) => void sent.push({ destination, body }),
      workerId: 'w1',
      environment: 'staging',
      snapshot: () => ({ executor: 'judge0', inFlight: 1, concurrency: 2, executorAvailable: false, executorError: 'Judge0 unreachable' }),
      metrics: (line) => metrics.push(line),
    });
    await heartbeat.beat(true);
    assert.equal(sent[0].destination, '/topic/grading-heartbeat');
    const message = parseHeartbeat(sent[0].body)!;
    assert.deepEqual(
      [message.workerId, message.accepting, message.executorHealthy, message.executorDetail, message.inFlight],
      ['w1', true, false, 'Judge0 unreachable', 1],
    );
    const emf = JSON.parse(metrics[0]);
    assert.deepEqual(emf._aws.CloudWatchMetrics[0], {
      Namespace: 'GradingStack/Worker',
      Dimensions: [['Environment']],
      Metrics: [{ Name: 'ExecutorHealthy', Unit: 'Count' }],
    });
    assert.equal(emf.ExecutorHealthy, 0);
    await heartbeat.stop();
    assert.equal(parseHeartbeat(sent[1].body)!.accepting, false);
  });

  it('asks Judge0 for its workers with the auth token', async () => {
    const healthy = await judge0Workers([{ available: 2, size: 0 }]);
    const fresh = await judge0Workers([]);
    const dead = await judge0Workers([{ available: 0, size: 3 }]);
    try {
      assert.deepEqual(await judge0HealthProbe(healthy.url, 'tok')(), { healthy: true });
      assert.deepEqual(await judge0HealthProbe(healthy.url, 'wrong')(), {
        healthy: false,
        detail: 'Judge0 rejected the auth token (HTTP 401)',
      });
      assert.deepEqual(await judge0HealthProbe(fresh.url, 'tok')(), { healthy: true }, 'no job pushed yet: no queue, not an outage');
      assert.deepEqual(await judge0HealthProbe(dead.url, 'tok')(), {
        healthy: false,
        detail: 'Judge0 reports no available workers (3 job(s) waiting)',
      });
    } finally {
      healthy.close();
      fresh.close();
      dead.close();
    }
    const down = await judge0HealthProbe('http://127.0.0.1:9', 'tok', 2000)();
    assert.equal(down.healthy, false);
    assert.match(down.detail!, /^Judge0 unreachable at http:\/\/127\.0\.0\.1:9\/workers/);
  });
});

describe('worker presence', () => {
  const beat = (workerId: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      type: 'heartbeat',
      workerId,
      executor: 'judge0',
      accepting: true,
      executorHealthy: true,
      sentAt: new Date().toISOString(),
      ...extra,
    });

  it('counts workers within the window and says when none is taking submissions', () => {
    let now = 1_000_000;
    const presence = new WorkerPresence(20_000, () => now);
    assert.equal(presence.report().status, 'unknown');
    presence.observe(beat('a'));
    presence.observe(beat('b'));
    presence.observe('not json');
    assert.deepEqual([presence.report().status, presence.report().workers], ['ok', 2]);
    now += 15_000;
    presence.observe(beat('b'));
    now += 10_000;
    assert.deepEqual([presence.report().status, presence.report().workers], ['ok', 1]);
    presence.observe(beat('b', { executorHealthy: false, executorDetail: 'Judge0 unreachable at http://j:2358/workers' }));
    assert.equal(presence.report().status, 'degraded');
    assert.match(presence.report().message, /^1 worker\(s\) up, but their executor \(judge0\) is unavailable; submissions wait$/);
    assert.doesNotMatch(JSON.stringify(presence.report()), /j:2358/, 'the internal Judge0 address stays private');
    presence.observe(beat('b', { accepting: false }));
    const none = presence.report();
    assert.deepEqual([none.status, none.workers], ['none', 0]);
    assert.match(none.message, /^no worker is taking submissions/);
  });
});
