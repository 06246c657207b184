/**
 * Liveness apart from readiness, in the gateway and the worker: a load balancer or ECS health check
 * that probes liveness keeps every instance while the shared database or broker blips; readiness
 * still tells what is down.
 */
import assert from 'node:assert/strict';
import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HealthReport } from '../../web/src/ports';
import { Gateway } from '../../web/src/server';
import { startHealthServer } from '../../worker/src/health';
import { unitGatewayAuthDeps } from '../helpers/gatewayAuth';

const noProblems = { list: async () => [], get: async () => undefined, exists: async () => false };
const noSubmissions = {
  submit: async () => {
    throw new Error('not used');
  },
  lookup: async () => undefined,
  events: async function* () {
    return;
  },
};

describe('health: liveness apart from readiness', () => {
  it('gateway: /health/live answers 200 while the broker and database are down; /health/ready and /health say 503', async () => {
    let report: HealthReport = { ok: false, checks: { broker: 'disconnected', database: 'unreachable: connect ECONNREFUSED' } };
    const gateway = new Gateway({ submissions: noSubmissions, problems: noProblems, health: async () => report, ...unitGatewayAuthDeps() });
    await gateway.listen(0, '127.0.0.1');
    try {
      const live = await fetch(`${gateway.url}/health/live`);
      assert.equal(live.status, 200);
      assert.deepEqual(await live.json(), { status: 'ok' });
      for (const path of ['/health/ready', '/health']) {
        const ready = await fetch(`${gateway.url}${path}`);
        assert.equal(ready.status, 503, path);
        assert.equal((await ready.json()).broker, 'disconnected');
      }
      report = { ok: true, checks: { broker: 'connected', database: 'ok' } };
      assert.equal((await fetch(`${gateway.url}/health/ready`)).status, 200);
    } finally {
      await gateway.close();
    }
  });

  it('worker: /health/live answers 200 with the broker down (the session reconnects by itself); /health/ready says 503', async () => {
    let connected = false;
    const server: http.Server = await startHealthServer(0, { brokerConnected: () => connected, details: () => ({ inFlight: 0 }) });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const live = await fetch(`${base}/health/live`);
      assert.equal(live.status, 200);
      assert.deepEqual(await live.json(), { status: 'degraded', broker: 'disconnected', inFlight: 0 });
      assert.equal((await fetch(`${base}/health/ready`)).status, 503);
      assert.equal((await fetch(`${base}/health`)).status, 503);
      assert.equal((await fetch(`${base}/health/other`)).status, 404);
      connected = true;
      assert.equal((await fetch(`${base}/health/ready`)).status, 200);
    } finally {
      server.close();
    }
  });
});
