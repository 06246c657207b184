/**
 * Webhooks: a real local receiver checks the signature; 5xx, 408, 429 and refused connections are
 * retried with exponential back-off and jitter (injected sleep and random), other 4xx are not;
 * private, loopback, link-local and IPv4-mapped targets are refused without a connection; two
 * gateway instances (two pools, the gateway's own DB user from the migration) deliver one final
 * result exactly once, each attempt recorded in webhook_deliveries; a delivery left unfinished is
 * taken over after its lease; the sweep delivers a result no instance heard.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import mysql, { Pool } from 'mysql2/promise';
import { migrateDatabase } from '../../web/src/db/migrate';
import { isForbiddenAddress } from '../../web/src/webhooks/addressGuard';
import { envReader } from '../../core/src/config';
import { MysqlSubmissionIndex } from '../../web/src/submissionIndex';
import { checkCallbackUrl } from '../../web/src/webhooks/callbackUrl';
import { parseWebhookConfig } from '../../web/src/webhooks/config';
import {
  deliveryId,
  MysqlWebhookDeliveryStore,
  WebhookAttempt,
  WebhookDeliveryStore,
  WebhookDispatcher,
} from '../../web/src/webhooks/dispatcher';
import { createWebhookService, WebhookService } from '../../web/src/webhooks/service';
import { verifySignature } from '../../web/src/webhooks/signature';
import { servicesTls, sharedMariaDb } from '../helpers/services';
import { createMasterUser, MASTER_USER } from '../helpers/tierUsers';

const SECRET = 'whsec-test-0123456789-0123456789-abcdef';
const DATABASE = 'webhooks_test';
const GATEWAY = { username: 'webhooks_gateway', password: 'webhooks-gateway-password-0123' };

interface Received {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A receiver that answers with the next code of `codes` (then 200) and keeps what it received. */
async function receiver(codes: number[] = []): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body });
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
  log: Array<{ attempt: WebhookAttempt; status: string }> = [];
  async claim(id: string) {
    if (this.claimed.has(id)) return undefined;
    this.claimed.add(id);
    return 0;
  }
  async record(_id: string, attempt: WebhookAttempt, status: string) {
    this.log.push({ attempt, status });
  }
}

const noSleep = async () => undefined;
/** parseWebhookConfig with the gateway's own readers. */
function webhookConfig(env: Record<string, string>): { problems: string[]; config: ReturnType<typeof parseWebhookConfig> } {
  const problems: string[] = [];
  return { config: parseWebhookConfig(env, problems, envReader(env, problems)), problems };
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
      assert.equal(got.headers['x-grading-delivery'], deliveryId('req_hook_1'));
      assert.match(String(got.headers['x-grading-delivery']), /^dlv_[0-9a-f]{32}$/);
    } finally {
      await r.close();
    }
  });

  it('retries 5xx, 408 and 429 with exponential back-off and jitter, bounded, and records every attempt', async () => {
    const r = await receiver([500, 503, 429, 408]);
    const sleeps: number[] = [];
    const store = new MemoryStore();
    try {
      const d = new WebhookDispatcher({
        store,
        allowPrivate: true,
        baseDelayMs: 100,
        maxAttempts: 5,
        random: () => 1,
        sleep: async (ms) => void sleeps.push(ms),
      });
      const attempts = await d.deliver('req_hook_2', { url: r.url, secret: SECRET }, result);
      assert.deepEqual(
        attempts.map((a) => [a.status, a.responseCode]),
        [
          ['failed', 500],
          ['failed', 503],
          ['failed', 429],
          ['failed', 408],
          ['delivered', 200],
        ],
      );
      assert.deepEqual(sleeps, [100, 200, 400, 800]);
      assert.deepEqual(
        store.log.map((l) => l.status),
        ['retrying', 'retrying', 'retrying', 'retrying', 'delivered'],
      );
      // Every attempt carries the same delivery id, so the receiver can drop a repeat.
      assert.deepEqual(new Set(r.received.map((x) => x.headers['x-grading-delivery'])).size, 1);
      // Jitter: between half and all of the exponential step.
      const jittered = new WebhookDispatcher({ store, allowPrivate: true, baseDelayMs: 1000, random: () => 0 });
      assert.deepEqual(
        [1, 2, 3].map((n) => jittered.backoffMs(n)),
        [500, 1000, 2000],
      );

      const allFail = await receiver([500, 500, 500, 500]);
      const bounded = await new WebhookDispatcher({ store, allowPrivate: true, maxAttempts: 3, sleep: noSleep }).deliver(
        'req_hook_3',
        { url: allFail.url, secret: SECRET },
        result,
      );
      assert.equal(bounded.length, 3);
      assert.equal(allFail.received.length, 3);
      assert.equal(store.log.at(-1)!.status, 'failed');
      await allFail.close();
    } finally {
      await r.close();
    }
  });

  it('retries a failed DNS lookup, but refuses a malformed URL at once', async () => {
    const store = new MemoryStore();
    const resolve = async () => {
      throw Object.assign(new Error('getaddrinfo EAI_AGAIN hooks.example.com'), { code: 'EAI_AGAIN' });
    };
    const d = new WebhookDispatcher({ store, allowPrivate: false, resolve, maxAttempts: 2, sleep: noSleep });
    const dns = await d.deliver('req_hook_dns', { url: 'https://hooks.example.com/', secret: SECRET }, result);
    assert.deepEqual(
      dns.map((a) => [a.status, a.retryable]),
      [
        ['failed', true],
        ['failed', true],
      ],
    );
    const malformed = await d.deliver('req_hook_bad', { url: 'https://exa mple.com/', secret: SECRET }, result);
    assert.deepEqual(
      malformed.map((a) => a.status),
      ['refused'],
    );
  });

  it('does not retry other 4xx answers, but retries a refused connection', async () => {
    const r = await receiver([404]);
    const store = new MemoryStore();
    try {
      const d = new WebhookDispatcher({ store, allowPrivate: true, maxAttempts: 4, sleep: noSleep });
      const notFound = await d.deliver('req_hook_404', { url: r.url, secret: SECRET }, result);
      assert.deepEqual(
        notFound.map((a) => [a.status, a.responseCode, a.retryable]),
        [['failed', 404, false]],
      );
      assert.equal(store.log.at(-1)!.status, 'failed');
    } finally {
      await r.close();
    }
    // The receiver is gone: nothing listens on its port any more.
    const down = await new WebhookDispatcher({ store, allowPrivate: true, maxAttempts: 2, sleep: noSleep }).deliver(
      'req_hook_down',
      { url: r.url, secret: SECRET },
      result,
    );
    assert.deepEqual(
      down.map((a) => [a.status, a.retryable]),
      [
        ['failed', true],
        ['failed', true],
      ],
    );
    assert.match(down[0].error!, /ECONNREFUSED/);
  });

  it('refuses private, loopback, link-local, metadata and IPv4-mapped targets and http without ever connecting', async () => {
    const r = await receiver();
    try {
      const port = new URL(r.url).port;
      const targets = [
        `https://127.0.0.1:${port}/`,
        'https://10.1.2.3/',
        'https://169.254.169.254/latest/meta-data/',
        `https://[::1]:${port}/`,
        `https://[::ffff:127.0.0.1]:${port}/`,
        'https://[fd00::1]/',
        `https://loopback.example:${port}/`,
        'http://example.com/',
      ];
      const resolve = async (host: string) =>
        host === 'loopback.example'
          ? [
              { address: '93.184.216.34', family: 4 },
              { address: '127.0.0.1', family: 4 },
            ]
          : [];
      const d = new WebhookDispatcher({ store: new MemoryStore(), allowPrivate: false, resolve, sleep: noSleep });
      for (const url of targets) {
        const attempts = await d.deliver(`req_${url}`, { url, secret: SECRET }, result);
        assert.equal(attempts.length, 1, url);
        assert.equal(attempts[0].status, 'refused', url);
      }
      assert.equal(r.received.length, 0);
      for (const a of ['::ffff:7f00:1', '::ffff:a9fe:a9fe', '100.64.0.1', 'fe80::1', '0.0.0.0', '::'])
        assert.equal(isForbiddenAddress(a), true, a);
      for (const a of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:93.184.216.34'])
        assert.equal(isForbiddenAddress(a), false, a);
    } finally {
      await r.close();
    }
  });

  it('allows http and loopback on a local stack only, and reports every bad WEBHOOK_* setting at once', () => {
    const local = webhookConfig({ ENVIRONMENT: 'local', WEBHOOK_URL: 'http://127.0.0.1:9999/hook', WEBHOOK_SECRET: SECRET });
    assert.deepEqual(local.problems, []);
    assert.equal(local.config.allowPrivate, true);
    const prod = webhookConfig({
      ENVIRONMENT: 'production',
      WEBHOOK_URL: 'http://user:pw@10.0.0.1:8080/x',
      WEBHOOK_SECRET: 'short',
      WEBHOOK_MAX_ATTEMPTS: '0',
    });
    assert.equal(prod.config.allowPrivate, false);
    assert.deepEqual(prod.problems, [
      'WEBHOOK_MAX_ATTEMPTS must be an integer 1..20 (got "0")',
      'WEBHOOK_SECRET must be at least 32 characters (got 5)',
      'WEBHOOK_URL must use https (got http)',
      'WEBHOOK_URL must not contain a user name or password',
      'WEBHOOK_URL must use port 443 (got 8080)',
      'WEBHOOK_URL must not name a private, loopback or link-local host (got 10.0.0.1)',
    ]);
    assert.deepEqual(webhookConfig({ ENVIRONMENT: 'staging', WEBHOOK_URL: 'https://hooks.example.com/g' }).problems, [
      'WEBHOOK_URL needs WEBHOOK_SECRET or WEBHOOK_SECRET_PARAM (the key deliveries are signed with)',
    ]);
    // NODE_ENV=production is production whatever ENVIRONMENT says.
    assert.equal(webhookConfig({ NODE_ENV: 'production' }).config.allowPrivate, false);
  });

  it('limits callbackUrl hosts to WEBHOOK_ALLOWED_HOSTS when set, and refuses a callbackUrl without a secret', () => {
    const { config, problems } = webhookConfig({
      ENVIRONMENT: 'staging',
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_ALLOWED_HOSTS: 'hooks.example.com, .example.org',
    });
    assert.deepEqual(problems, []);
    const service = createWebhookService(config, {} as never, async () => undefined);
    assert.deepEqual(service.checkCallbackUrl('https://hooks.example.com/g'), []);
    assert.deepEqual(service.checkCallbackUrl('https://a.b.example.org/g'), []);
    for (const url of [
      'https://evil.example.com/',
      'https://example.org/',
      'https://hooks.example.com.evil.net/',
      'https://xexample.org/',
    ]) {
      assert.deepEqual(
        service.checkCallbackUrl(url),
        ['must name one of the hosts this site allows (WEBHOOK_ALLOWED_HOSTS: hooks.example.com, .example.org)'],
        url,
      );
    }
    assert.deepEqual(webhookConfig({ WEBHOOK_ALLOWED_HOSTS: 'ok.example.com,bad host,https://x.example' }).problems, [
      'WEBHOOK_ALLOWED_HOSTS: bad host, https://x.example not a host name (hooks.example.com) or suffix (.example.com)',
    ]);
    const off = createWebhookService(webhookConfig({}).config, {} as never, async () => undefined);
    assert.deepEqual(off.checkCallbackUrl('https://hooks.example.com/'), [
      'is not accepted: webhooks are not configured on this gateway (no WEBHOOK_SECRET)',
    ]);
  });

  it('delivers at most maxConcurrent at once per instance; the others wait for a slot', async () => {
    const held: http.ServerResponse[] = [];
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => held.push(res));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const until = async (what: () => boolean) => {
      while (!what()) await new Promise((r) => setTimeout(r, 10));
    };
    try {
      const { config } = webhookConfig({ ENVIRONMENT: 'local', WEBHOOK_SECRET: SECRET });
      const service = new WebhookService({
        config,
        dispatcher: new WebhookDispatcher({ store: new MemoryStore(), allowPrivate: true }),
        targets: { lookup: async () => ({ callbackUrl: url }), missed: async () => [] },
        readResult: async () => undefined,
        maxConcurrent: 1,
      });
      const deliveries = ['req_c1', 'req_c2', 'req_c3'].map((id) => service.deliverFinal(id, { ...result, requestId: id } as never));
      await until(() => held.length === 1 && service.backlog.waiting === 2);
      assert.deepEqual(service.backlog, { active: 1, waiting: 2 });
      for (let n = 1; n <= 3; n++) {
        await until(() => held.length === n);
        assert.equal(service.backlog.active, 1);
        held[n - 1].end();
      }
      assert.deepEqual(
        (await Promise.all(deliveries)).map((a) => a.map((x) => x.status)),
        [['delivered'], ['delivered'], ['delivered']],
      );
      assert.deepEqual(service.backlog, { active: 0, waiting: 0 });
    } finally {
      for (const res of held) if (!res.writableEnded) res.end();
      await new Promise((r) => server.close(() => r(undefined)));
    }
  });

  it('checks a callbackUrl without DNS: scheme, length, credentials, fragment, port, literal private hosts', () => {
    const strict = { allowPrivate: false };
    assert.deepEqual(checkCallbackUrl('https://hooks.example.com/grading?site=1', strict), []);
    assert.deepEqual(checkCallbackUrl('https://hooks.example.com:443/g', strict), []);
    assert.deepEqual(checkCallbackUrl(42, strict), ['must be a string']);
    assert.deepEqual(checkCallbackUrl('not a url', strict), ['must be an absolute URL such as https://example.com/grading-hook']);
    assert.deepEqual(checkCallbackUrl(`https://e.example/${'a'.repeat(2048)}`, strict), ['must be at most 2048 characters (got 2066)']);
    assert.deepEqual(checkCallbackUrl('https://e.example/#x', strict), ['must not contain a #fragment']);
    assert.deepEqual(checkCallbackUrl('ftp://e.example/', strict), ['must use https (got ftp)']);
    for (const host of ['169.254.169.254', '[::ffff:127.0.0.1]', '[fd00::1]', 'localhost', 'a.localhost', '0.0.0.0']) {
      const named = new URL(`https://${host}/`).hostname; // as the URL parser writes it ([::ffff:7f00:1])
      assert.deepEqual(
        checkCallbackUrl(`https://${host}/`, strict),
        [`must not name a private, loopback or link-local host (got ${named})`],
        host,
      );
    }
    assert.deepEqual(checkCallbackUrl('http://127.0.0.1:8080/hook', { allowPrivate: true }), []);
    assert.deepEqual(checkCallbackUrl('https://u:p@127.0.0.1/', { allowPrivate: true }), ['must not contain a user name or password']);
  });

  describe('with two gateway instances on MariaDB', () => {
    const pools: Pool[] = [];
    before(async function () {
      this.timeout(120_000);
      const db = await sharedMariaDb();
      createMasterUser(db, DATABASE);
      const ca = fs.readFileSync(servicesTls().caFile, 'utf8');
      await migrateDatabase({
        host: '127.0.0.1',
        port: db.port,
        database: DATABASE,
        master: MASTER_USER,
        gateway: GATEWAY,
        worker: { username: 'webhooks_worker', password: 'webhooks-worker-password-0123' },
        ca,
      });
      for (let i = 0; i < 2; i++) {
        pools.push(
          mysql.createPool({
            host: '127.0.0.1',
            port: db.port,
            user: GATEWAY.username,
            password: GATEWAY.password,
            database: DATABASE,
            ssl: { ca },
          }),
        );
      }
    });
    after(async () => Promise.all(pools.map((p) => p.end())));

    it('delivers one final result exactly once and records the attempts', async () => {
      const r = await receiver([500]);
      try {
        const [a, b] = pools.map(
          (pool) => new WebhookDispatcher({ store: new MysqlWebhookDeliveryStore(pool), allowPrivate: true, sleep: noSleep }),
        );
        const id = `req_hook_two_${Date.now()}`;
        const [fromA, fromB] = await Promise.all([
          a.deliver(id, { url: r.url, secret: SECRET }, result),
          b.deliver(id, { url: r.url, secret: SECRET }, result),
        ]);
        assert.equal([fromA, fromB].filter((x) => x.length > 0).length, 1);
        assert.equal(r.received.length, 2); // the 500, then the delivery: by one instance only
        const [rows] = await pools[0].query(
          'SELECT status, attempts, last_response_code, attempt_log FROM webhook_deliveries WHERE request_id = ?',
          [id],
        );
        const row = (rows as Array<Record<string, unknown>>)[0];
        assert.equal(row.status, 'delivered');
        assert.equal(row.attempts, 2);
        assert.equal(row.last_response_code, 200);
        const log = typeof row.attempt_log === 'string' ? JSON.parse(row.attempt_log) : row.attempt_log;
        assert.deepEqual(
          (log as Array<{ responseCode: number }>).map((x) => x.responseCode),
          [500, 200],
        );
      } finally {
        await r.close();
      }
    });

    it('lets another instance take over a delivery left retrying once its lease ran out, counting the attempts made', async () => {
      const [a, b] = pools.map((pool) => new MysqlWebhookDeliveryStore(pool));
      const id = `req_hook_lease_${Date.now()}`;
      assert.equal(await a.claim(id, 'https://hooks.example.com/', 60_000), 0);
      await a.record(id, { attempt: 1, status: 'failed', responseCode: 503, retryable: true }, 'retrying');
      assert.equal(await b.claim(id, 'https://hooks.example.com/', 60_000), undefined, 'the owner is still within its lease');
      await pools[1].query('UPDATE webhook_deliveries SET updated_at = NOW(3) - INTERVAL 2 MINUTE WHERE request_id = ?', [id]);
      assert.equal(await b.claim(id, 'https://hooks.example.com/', 60_000), 1, 'taken over after one attempt');
      assert.equal(await a.claim(id, 'https://hooks.example.com/', 60_000), undefined, 'and only by one instance');
      await b.record(id, { attempt: 2, status: 'delivered', responseCode: 200 }, 'delivered');
      await pools[1].query('UPDATE webhook_deliveries SET updated_at = NOW(3) - INTERVAL 2 MINUTE WHERE request_id = ?', [id]);
      assert.equal(await a.claim(id, 'https://hooks.example.com/', 60_000), undefined, 'a delivered row is never taken over');
    });

    it("keeps a callbackUrl (or the site's) with its submission and sweeps up a finished result that no instance delivered", async () => {
      const r = await receiver();
      const master = await mysql.createConnection({
        host: '127.0.0.1',
        port: (await sharedMariaDb()).port,
        user: MASTER_USER.username,
        password: MASTER_USER.password,
        database: DATABASE,
        ssl: { ca: fs.readFileSync(servicesTls().caFile, 'utf8') },
      });
      try {
        const index = new MysqlSubmissionIndex(pools[0]);
        const siteIndex = new MysqlSubmissionIndex(pools[0], { siteWebhook: true }); // a gateway with WEBHOOK_URL
        const stamp = Date.now();
        const [withHook, without, forgotten, forSite] = ['sweep', 'nohook', 'forgotten', 'site'].map((k) => `req_hook_${k}_${stamp}`);
        const base = { userId: 'u1', problemId: 'sum', language: 'python', priority: false, createdAt: new Date().toISOString() };
        await index.record({ ...base, requestId: withHook, callbackUrl: `${r.url}/own` });
        await index.record({ ...base, requestId: without });
        await index.record({ ...base, requestId: forgotten, callbackUrl: `${r.url}/own` });
        await index.forget(forgotten);
        await siteIndex.record({ ...base, requestId: forSite });
        const stored = (id: string) => ({ ...result, requestId: id });
        for (const id of [withHook, without, forgotten, forSite]) {
          await master.query("INSERT INTO grading_results (request_id, status, result_json) VALUES (?, 'completed', ?)", [
            id,
            JSON.stringify(stored(id)),
          ]);
        }
        const readResult = async (id: string) => {
          const [rows] = await pools[0].query('SELECT result_json FROM grading_results WHERE request_id = ?', [id]);
          const json = (rows as Array<{ result_json: unknown }>)[0]?.result_json;
          return typeof json === 'string' ? JSON.parse(json) : json;
        };
        const ours = (ids: string[]) => ids.filter((id) => id.endsWith(`_${stamp}`)).sort();

        // Without a site URL: only the submission that named its own URL.
        const service = createWebhookService(webhookConfig({ ENVIRONMENT: 'local', WEBHOOK_SECRET: SECRET }).config, pools[0], readResult);
        assert.deepEqual(ours(await service.sweep(500)), [withHook], 'no URL, or forgotten with its submission, or meant for a site URL');
        assert.deepEqual(
          r.received.map((d) => [d.url, JSON.parse(d.body)]),
          [['/hook/own', stored(withHook)]],
        );
        assert.deepEqual(ours(await service.sweep(500)), [], 'delivered once');
        assert.deepEqual(await service.deliverFinal('req_not_through_this_gateway', stored('req_x') as never), []);
        await service.close();

        // With one: the submission made while the site had its URL, never the one made without.
        const siteConfig = webhookConfig({ ENVIRONMENT: 'local', WEBHOOK_SECRET: SECRET, WEBHOOK_URL: `${r.url}/site` }).config;
        const site = createWebhookService(siteConfig, pools[0], readResult);
        assert.deepEqual(ours(await site.sweep(500)), [forSite]);
        assert.deepEqual(
          r.received.map((d) => d.url),
          ['/hook/own', '/hook/site'],
        );
        await site.close();
        await service.close();
      } finally {
        await master.end();
        await r.close();
      }
    });
  });
});
