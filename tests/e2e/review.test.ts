/**
 * Code review on request, end to end: a submission graded by the real worker, the gateway's review
 * routes, MariaDB for the stored review, and a local server speaking the chat-completions API.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import mysql from 'mysql2/promise';
import { readEventStream } from '../../web/src/sseClient';
import type { RunningGateway } from '../../web/src/wiring';
import { FakeChatServer, startFakeChatServer } from '../helpers/fakeChatCompletions';
import { bearer, E2E_GATEWAY_AUTH_ENV } from '../helpers/gatewayAuth';
import { E2eStack, startE2eStack } from './stack';

const SOLUTIONS = path.join(__dirname, '../../examples/solutions');
const API_KEY = 'sk-test-review-key-123';

/** A request as `user` (the bearer token names them; the body never does). */
async function call(
  base: string,
  method: string,
  route: string,
  user: string,
  body?: unknown,
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const auth = await bearer(user);
  const response = await fetch(`${base}${route}`, {
    method,
    headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

/** Submits and waits for the final event; returns the request id. */
async function graded(base: string, userId: string, file: string, language: string): Promise<string> {
  const submitted = await call(base, 'POST', '/api/submissions', userId, {
    problemId: 'sum',
    language,
    sourceCode: fs.readFileSync(path.join(SOLUTIONS, 'sum', file), 'utf8'),
  });
  assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
  const requestId = submitted.body.requestId as string;
  for await (const event of readEventStream(`${base}/api/submissions/${requestId}/events`, {
    signal: AbortSignal.timeout(60_000),
    headers: await bearer(userId),
  })) {
    if (event.event === 'final') break;
  }
  return requestId;
}

describe('code review on request (gateway, database, chat-completions API)', function () {
  this.timeout(120_000);
  let stack: E2eStack;
  let chat: FakeChatServer;
  let gateway: RunningGateway;
  let acceptedId: string;

  before(async function () {
    this.timeout(240_000);
    chat = await startFakeChatServer(API_KEY);
    stack = await startE2eStack('review-e2e');
    gateway = await stack.gateway({
      ...E2E_GATEWAY_AUTH_ENV,
      REVIEW_BASE_URL: chat.baseUrl,
      REVIEW_MODEL: 'review-model-1',
      REVIEW_API_KEY: API_KEY,
      REVIEW_RATE_LIMIT_BURST: '3',
    });
  });

  after(async function () {
    this.timeout(90_000);
    await stack?.stop();
    await chat?.close();
  });

  const storedRows = async (requestId: string) => {
    const conn = await mysql.createConnection(stack.db.connectionOptions());
    try {
      const [rows] = await conn.execute('SELECT * FROM submission_reviews WHERE request_id = ?', [requestId]);
      return rows as Array<Record<string, unknown>>;
    } finally {
      await conn.end();
    }
  };

  it('reviews an accepted submission for its author only, with the accepted prompt, and stores it once', async () => {
    acceptedId = await graded(gateway.url, 'review_author', 'accepted.py', 'python');
    assert.equal((await call(gateway.url, 'GET', `/api/submissions/${acceptedId}/review`, 'review_author')).status, 404);

    // Someone else can neither ask for (and pay for) a review nor read one: the submission does not exist for them.
    const stranger = await call(gateway.url, 'POST', `/api/submissions/${acceptedId}/review`, 'someone_else', {});
    assert.equal(stranger.status, 404);
    assert.equal(chat.requests.length, 0);

    chat.reply = 'Complexity: O(1) time, O(1) space. Readable.';
    const first = await call(gateway.url, 'POST', `/api/submissions/${acceptedId}/review`, 'review_author', {});
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.text, chat.reply);
    assert.equal(first.body.model, 'review-model-1');
    assert.equal(first.body.verdict, 'AC');
    assert.equal(chat.requests.length, 1);
    const sent = chat.requests[0];
    assert.equal(sent.authorization, `Bearer ${API_KEY}`);
    assert.equal(sent.body.model, 'review-model-1');
    const prompt = sent.body.messages.find((m) => m.role === 'user')!.content;
    assert.match(prompt, /The submission was ACCEPTED/);
    assert.match(prompt, /# A \+ B/, 'the problem description from S3');
    assert.ok(prompt.includes(fs.readFileSync(path.join(SOLUTIONS, 'sum/accepted.py'), 'utf8').trim()), 'the stored source');

    const rows = await storedRows(acceptedId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].review_text, chat.reply);
    assert.equal(rows[0].user_id, 'review_author');

    // Asking again returns the stored review without calling the model.
    const again = await call(gateway.url, 'POST', `/api/submissions/${acceptedId}/review`, 'review_author', {});
    assert.equal(again.status, 200);
    assert.equal(again.body.text, chat.reply);
    assert.equal(chat.requests.length, 1);
    assert.equal((await call(gateway.url, 'GET', `/api/submissions/${acceptedId}/review`, 'someone_else')).status, 404);
    const read = await call(gateway.url, 'GET', `/api/submissions/${acceptedId}/review`, 'review_author');
    assert.equal(read.status, 200);
    assert.equal(read.body.text, chat.reply);
  });

  it('regenerates on request, riding out 429 and 500 from the service, and replaces the stored review', async () => {
    chat.failWith = [429, 500];
    chat.reply = 'A second look: fine.';
    const before = chat.requests.length;
    const regenerated = await call(gateway.url, 'POST', `/api/submissions/${acceptedId}/review`, 'review_author', { regenerate: true });
    assert.equal(regenerated.status, 201, JSON.stringify(regenerated.body));
    assert.equal(regenerated.body.text, 'A second look: fine.');
    assert.equal(chat.requests.length, before + 3);
    const rows = await storedRows(acceptedId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].review_text, 'A second look: fine.');
    assert.equal(rows[0].generations, 2);
  });

  it('asks a failed submission for the faulty part and keywords, not the fix', async () => {
    const wrongId = await graded(gateway.url, 'review_wa', 'wrong-answer.py', 'python');
    chat.reply = 'Look at how the two numbers are combined.';
    const review = await call(gateway.url, 'POST', `/api/submissions/${wrongId}/review`, 'review_wa', {});
    assert.equal(review.status, 201, JSON.stringify(review.body));
    assert.equal(review.body.verdict, 'WA');
    const prompt = chat.requests.at(-1)!.body.messages.find((m) => m.role === 'user')!.content;
    assert.match(prompt, /failed with verdict WA/);
    assert.match(prompt, /Do not give the fix/);
  });

  it('limits generations per user (429 with Retry-After) but never the reading of a stored review', async () => {
    // review_author has used 2 of 3 generations; one more is allowed, the next is refused.
    assert.equal(
      (await call(gateway.url, 'POST', `/api/submissions/${acceptedId}/review`, 'review_author', { regenerate: true })).status,
      201,
    );
    const limited = await call(gateway.url, 'POST', `/api/submissions/${acceptedId}/review`, 'review_author', { regenerate: true });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal((await call(gateway.url, 'POST', `/api/submissions/${acceptedId}/review`, 'review_author', {})).status, 200);
  });

  it('answers clear 4xx for unknown submissions and bad bodies, and the service error as 502', async () => {
    const unknown = await call(gateway.url, 'POST', '/api/submissions/req_doesnotexist/review', 'review_author', {});
    assert.equal(unknown.status, 404);
    const bad = await call(gateway.url, 'POST', `/api/submissions/${acceptedId}/review`, 'review_author', {
      userId: 'someone_else',
      regenerate: 'yes',
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(
      (bad.body.errors as Array<{ field: string }>).map((e) => e.field),
      ['userId', 'regenerate'],
    );

    const otherId = await graded(gateway.url, 'review_502', 'accepted.js', 'javascript');
    chat.failWith = [500, 500, 500, 500];
    const failed = await call(gateway.url, 'POST', `/api/submissions/${otherId}/review`, 'review_502', {});
    assert.equal(failed.status, 502);
    assert.equal((await storedRows(otherId)).length, 0, 'nothing stored for a failed review');
    assert.ok(!JSON.stringify(failed.body).includes(API_KEY));
  });

  it('answers 503 naming the missing settings when review is not configured', async () => {
    const plain = await stack.gateway(E2E_GATEWAY_AUTH_ENV);
    const response = await call(plain.url, 'POST', `/api/submissions/${acceptedId}/review`, 'review_author', { regenerate: true });
    assert.equal(response.status, 503);
    assert.match(response.body.message as string, /REVIEW_BASE_URL/);
    // A stored review can still be read there.
    assert.equal((await call(plain.url, 'GET', `/api/submissions/${acceptedId}/review`, 'review_author')).status, 200);
  });

  it('refuses a generation once the global daily budget is spent (429 naming it), without calling the model', async () => {
    const broke = await stack.gateway({
      ...E2E_GATEWAY_AUTH_ENV,
      REVIEW_BASE_URL: chat.baseUrl,
      REVIEW_MODEL: 'review-model-1',
      REVIEW_API_KEY: API_KEY,
      REVIEW_DAILY_BUDGET: '0',
    });
    const before = chat.requests.length;
    const refused = await call(broke.url, 'POST', `/api/submissions/${acceptedId}/review`, 'review_author', { regenerate: true });
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('x-budget'), 'daily');
    assert.match(refused.body.message as string, /daily code review budget/);
    assert.equal(chat.requests.length, before);
  });
});
