/**
 * The gateway end to end: HTTP in, the real broker, worker (sandbox), MariaDB and s3rver behind
 * it, Server-Sent Events out. Two gateway instances share the work as they would behind the ALB.
 * Every request carries a bearer token (hmac mode); the user is whoever the token names. The gateway
 * and the worker run as their own broker and database users, with the grants the migration gives them.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ParsedSseEvent } from '../../web/src/sse';
import { readEventStream } from '../../web/src/sseClient';
import type { RunningGateway } from '../../web/src/wiring';
import { bearer, E2E_GATEWAY_AUTH_ENV } from '../helpers/gatewayAuth';
import { E2E_BROKER_USERS, migrateForTiers } from '../helpers/tierUsers';
import { E2eStack, startE2eStack } from './stack';

const SOLUTIONS = path.join(__dirname, '../../examples/solutions');
const source = (file: string) => fs.readFileSync(path.join(SOLUTIONS, file), 'utf8');

/** POST /api/submissions as `user` (a token naming them). */
async function post(
  base: string,
  body: unknown,
  user = 'e2e_user',
  roles: string[] = [],
): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
  const response = await fetch(`${base}/api/submissions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await bearer(user, roles)) },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
}

async function get(base: string, route: string, user = 'e2e_user', roles: string[] = []): Promise<Response> {
  return fetch(`${base}${route}`, { headers: await bearer(user, roles) });
}

/** Reads the stream until it ends (or `stopAfter` events, then disconnects). Bounded by `timeoutMs`. */
async function collect(
  base: string,
  requestId: string,
  opts: { lastEventId?: string; stopAfter?: number; timeoutMs?: number; user?: string } = {},
): Promise<ParsedSseEvent[]> {
  const events: ParsedSseEvent[] = [];
  const signal = AbortSignal.timeout(opts.timeoutMs ?? 60_000);
  const headers = await bearer(opts.user ?? 'e2e_user');
  for await (const event of readEventStream(`${base}/api/submissions/${requestId}/events`, {
    lastEventId: opts.lastEventId,
    signal,
    headers,
  })) {
    events.push(event);
    if (events.length === opts.stopAfter) break;
  }
  return events;
}

const caseNumbers = (events: ParsedSseEvent[]) => events.filter((e) => e.event === 'case').map((e) => JSON.parse(e.data).case as number);

describe('gateway end to end (HTTP and SSE through broker, worker, database, S3)', function () {
  this.timeout(120_000);
  let stack: E2eStack;
  let a: RunningGateway;
  let b: RunningGateway;
  let acceptedId: string;
  let gatewayEnv: Record<string, string>;

  before(async function () {
    this.timeout(240_000);
    let tierEnv: Record<string, string> = {};
    stack = await startE2eStack('gateway-e2e', {
      brokerUsers: E2E_BROKER_USERS,
      prepare: async ({ db }) => {
        const users = await migrateForTiers(db);
        tierEnv = users.gateway;
        return users.worker;
      },
    });
    // The tables come from the migration: the gateway's user could not create them anyway.
    gatewayEnv = { ...E2E_GATEWAY_AUTH_ENV, ...tierEnv };
    [a, b] = await Promise.all([stack.gateway(gatewayEnv), stack.gateway(gatewayEnv)]);
  });

  after(async function () {
    this.timeout(90_000);
    await stack?.stop();
  });

  it('lists the seeded problems and reports health', async () => {
    const { problems } = await (await get(a.url, '/api/problems')).json();
    assert.deepEqual(
      problems.map((p: { id: string }) => p.id),
      ['any-pair', 'circle-area', 'guess-number', 'max-subarray', 'slow-python', 'sum', 'triangle-sum'],
    );
    assert.equal(problems.find((p: { id: string }) => p.id === 'sum').title, 'A + B');
    const sum = await (await get(a.url, '/api/problems/sum')).json();
    assert.equal(sum.testCaseCount, 4);
    assert.match(sum.description, /^# A \+ B/);
    const health = await fetch(`${a.url}/health`);
    assert.equal(health.status, 200);
    const { workers, ...checks } = await health.json();
    assert.deepEqual(checks, { status: 'ok', broker: 'connected', database: 'ok', streams: 0 });
    assert.ok(['ok', 'unknown'].includes(workers.status), JSON.stringify(workers));
    // Each tier is connected to the database as its own user (root's view of every session).
    const sessions = execFileSync(
      '/usr/bin/mariadb',
      ['--no-defaults', `--socket=${stack.db.socket}`, '-uroot', '-N', '-e', 'SELECT DISTINCT USER FROM information_schema.PROCESSLIST'],
      { encoding: 'utf8' },
    );
    assert.ok(sessions.split('\n').includes('e2e_gateway') && sessions.split('\n').includes('e2e_worker'), sessions);
  });

  it('grades an accepted submission: one case event per test case, then final; any instance can stream it', async () => {
    const submitted = await post(a.url, { problemId: 'sum', language: 'python', sourceCode: source('sum/accepted.py') });
    assert.equal(submitted.status, 202);
    acceptedId = submitted.body.requestId as string;
    assert.match(acceptedId, /^req_[0-9a-f]{32}$/);

    // Streamed from the other instance: progress comes from the topic every instance follows.
    const events = await collect(b.url, acceptedId);
    assert.deepEqual(
      events.map((e) => e.event),
      ['case', 'case', 'case', 'case', 'final'],
    );
    assert.deepEqual([...caseNumbers(events)].sort(), [1, 2, 3, 4]);
    for (const e of events.slice(0, 4)) {
      const data = JSON.parse(e.data);
      assert.equal(data.requestId, acceptedId);
      assert.equal(data.status, 'AC');
      assert.equal(data.totalCases, 4);
      assert.equal(typeof data.time, 'number');
    }
    const final = JSON.parse(events[4].data);
    assert.equal(events[4].id, 'final');
    assert.equal(final.status, 'completed');
    assert.equal(final.result.verdict, 'AC');
    assert.equal(final.result.score, 100);

    const stored = await (await get(a.url, `/api/submissions/${acceptedId}`)).json();
    assert.deepEqual(stored, final);
    // Both instances heard every event live on the topic (not only from the database).
    for (const instance of [a, b])
      assert.deepEqual(
        instance.client.hub.snapshot(acceptedId).map((i) => i.kind),
        ['case', 'case', 'case', 'case', 'final'],
      );
  });

  it('a wrong answer: a client that reconnects with Last-Event-ID gets exactly the rest, from another instance', async () => {
    const submitted = await post(a.url, { problemId: 'sum', language: 'python', sourceCode: source('sum/wrong-answer.py') });
    assert.equal(submitted.status, 202);
    const requestId = submitted.body.requestId as string;

    const first = await collect(a.url, requestId, { stopAfter: 1 });
    assert.equal(first[0].event, 'case');
    const rest = await collect(b.url, requestId, { lastEventId: first[0].id });
    const all = [...first, ...rest];
    assert.deepEqual([...caseNumbers(all)].sort(), [1, 2, 3, 4], 'every case exactly once');
    assert.equal(all.at(-1)!.event, 'final');
    assert.equal(JSON.parse(all.at(-1)!.data).result.verdict, 'WA');
  });

  it('a connection opened after grading finished (on a fresh instance) still gets every case, then final', async () => {
    const fresh = await stack.gateway(gatewayEnv); // empty progress buffer: everything comes from the database
    const events = await collect(fresh.url, acceptedId);
    assert.deepEqual(
      events.map((e) => `${e.event}${e.event === 'case' ? JSON.parse(e.data).case : ''}`),
      ['case1', 'case2', 'case3', 'case4', 'final'],
    );
    assert.equal(JSON.parse(events[4].data).result.verdict, 'AC');

    const resumed = await collect(fresh.url, acceptedId, { lastEventId: events[1].id });
    assert.deepEqual(
      resumed.map((e) => e.event),
      ['case', 'case', 'final'],
    );
    const done = await fetch(`${fresh.url}/api/submissions/${acceptedId}/events`, {
      headers: { 'last-event-id': 'final', ...(await bearer('e2e_user')) },
    });
    assert.equal(done.status, 204, 'a client that has the final event is told to stop');
  });

  it('queues priority submissions on grading-priority for staff only, and reports pending until graded', async () => {
    const body = { problemId: 'circle-area', language: 'cpp', sourceCode: source('circle-area/accepted.cpp'), priority: true };
    const refused = await post(b.url, body, 'e2e_student');
    assert.equal(refused.status, 403, 'a student cannot jump the queue');
    const submitted = await post(b.url, body, 'e2e_teacher', ['staff']);
    assert.equal(submitted.status, 202);
    const requestId = submitted.body.requestId as string;
    const early = await (await get(b.url, `/api/submissions/${requestId}`, 'e2e_teacher', ['staff'])).json();
    if (early.status === 'pending')
      assert.deepEqual([early.userId, early.problemId, early.language], ['e2e_teacher', 'circle-area', 'cpp']);
    else assert.equal(early.status, 'completed'); // a fast worker may already be done
    const events = await collect(a.url, requestId, { user: 'e2e_teacher' });
    assert.equal(JSON.parse(events.at(-1)!.data).result.verdict, 'AC');
  });

  it('answers invalid submissions with 4xx errors naming the field', async () => {
    const good = { problemId: 'sum', language: 'python', sourceCode: 'print(1)' };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...good, problemId: 'no-such-problem' }, 'problemId'],
      [{ ...good, language: 'brainfuck' }, 'language'],
      [{ ...good, sourceCode: 'x'.repeat(64 * 1024 + 1) }, 'sourceCode'],
      [{ ...good, userId: 'someone_else' }, 'userId'],
    ];
    for (const [body, field] of cases) {
      const res = await post(a.url, body);
      assert.equal(res.status, 400, field);
      assert.equal(res.body.error, 'invalid_submission');
      assert.deepEqual(
        (res.body.errors as Array<{ field: string }>).map((e) => e.field),
        [field],
      );
    }
    const notJson = await fetch(`${a.url}/api/submissions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await bearer('e2e_user')) },
      body: '{',
    });
    assert.equal(notJson.status, 400);
    assert.equal((await get(a.url, '/api/submissions/req_doesnotexist')).status, 404);
    assert.equal((await get(a.url, '/api/submissions/%E0%A4%A')).status, 400, "malformed percent-encoding is the client's error");
  });

  it('rate-limits a user (429 with Retry-After) and debounces a double submit to one request', async () => {
    const limited = await stack.gateway({ ...gatewayEnv, RATE_LIMIT_BURST: '2', RATE_LIMIT_PER_MINUTE: '1' });
    const submission = (n: number) => ({ problemId: 'sum', language: 'python', sourceCode: `print(${n})\n` });
    const first = await post(limited.url, submission(1), 'e2e_busy');
    const again = await post(limited.url, submission(1), 'e2e_busy');
    assert.equal(first.status, 202);
    assert.equal(again.status, 202);
    assert.equal(again.body.requestId, first.body.requestId, 'same user, problem, language and source within the window');
    assert.equal(again.body.duplicate, true);
    assert.equal((await post(limited.url, submission(2), 'e2e_busy')).status, 202);
    const refused = await post(limited.url, submission(3), 'e2e_busy');
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error, 'rate_limited');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.equal((await post(limited.url, submission(3), 'e2e_other')).status, 202, 'other users are not limited');
  });

  it("refuses anonymous callers, hides one user's submission from another (404) and lists each caller's own", async () => {
    // The red-team steps of the issue: no token, a forged userId, someone else's request id.
    assert.equal((await fetch(`${a.url}/api/submissions/${acceptedId}`)).status, 401);
    assert.equal((await fetch(`${a.url}/api/submissions/${acceptedId}/events`)).status, 401);
    const anonymous = await fetch(`${a.url}/api/submissions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ problemId: 'sum', language: 'python', sourceCode: 'print(1)' }),
    });
    assert.equal(anonymous.status, 401);
    for (const route of [
      `/api/submissions/${acceptedId}`,
      `/api/submissions/${acceptedId}/events`,
      `/api/submissions/${acceptedId}/review`,
    ]) {
      assert.equal((await get(b.url, route, 'e2e_intruder')).status, 404, route);
    }
    assert.equal((await get(b.url, `/api/submissions/${acceptedId}`, 'e2e_teacher', ['staff'])).status, 200, 'staff see every submission');
    // GET /api/submissions?mine: the caller's own, newest first, from MySQL, paged.
    const page1 = await (await get(a.url, '/api/submissions?mine&limit=1')).json();
    assert.equal(page1.submissions.length, 1);
    const page2 = await (await get(a.url, `/api/submissions?mine&limit=10&cursor=${page1.nextCursor}`)).json();
    const mine = [...page1.submissions, ...page2.submissions].map((x: { requestId: string }) => x.requestId);
    assert.ok(mine.includes(acceptedId), 'the accepted submission is listed for its author');
    const listed = [...page1.submissions, ...page2.submissions].find((x: { requestId: string }) => x.requestId === acceptedId);
    assert.deepEqual([listed.status, listed.verdict, listed.problemId], ['completed', 'AC', 'sum']);
    const theirs = await (await get(a.url, '/api/submissions?mine', 'e2e_intruder')).json();
    assert.deepEqual(theirs.submissions, []);
  });
});
