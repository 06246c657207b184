/**
 * The HTTP layer of the gateway with in-memory stand-ins for S3/broker/database (the real ones
 * are exercised end to end in tests/e2e/gateway.test.ts). Tokens are real HS256 JWTs verified by
 * the gateway's own authenticator (hmac mode), so every request takes the production path.
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { createAuthenticator, mintHs256Token } from '../../web/src/auth/authenticator';
import { parseAuthConfig } from '../../web/src/auth/config';
import type { GatewayEvent } from '../../web/src/eventCursor';
import { DeliveryCursor } from '../../web/src/eventCursor';
import type { GradingResult } from '../../web/src/progressItems';
import type { DevLogin, HealthReport, ProblemSource, SubmissionService, SubmissionView } from '../../web/src/ports';
import { Gateway, GatewayOptions } from '../../web/src/server';
import { devLoginFrom } from '../../web/src/wiring';
import { decodeEventId } from '../../web/src/sse';
import { hashTicket, newTicket, StreamTicketStore } from '../../web/src/streamTickets';
import { encodeCursor, SubmissionIndex, SubmissionPage, SubmissionRecord } from '../../web/src/submissionIndex';
import type { SubmissionInput } from '../../web/src/validation';

const RESULT: GradingResult = {
  requestId: 'req_done',
  status: 'completed',
  result: {
    verdict: 'AC',
    score: 100,
    executionTime: 12,
    memoryUsage: 3,
    testResults: [1, 2, 3].map((n) => ({ case: n, status: 'AC' as const, time: 4 * n, memory: 3 })),
  },
  timestamp: '2026-01-01T00:00:00Z',
};

class FakeSubmissions implements SubmissionService {
  readonly submitted: Array<SubmissionInput & { requestId: string }> = [];
  failNext = false;
  async submit(input: SubmissionInput & { requestId: string }) {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('broker down');
    }
    this.submitted.push(input);
    return { requestId: input.requestId, status: 'submitted' as const };
  }
  async lookup(requestId: string): Promise<SubmissionView | undefined> {
    if (requestId === 'req_done') return RESULT;
    const s = this.submitted.find((x) => x.requestId === requestId);
    return s && { requestId, status: 'pending', userId: s.userId, problemId: s.problemId, language: s.language, submittedAt: 'now' };
  }
  async *events(requestId: string, opts: { lastEventId?: string }): AsyncIterable<GatewayEvent> {
    // The stored result through the real cursor: what a late connection gets.
    yield* new DeliveryCursor(decodeEventId(opts.lastEventId)).take({ kind: 'final', requestId, result: { ...RESULT, requestId } });
  }
}

/** The submissions table in memory; req_done belongs to u1. */
class MemoryIndex implements SubmissionIndex {
  readonly rows: SubmissionRecord[] = [
    { requestId: 'req_done', userId: 'u1', problemId: 'sum', language: 'python', priority: false, createdAt: '2026-01-01T00:00:00.000Z' },
  ];
  async record(r: SubmissionRecord) {
    this.rows.push(r);
  }
  async forget(requestId: string) {
    this.rows.splice(
      this.rows.findIndex((r) => r.requestId === requestId),
      1,
    );
  }
  async owner(requestId: string) {
    return this.rows.find((r) => r.requestId === requestId)?.userId;
  }
  async list(userId: string, page: { limit: number; cursor?: string }): Promise<SubmissionPage> {
    const mine = this.rows.filter((r) => r.userId === userId).reverse();
    const start = page.cursor ? mine.findIndex((r) => encodeCursor(r.createdAt, r.requestId) === page.cursor) + 1 : 0;
    const slice = mine.slice(start, start + page.limit);
    const last = slice[slice.length - 1];
    return {
      submissions: slice.map((r) => ({
        requestId: r.requestId,
        problemId: r.problemId,
        language: r.language,
        createdAt: r.createdAt,
        status: 'pending' as const,
      })),
      ...(start + page.limit < mine.length ? { nextCursor: encodeCursor(last.createdAt, last.requestId) } : {}),
    };
  }
}

/** Stream tickets in memory, with an injected clock; the MySQL store is tested in tests/integration/dbGrants.test.ts. */
class MemoryTickets implements StreamTicketStore {
  readonly issued = new Map<string, { userId: string; requestId: string; expiresAt: number }>();
  now = Date.now();
  async issue(userId: string, requestId: string, ttlSeconds: number) {
    const { ticket, hash } = newTicket();
    this.issued.set(hash, { userId, requestId, expiresAt: this.now + ttlSeconds * 1000 });
    return ticket;
  }
  async redeem(ticket: string, requestId: string) {
    const entry = this.issued.get(hashTicket(ticket));
    return entry && entry.requestId === requestId && entry.expiresAt > this.now ? entry.userId : undefined;
  }
}

const SECRET = 'unit-test-secret-that-is-at-least-32-bytes';
const authConfig = parseAuthConfig(
  { AUTH_MODE: 'hmac', AUTH_HMAC_SECRET: SECRET, AUTH_ISSUER: 'https://site.example', AUTH_AUDIENCE: 'grading' },
  [],
);
const tokenFor = (sub: string, roles: string[] = []) =>
  mintHs256Token(SECRET, { sub, roles, issuer: 'https://site.example', audience: 'grading' });

const problems: ProblemSource = {
  list: async () => [{ id: 'sum', title: 'Sum' }],
  get: async (id) =>
    id === 'sum' ? { id, title: 'Sum', description: '# Sum', timeLimit: 1000, memoryLimit: 64, testCaseCount: 3 } : undefined,
  exists: async (id) => id === 'sum',
};

describe('web gateway HTTP layer', () => {
  let gateway: Gateway;
  let base: string;
  let submissions: FakeSubmissions;
  let index: MemoryIndex;
  let tickets: MemoryTickets;
  let health: HealthReport;
  let tokens: Record<string, string>;

  before(async () => {
    tokens = {
      u1: await tokenFor('u1'),
      u2: await tokenFor('u2'),
      u9: await tokenFor('u9'),
      staff: await tokenFor('teacher', ['staff']),
      prio: await tokenFor('vip', ['priority']),
    };
  });

  async function start(opts: GatewayOptions = {}, devLogin?: DevLogin) {
    submissions = new FakeSubmissions();
    index = new MemoryIndex();
    tickets = new MemoryTickets();
    health = { ok: true, checks: { broker: 'connected', database: 'ok' } };
    gateway = new Gateway(
      { submissions, problems, health: async () => health, auth: createAuthenticator(authConfig), index, tickets, devLogin },
      { maxSourceBytes: 1000, ...opts },
    );
    await gateway.listen(0);
    base = gateway.url;
  }
  /** GET as a user (u1 by default). */
  const get = (route: string, as = 'u1', headers: Record<string, string> = {}) =>
    fetch(`${base}${route}`, { headers: { authorization: `Bearer ${tokens[as]}`, ...headers } });

  afterEach(async () => {
    await gateway?.close();
  });

  const good = { problemId: 'sum', language: 'python', sourceCode: 'print(1)' };
  const post = (body: unknown, headers: Record<string, string> = {}, as = 'u1') =>
    fetch(`${base}/api/submissions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[as]}`, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('accepts a submission with 202, a req_ id and a Location', async () => {
    await start();
    const res = await post(good);
    assert.equal(res.status, 202);
    const body = await res.json();
    assert.match(body.requestId, /^req_[0-9a-f]{32}$/);
    assert.equal(body.status, 'submitted');
    assert.equal(res.headers.get('location'), `/api/submissions/${body.requestId}`);
    assert.deepEqual(submissions.submitted, [{ ...good, userId: 'u1', requestId: body.requestId }]);
    const view = await (await get(`/api/submissions/${body.requestId}`)).json();
    assert.equal(view.status, 'pending');
    assert.equal(view.userId, 'u1');
  });

  it('answers bad input with 4xx JSON naming the field', async () => {
    await start();
    const cases: Array<[Response, number, string, string[]?]> = [
      [await post({ ...good, language: 'cobol' }), 400, 'invalid_submission', ['language']],
      [await post({ ...good, problemId: 'nope' }), 400, 'invalid_submission', ['problemId']],
      [await post({}), 400, 'invalid_submission', ['problemId', 'language', 'sourceCode']],
      [await post({ ...good, userId: 'u2' }), 400, 'invalid_submission', ['userId']],
      [await post({ ...good, sourceCode: 'x'.repeat(1001) }), 400, 'invalid_submission', ['sourceCode']],
      [await post({ ...good, sourceCode: 'x'.repeat(7000) }), 413, 'payload_too_large', ['sourceCode']],
      [await post('{"problemId":'), 400, 'invalid_json'],
      [await post(good, { 'content-type': 'text/plain' }), 415, 'unsupported_media_type'],
    ];
    for (const [res, status, code, fields] of cases) {
      assert.equal(res.status, status, code);
      const body = await res.json();
      assert.equal(body.error, code);
      assert.equal(typeof body.message, 'string');
      if (fields)
        assert.deepEqual(
          body.errors.map((e: { field: string }) => e.field),
          fields,
        );
    }
    assert.equal(submissions.submitted.length, 0);
  });

  it('gives a duplicate within the window the same request id and grades it once', async () => {
    await start();
    const first = await (await post(good)).json();
    const second = await (await post(good)).json();
    assert.equal(second.requestId, first.requestId);
    assert.equal(second.duplicate, true);
    const other = await (await post({ ...good, sourceCode: 'print(2)' })).json();
    assert.notEqual(other.requestId, first.requestId);
    assert.equal(submissions.submitted.length, 2);
  });

  it('rate-limits per user with 429 and Retry-After, leaving other users alone', async () => {
    await start({ userRateLimit: { capacity: 2, refillPerSecond: 0.01 } });
    assert.equal((await post({ ...good, sourceCode: 'a' })).status, 202);
    assert.equal((await post({ ...good, sourceCode: 'b' })).status, 202);
    const limited = await post({ ...good, sourceCode: 'c' });
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '100');
    const limitedBody = await limited.json();
    assert.equal(limitedBody.error, 'rate_limited');
    assert.match(limitedBody.message, /your account/);
    assert.equal((await post({ ...good, sourceCode: 'c' }, {}, 'u2')).status, 202);
    // A refused submission is not remembered as a duplicate.
    assert.equal((await post({ ...good, sourceCode: 'c' })).status, 429);
  });

  it('rate-limits per client address, using the proxy-appended address when trusted', async () => {
    await start({ ipRateLimit: { capacity: 1, refillPerSecond: 0.01 }, trustProxy: true });
    assert.equal((await post(good, { 'x-forwarded-for': 'forged, 10.0.0.1' })).status, 202);
    assert.equal((await post(good, { 'x-forwarded-for': 'other, 10.0.0.1' }, 'u9')).status, 429);
    assert.equal((await post(good, { 'x-forwarded-for': '10.0.0.2' }, 'u9')).status, 202);
  });

  it('answers 503 when the submission cannot be queued, and lets the user retry at once', async () => {
    await start();
    submissions.failNext = true;
    const res = await post(good);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '5');
    assert.equal((await post(good)).status, 202);
    assert.equal(submissions.submitted.length, 1);
  });

  it('drops a connection whose body does not arrive in time', async () => {
    await start({ bodyTimeoutMs: 100 });
    const closed = await new Promise<string>((resolve) => {
      const req = http.request(`${base}/api/submissions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': '100', authorization: `Bearer ${tokens.u1}` },
      });
      req.on('error', (error) => resolve(error.message));
      req.on('response', (res) => resolve(`answered ${res.statusCode}`));
      req.write('{"problemId":'); // and nothing more
    });
    assert.match(closed, /socket hang up|ECONNRESET/);
    assert.equal(submissions.submitted.length, 0);
  });

  it('returns 404 for unknown submissions and 400 for malformed ids', async () => {
    await start();
    assert.equal((await get('/api/submissions/req_unknown')).status, 404);
    assert.equal((await get('/api/submissions/req_unknown/events')).status, 404);
    assert.equal((await get('/api/submissions/../../etc')).status, 404);
    const bad = await get('/api/submissions/not-an-id');
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error, 'invalid_request_id');
    // Malformed percent-encoding is the client's error, not an outage.
    for (const route of ['/api/submissions/%E0%A4%A', '/api/submissions/%zz/events', '/api/problems/%E0%A4%A']) {
      const res = await get(route);
      assert.equal(res.status, 400, route);
      assert.equal((await res.json()).error, 'invalid_path');
    }
  });

  it('streams SSE: case events with resumable ids, then final; a final Last-Event-ID gets 204', async () => {
    await start();
    const auth = { authorization: `Bearer ${tokens.u1}` };
    const { status, headers, text } = await rawGet(`${base}/api/submissions/req_done/events`, auth);
    assert.equal(status, 200);
    assert.match(String(headers['content-type']), /^text\/event-stream/);
    const events = parseSse(text);
    assert.deepEqual(
      events.map((e) => e.event),
      ['case', 'case', 'case', 'final'],
    );
    assert.deepEqual(JSON.parse(events[1].data), { requestId: 'req_done', case: 2, status: 'AC', time: 8, memory: 3, totalCases: 3 });
    assert.deepEqual(JSON.parse(events[3].data), RESULT);
    assert.equal(events[3].id, 'final');

    const resumed = parseSse((await rawGet(`${base}/api/submissions/req_done/events`, { ...auth, 'last-event-id': events[1].id! })).text);
    assert.deepEqual(
      resumed.map((e) => e.event + (e.event === 'case' ? JSON.parse(e.data).case : '')),
      ['case3', 'final'],
    );

    const done = await rawGet(`${base}/api/submissions/req_done/events`, { ...auth, 'last-event-id': 'final' });
    assert.equal(done.status, 204);
  });

  it('serves problems, languages and the page with a strict CSP', async () => {
    await start();
    assert.deepEqual(await (await get('/api/problems')).json(), { problems: [{ id: 'sum', title: 'Sum' }] });
    assert.equal((await (await get('/api/problems/sum')).json()).testCaseCount, 3);
    assert.equal((await get('/api/problems/none')).status, 404);
    const languages = await (await get('/api/languages')).json();
    assert.ok(languages.languages.some((l: { id: string }) => l.id === 'python'));
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy')!, /default-src 'self'/);
    assert.match(await page.text(), /<textarea id="source-code"/);
    assert.equal((await fetch(`${base}/js/app.js`)).status, 200);
    assert.equal((await fetch(`${base}/nothing.html`)).status, 404);
    assert.equal((await get('/api/nothing')).status, 404);
  });

  it('refuses /api/ calls without a valid bearer token with 401 and a WWW-Authenticate challenge', async () => {
    await start();
    const missing = await fetch(`${base}/api/problems`);
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="grading"');
    assert.equal((await missing.json()).error, 'missing_token');
    const wrongSecret = await mintHs256Token('another-secret-that-is-at-least-32-bytes!', {
      sub: 'u1',
      issuer: 'https://site.example',
      audience: 'grading',
    });
    for (const authorization of [`Bearer ${wrongSecret}`, 'Bearer not.a.jwt', 'Basic dTE6cHc=', `Bearer ${tokens.u1}x`]) {
      const res = await fetch(`${base}/api/submissions`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify(good),
      });
      assert.equal(res.status, 401, authorization);
      assert.match(res.headers.get('www-authenticate')!, /error="invalid_token"/);
    }
    assert.equal(submissions.submitted.length, 0);
    // The page and health stay public.
    assert.equal((await fetch(`${base}/`)).status, 200);
    assert.equal((await fetch(`${base}/health`)).status, 200);
    // Who am I, from the token.
    assert.deepEqual(await (await get('/api/me', 'staff')).json(), {
      userId: 'teacher',
      roles: ['staff'],
      staff: true,
      mayPrioritize: true,
    });
  });

  it('opens an event stream with a short-lived ticket bound to one submission, never with a token in the URL', async () => {
    await start();
    const ticketFor = (as: string) =>
      fetch(`${base}/api/submissions/req_done/stream-ticket`, { method: 'POST', headers: { authorization: `Bearer ${tokens[as]}` } });
    assert.equal((await ticketFor('u2')).status, 404, 'only the author (or staff) gets a ticket');
    const issued = await ticketFor('u1');
    assert.equal(issued.status, 201);
    const { ticket, expiresIn, eventsUrl } = await issued.json();
    assert.equal(expiresIn, 300);
    assert.equal(eventsUrl, `/api/submissions/req_done/events?ticket=${ticket}`);
    const stream = await rawGet(`${base}${eventsUrl}`);
    assert.equal(stream.status, 200);
    assert.equal(parseSse(stream.text).pop()?.event, 'final');
    // Bound to its submission, refused once expired, useless on any other route.
    index.rows.push({
      requestId: 'req_other',
      userId: 'u1',
      problemId: 'sum',
      language: 'python',
      priority: false,
      createdAt: '2026-01-02T00:00:00.000Z',
    });
    assert.equal((await rawGet(`${base}/api/submissions/req_other/events?ticket=${ticket}`)).status, 401);
    assert.equal((await fetch(`${base}/api/submissions/req_done?ticket=${ticket}`)).status, 401);
    assert.equal((await rawGet(`${base}/api/submissions/req_done/events?ticket=forged`)).status, 401);
    tickets.now += 301_000;
    assert.equal((await rawGet(`${base}${eventsUrl}`)).status, 401);
    // A bearer token in the query is not accepted anywhere (it would end up in access logs).
    assert.equal((await rawGet(`${base}/api/submissions/req_done/events?access_token=${tokens.u1}`)).status, 401);
  });

  it('shows a submission, its events and its review to its author and staff only (404 to anyone else)', async () => {
    await start();
    const routes = ['/api/submissions/req_done', '/api/submissions/req_done/events', '/api/submissions/req_done/review'];
    assert.equal(
      (await fetch(`${base}/api/submissions/req_done/stream-ticket`, { method: 'POST', headers: { authorization: `Bearer ${tokens.u2}` } }))
        .status,
      404,
    );
    for (const route of routes) {
      const other = await get(route, 'u2');
      assert.equal(other.status, 404, route);
      assert.deepEqual(await other.json(), { error: 'not_found', message: 'no submission req_done' });
      // The author and staff get past the owner check (the review route then says review is off).
      assert.notEqual((await get(route, 'u1')).status, 404, route);
      assert.notEqual((await get(route, 'staff')).status, 404, route);
    }
    const review = (as: string) =>
      fetch(`${base}/api/submissions/req_done/review`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[as]}` },
        body: '{}',
      });
    assert.equal((await review('u2')).status, 404);
    assert.equal((await review('u1')).status, 503);
    // A known id is as invisible as an unknown one.
    assert.equal((await get('/api/submissions/req_unknown', 'u2')).status, 404);
  });

  it("lists the caller's own submissions, newest first, paged by cursor", async () => {
    await start();
    const ids: string[] = [];
    for (const code of ['a', 'b', 'c']) ids.push((await (await post({ ...good, sourceCode: code })).json()).requestId);
    await post({ ...good, sourceCode: 'other' }, {}, 'u2');
    const first = await (await get('/api/submissions?mine&limit=2')).json();
    assert.deepEqual(
      first.submissions.map((s: { requestId: string }) => s.requestId),
      [ids[2], ids[1]],
    );
    const second = await (await get(`/api/submissions?mine&limit=2&cursor=${first.nextCursor}`)).json();
    assert.deepEqual(
      second.submissions.map((s: { requestId: string }) => s.requestId),
      [ids[0], 'req_done'],
    );
    assert.equal(second.nextCursor, undefined);
    const theirs = await (await get('/api/submissions?mine', 'u2')).json();
    assert.equal(theirs.submissions.length, 1);
    assert.equal((await get('/api/submissions?mine&limit=0')).status, 400);
  });

  it('queues priority only for staff or priority roles (403 otherwise)', async () => {
    await start();
    const refused = await post({ ...good, priority: true });
    assert.equal(refused.status, 403);
    assert.deepEqual((await refused.json()).errors, [{ field: 'priority', message: 'needs a staff or priority role' }]);
    assert.equal((await post({ ...good, priority: true }, {}, 'staff')).status, 202);
    assert.equal((await post({ ...good, priority: true, sourceCode: 'p' }, {}, 'prio')).status, 202);
    assert.deepEqual(
      submissions.submitted.map((s) => [s.userId, s.priority]),
      [
        ['teacher', true],
        ['vip', true],
      ],
    );
  });

  it('mints dev-login tokens (local stack) that pass the same verification, and says so on /api/auth', async () => {
    await start();
    assert.deepEqual(await (await fetch(`${base}/api/auth`)).json(), { mode: 'hmac', devLogin: false, review: false });
    assert.equal((await fetch(`${base}/api/dev/login`, { method: 'POST' })).status, 401, 'no dev login unless configured');
    await gateway.close();
    await start({}, devLoginFrom({ ...authConfig, devLogin: true }));
    assert.deepEqual(await (await fetch(`${base}/api/auth`)).json(), { mode: 'hmac', devLogin: true, review: false });
    const login = (body: unknown) =>
      fetch(`${base}/api/dev/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const { token, expiresIn } = await (await login({ userId: 'dev_teacher', roles: ['staff'] })).json();
    assert.equal(expiresIn, 3600);
    const me = await (await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${token}` } })).json();
    assert.deepEqual(me, { userId: 'dev_teacher', roles: ['staff'], staff: true, mayPrioritize: true });
    const bad = await login({ userId: 'has space', roles: 'staff' });
    assert.equal(bad.status, 400);
    assert.deepEqual(
      (await bad.json()).errors.map((e: { field: string }) => e.field),
      ['userId', 'roles'],
    );
  });

  it('reports health as 200 or 503', async () => {
    await start();
    const ok = await fetch(`${base}/health`);
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).broker, 'connected');
    health = { ok: false, checks: { broker: 'disconnected', database: 'ok' } };
    assert.equal((await fetch(`${base}/health`)).status, 503);
  });

  it('allows configured CORS origins only', async () => {
    await start({ corsOrigins: ['https://app.example'] });
    const preflight = await fetch(`${base}/api/submissions`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.match(preflight.headers.get('access-control-allow-headers')!, /authorization/);
    const other = await fetch(`${base}/api/problems`, { headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });
});

function rawGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

function parseSse(text: string): Array<{ id?: string; event?: string; data: string }> {
  return text
    .split('\n\n')
    .map((block) => block.split('\n').filter((line) => line && !line.startsWith(':')))
    .filter((lines) => lines.some((l) => l.startsWith('data:')))
    .map((lines) => {
      const field = (name: string) => lines.filter((l) => l.startsWith(`${name}: `)).map((l) => l.slice(name.length + 2));
      return { id: field('id')[0], event: field('event')[0], data: field('data').join('\n') };
    });
}
