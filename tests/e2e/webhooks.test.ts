/**
 * Webhooks end to end: submissions through real gateway instances (HTTP, bearer tokens), graded by
 * the real worker through ActiveMQ, MariaDB and s3rver; the final result POSTed to a local HTTPS
 * receiver whose certificate comes from the run's test CA (WEBHOOK_TLS_CA). The receiver checks the
 * signature with the Node and Python snippets of docs/web-integration.md, exactly as printed there.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as vm from 'node:vm';
import type { RunningGateway } from '../../web/src/wiring';
import { bearer, E2E_GATEWAY_AUTH_ENV } from '../helpers/gatewayAuth';
import { servicesTls } from '../helpers/services';
import { E2E_BROKER_USERS, migrateForTiers } from '../helpers/tierUsers';
import { E2eStack, startE2eStack } from './stack';

const SECRET = crypto.randomBytes(32).toString('base64url');
const SOLUTIONS = path.join(__dirname, '../../examples/solutions');
const source = (file: string) => fs.readFileSync(path.join(SOLUTIONS, file), 'utf8');
const DOC = fs.readFileSync(path.join(__dirname, '../../docs/web-integration.md'), 'utf8');

/** The fenced code block of the integration guide that contains `marker`. */
function docSnippet(language: string, marker: string): string {
  const blocks = [...DOC.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);
  const block = blocks.find((b) => b.includes(marker));
  assert.ok(block, `docs/web-integration.md has a ${language} block with ${marker}`);
  return block;
}

type NodeVerify = (secret: string, rawBody: string, headers: Record<string, string>) => boolean;
/** The guide's Node verifier, run as a receiver would run it. */
function nodeVerifier(): NodeVerify {
  const sandbox = { require, Buffer, module: { exports: {} as Record<string, unknown> } };
  vm.runInNewContext(`${docSnippet('js', 'function verify(')}\nmodule.exports.verify = verify;`, sandbox);
  return sandbox.module.exports.verify as NodeVerify;
}

/** The guide's Python verifier (python3), fed the raw body and headers of a delivery. */
function pythonVerifies(secret: string, body: string, headers: Record<string, string>): boolean {
  const program = `${docSnippet('python', 'def verify(')}
import json, sys
data = json.load(sys.stdin)
print(verify(data["secret"], data["body"].encode(), data["headers"]))`;
  const out = execFileSync('python3', ['-c', program], { input: JSON.stringify({ secret, body, headers }), encoding: 'utf8' });
  return out.trim() === 'True';
}

interface Delivery {
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** An HTTPS receiver (test CA certificate) that answers each path with its next programmed code, then 200. */
async function httpsReceiver(
  codes: Record<string, number[]> = {},
): Promise<{ base: string; received: Delivery[]; close(): Promise<void> }> {
  const tls = servicesTls();
  const received: Delivery[] = [];
  const server = https.createServer({ key: fs.readFileSync(tls.keyFile), cert: fs.readFileSync(tls.certFile) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      received.push({ path: req.url ?? '', headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = codes[req.url ?? '']?.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, received, close: () => new Promise((r) => server.close(() => r())) };
}

/** Polls until `count` deliveries match (bounded; the grading itself takes seconds). */
async function waitForDeliveries(
  received: Delivery[],
  match: (d: Delivery) => boolean,
  count: number,
  timeoutMs = 90_000,
): Promise<Delivery[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = received.filter(match);
    if (got.length >= count) return got;
    if (Date.now() > deadline) throw new Error(`${got.length} of ${count} expected deliveries arrived`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Deliveries to `path` of the result of `requestId`. */
const to = (path: string, requestId: unknown) => (d: Delivery) => d.path === path && JSON.parse(d.body).requestId === requestId;

async function submit(
  base: string,
  body: Record<string, unknown>,
  user = 'e2e_hooks',
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}/api/submissions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await bearer(user)) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('webhooks end to end (gateway, worker, broker, database, S3, HTTPS receiver)', function () {
  this.timeout(180_000);
  let stack: E2eStack;
  let receiver: Awaited<ReturnType<typeof httpsReceiver>>;
  let gatewayEnv: Record<string, string>;
  const accepted = { problemId: 'sum', language: 'python', sourceCode: source('sum/accepted.py') };

  before(async function () {
    this.timeout(240_000);
    let tierEnv: Record<string, string> = {};
    stack = await startE2eStack('webhooks-e2e', {
      brokerUsers: E2E_BROKER_USERS,
      prepare: async ({ db }) => {
        const users = await migrateForTiers(db);
        tierEnv = users.gateway;
        return users.worker;
      },
    });
    receiver = await httpsReceiver({ '/flaky': [500] });
    gatewayEnv = {
      ...E2E_GATEWAY_AUTH_ENV,
      ...tierEnv,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_TLS_CA: servicesTls().caFile,
      WEBHOOK_RETRY_BASE_MS: '200',
    };
  });

  after(async function () {
    this.timeout(90_000);
    await receiver?.close();
    await stack?.stop();
  });

  /** Two instances, as behind the ALB; closed by the test (close waits for deliveries in progress). */
  const pair = (extra: Record<string, string> = {}) =>
    Promise.all([stack.gateway({ ...gatewayEnv, ...extra }), stack.gateway({ ...gatewayEnv, ...extra })]);
  const closeAll = (gateways: RunningGateway[]) => Promise.all(gateways.map((g) => g.close()));

  it('POSTs the final result once, signed so that the documented Node and Python checks accept it', async () => {
    const [a, b] = await pair();
    const submitted = await submit(a.url, { ...accepted, callbackUrl: `${receiver.base}/hook` });
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    const requestId = submitted.body.requestId as string;
    const [delivery] = await waitForDeliveries(receiver.received, to('/hook', requestId), 1);
    // Both instances heard the final event; closing them waits for anything they were still sending.
    await closeAll([a, b]);
    assert.equal(receiver.received.filter(to('/hook', requestId)).length, 1, 'exactly one POST across two instances');

    const result = JSON.parse(delivery.body);
    assert.equal(result.requestId, requestId);
    assert.equal(result.status, 'completed');
    assert.equal(result.result.verdict, 'AC');
    const [c] = await pair();
    const stored = await (await fetch(`${c.url}/api/submissions/${requestId}`, { headers: await bearer('e2e_hooks') })).json();
    assert.deepEqual(result, stored, 'the body is the result document');
    assert.equal(delivery.headers['content-type'], 'application/json');
    assert.match(delivery.headers['x-grading-delivery'], /^dlv_[0-9a-f]{32}$/);

    const verify = nodeVerifier();
    assert.equal(verify(SECRET, delivery.body, delivery.headers), true, 'Node snippet');
    assert.equal(pythonVerifies(SECRET, delivery.body, delivery.headers), true, 'Python snippet');
    const tampered = delivery.body.replace('"AC"', '"WA"');
    assert.equal(verify(SECRET, tampered, delivery.headers), false);
    assert.equal(pythonVerifies(SECRET, tampered, delivery.headers), false);
    assert.equal(pythonVerifies('another-site-secret', delivery.body, delivery.headers), false);
    const old = { ...delivery.headers, 'x-grading-timestamp': String(Number(delivery.headers['x-grading-timestamp']) - 600) };
    assert.equal(verify(SECRET, delivery.body, old), false, 'a replay outside five minutes');
    await c.close();
  });

  it('retries a receiver that answered 500, with the same delivery id, and records both attempts', async () => {
    const gateways = await pair();
    const submitted = await submit(gateways[1].url, {
      ...accepted,
      sourceCode: `${accepted.sourceCode}\n# flaky\n`,
      callbackUrl: `${receiver.base}/flaky`,
    });
    assert.equal(submitted.status, 202);
    const [first, second] = await waitForDeliveries(receiver.received, to('/flaky', submitted.body.requestId), 2);
    await closeAll(gateways);
    assert.equal(receiver.received.filter(to('/flaky', submitted.body.requestId)).length, 2);
    assert.equal(first.headers['x-grading-delivery'], second.headers['x-grading-delivery']);
    assert.equal(first.body, second.body);
    const rows = execFileSync(
      '/usr/bin/mariadb',
      [
        '--no-defaults',
        `--socket=${stack.db.socket}`,
        '-uroot',
        '-N',
        stack.db.database,
        '-e',
        `SELECT status, attempts, JSON_EXTRACT(attempt_log, '$[*].responseCode') FROM webhook_deliveries
          WHERE request_id = '${submitted.body.requestId}'`,
      ],
      { encoding: 'utf8' },
    );
    assert.deepEqual(rows.trim().split('\t'), ['delivered', '2', '[500, 200]']);
  });

  it("sends results of submissions without their own URL to the site's WEBHOOK_URL, once", async () => {
    const gateways = await pair({ WEBHOOK_URL: `${receiver.base}/site` });
    const submitted = await submit(gateways[0].url, { ...accepted, sourceCode: `${accepted.sourceCode}\n# site\n` });
    assert.equal(submitted.status, 202);
    await waitForDeliveries(receiver.received, to('/site', submitted.body.requestId), 1);
    await closeAll(gateways);
    assert.equal(receiver.received.filter(to('/site', submitted.body.requestId)).length, 1);
  });

  it('in production refuses http and private, loopback or metadata callback URLs with 400 naming the field', async () => {
    const production = await stack.gateway({ ...gatewayEnv, ENVIRONMENT: 'production', AUTH_DEV_LOGIN: 'false' });
    const port = new URL(receiver.base).port;
    for (const url of [
      `${receiver.base}/hook`,
      'https://169.254.169.254/latest/meta-data/',
      'https://[::ffff:10.0.0.1]/',
      'http://hooks.example.com/',
    ]) {
      const refused = await submit(production.url, { ...accepted, callbackUrl: url });
      assert.equal(refused.status, 400, url);
      const fields = (refused.body.errors as Array<{ field: string }>).map((e) => e.field);
      assert.ok(fields.length > 0 && fields.every((f) => f === 'callbackUrl'), `${url}: ${JSON.stringify(refused.body)}`);
    }
    const credentials = await submit(production.url, { ...accepted, callbackUrl: `https://user:pw@hooks.example.com:${port}/` });
    assert.deepEqual(
      (credentials.body.errors as Array<{ message: string }>).map((e) => e.message),
      ['must not contain a user name or password', `must use port 443 (got ${port})`],
    );
    await production.close();
    // Without a secret a gateway has no webhooks: a callbackUrl is refused rather than silently dropped.
    const { WEBHOOK_SECRET: _secret, ...withoutSecret } = gatewayEnv;
    const plain = await stack.gateway({ ...withoutSecret });
    const off = await submit(plain.url, { ...accepted, callbackUrl: `${receiver.base}/hook` });
    assert.equal(off.status, 400);
    assert.match(JSON.stringify(off.body.errors), /webhooks are not configured/);
    await plain.close();
  });
});
