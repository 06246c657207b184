/**
 * Webhooks: a real local receiver checks the signature; a 500 is retried with exponential back-off
 * (injected sleep); private, loopback, link-local and IPv4-mapped targets are refused without a
 * connection; two gateway instances (two pools, the gateway's own DB user from the migration) deliver
 * one final result exactly once, and each attempt is recorded in webhook_deliveries.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import mysql, { Pool } from 'mysql2/promise';
import { migrateDatabase } from '../../web/src/db/migrate';
import { isForbiddenAddress } from '../../web/src/webhooks/addressGuard';
import { parseWebhookConfig } from '../../web/src/webhooks/config';
import { MysqlWebhookDeliveryStore, WebhookDeliveryStore, WebhookDispatcher } from '../../web/src/webhooks/dispatcher';
import { verifySignature } from '../../web/src/webhooks/signature';
import { servicesTls, sharedMariaDb } from '../helpers/services';
import { createMasterUser, MASTER_USER } from '../helpers/tierUsers';

const SECRET = 'whsec-test-0123456789';
const DATABASE = 'webhooks_test';
const GATEWAY = { username: 'webhooks_gateway', password: 'webhooks-gateway-password-0123' };

interface Received { headers: http.IncomingHttpHeaders; body: string }

/** A receiver that answers with the next code of `codes` (then 200) and keeps what it received. */
async function receiver(codes: number[] = []): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = codes.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, received, close: () => new Promise((r) => server.close(() => r())) };
}

class MemoryStore implements WebhookDeliveryStore {
  claimed = new Set<string>();
  log: unknown[] = [];
  async claim(id: string) { if (this.claimed.has(id)) return false; this.claimed.add(id); return true; }
  async record(_id: string, a: unknown) { this.log.push(a); }
}

describe('webhooks', function () {
  this.timeout(60_000);
  const result = { requestId: 'req_hook_1', status: 'completed', result: { verdict: 'AC', score: 100 } };

  it('signs the result so that a receiver verifies it, and refuses a changed body or an old timestamp', async () => {
    const r = await receiver();
    try {
      const now = 1_800_000_000_000;
      const d = new WebhookDispatcher({ store: new MemoryStore(), allowPrivate: true, now: () => now });
      const attempts = await d.deliver('req_hook_1', { url: r.url, secret: SECRET }, result);
      assert.deepEqual(attempts, [{ attempt: 1, status: 'delivered', responseCode: 200 }]);
      const [got] = r.received;
      const sig = String(got.headers['x-grading-signature']);
      const ts = String(got.headers['x-grading-timestamp']);
      assert.equal(ts, String(now / 1000));
      assert.deepEqual(JSON.parse(got.body), result);
      assert.equal(verifySignature(SECRET, sig, ts, got.body, now / 1000), true);
      assert.equal(verifySignature(SECRET, sig, ts, got.body.replace('AC', 'WA'), now / 1000), false);
      assert.equal(verifySignature('other-secret', sig, ts, got.body, now / 1000), false);
      assert.equal(verifySignature(SECRET, sig, ts, got.body, now / 1000 + 301), false);
    } finally {
      await r.close();
    }
  });

  it('retries a 500 with exponential back-off, bounded, and records every attempt', async () => {
    const r = await receiver([500, 503]);
    const sleeps: number[] = [];
    const store = new MemoryStore();
    try {
      const d = new WebhookDispatcher({ store, allowPrivate: true, baseDelayMs: 100, maxAttempts: 3, sleep: async (ms) => void sleeps.push(ms) });
      const attempts = await d.deliver('req_hook_2', { url: r.url, secret: SECRET }, result);
      assert.deepEqual(attempts.map((a) => [a.status, a.responseCode]), [['failed', 500], ['failed', 503], ['delivered', 200]]);
      assert.deepEqual(sleeps, [100, 200]);
      assert.equal(store.log.length, 3);
      const allFail = await receiver([500, 500, 500, 500]);
      const bounded = await new WebhookDispatcher({ store, allowPrivate: true, maxAttempts: 3, sleep: async () => {} })
        .deliver('req_hook_3', { url: allFail.url, secret: SECRET }, result);
      assert.equal(bounded.length, 3);
      assert.equal(allFail.received.length, 3);
      await allFail.close();
    } finally {
      await r.close();
    }
  });

  it('refuses private, loopback, link-local, metadata and IPv4-mapped targets and http without ever connecting', async () => {
    const r = await receiver();
    try {
      const port = new URL(r.url).port;
      const targets = [
        `https://127.0.0.1:${port}/`, 'https://10.1.2.3/', 'https://169.254.169.254/latest/meta-data/', `https://[::1]:${port}/`,
        `https://[::ffff:127.0.0.1]:${port}/`, 'https://[fd00::1]/', `https://loopback.example:${port}/`, 'http://example.com/',
      ];
      const resolve = async (host: string) => (host === 'loopback.example' ? [{ address: '93.184.216.34', family: 4 }, { address: '127.0.0.1', family: 4 }] : []);
      const d = new WebhookDispatcher({ store: new MemoryStore(), allowPrivate: false, resolve, sleep: async () => {} });
      for (const url of targets) {
        const attempts = await d.deliver(`req_${url}`, { url, secret: SECRET }, result);
        assert.equal(attempts.length, 1, url);
        assert.equal(attempts[0].status, 'refused', url);
      }
      assert.equal(r.received.length, 0);
      for (const a of ['::ffff:7f00:1', '::ffff:a9fe:a9fe', '100.64.0.1', 'fe80::1', '0.0.0.0', '::']) assert.equal(isForbiddenAddress(a), true, a);
      for (const a of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:93.184.216.34']) assert.equal(isForbiddenAddress(a), false, a);
    } finally {
      await r.close();
    }
  });

  it('refuses WEBHOOK_ALLOW_PRIVATE in production and a site URL without a secret, all at once', () => {
    const problems: string[] = [];
    parseWebhookConfig({ NODE_ENV: 'production', WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_URL: 'http://x.example/' }, problems);
    assert.deepEqual(problems, [
      'WEBHOOK_ALLOW_PRIVATE=true is refused in production',
      'WEBHOOK_URL must use https',
      'WEBHOOK_URL needs WEBHOOK_SECRET or WEBHOOK_SECRET_PARAM',
    ]);
  });

  describe('with two gateway instances on MariaDB', () => {
    const pools: Pool[] = [];
    before(async function () {
      this.timeout(120_000);
      const db = await sharedMariaDb();
      createMasterUser(db, DATABASE);
      const ca = fs.readFileSync(servicesTls().caFile, 'utf8');
      await migrateDatabase({ host: '127.0.0.1', port: db.port, database: DATABASE, master: MASTER_USER, gateway: GATEWAY,
        worker: { username: 'webhooks_worker', password: 'webhooks-worker-password-0123' }, ca });
      for (let i = 0; i < 2; i++) {
        pools.push(mysql.createPool({ host: '127.0.0.1', port: db.port, user: GATEWAY.username, password: GATEWAY.password, database: DATABASE, ssl: { ca } }));
      }
    });
    after(async () => Promise.all(pools.map((p) => p.end())));

    it('delivers one final result exactly once and records the attempts', async () => {
      const r = await receiver([500]);
      try {
        const [a, b] = pools.map((pool) => new WebhookDispatcher({ store: new MysqlWebhookDeliveryStore(pool), allowPrivate: true, sleep: async () => {} }));
        const id = `req_hook_two_${Date.now()}`;
        const [fromA, fromB] = await Promise.all([a.deliver(id, { url: r.url, secret: SECRET }, result), b.deliver(id, { url: r.url, secret: SECRET }, result)]);
        assert.equal([fromA, fromB].filter((x) => x.length > 0).length, 1);
        assert.equal(r.received.length, 2); // the 500, then the delivery: by one instance only
        const [rows] = await pools[0].query('SELECT status, attempts, last_response_code, attempt_log FROM webhook_deliveries WHERE request_id = ?', [id]);
        const row = (rows as Array<Record<string, unknown>>)[0];
        assert.equal(row.status, 'delivered');
        assert.equal(row.attempts, 2);
        assert.equal(row.last_response_code, 200);
        const log = typeof row.attempt_log === 'string' ? JSON.parse(row.attempt_log) : row.attempt_log;
        assert.deepEqual((log as Array<{ responseCode: number }>).map((x) => x.responseCode), [500, 200]);
      } finally {
        await r.close();
      }
    });
  });
});
