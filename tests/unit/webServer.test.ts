/**
 * The HTTP layer of the gateway with in-memory stand-ins for S3/broker/database (the real ones
 * are exercised end to end in tests/e2e/gateway.test.ts).
 */
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { GatewayEvent } from '../../web/src/eventCursor';
import { DeliveryCursor } from '../../web/src/eventCursor';
import type { GradingResult } from '../../web/src/progressItems';
import { Gateway, GatewayOptions, HealthReport, ProblemSource, SubmissionService, SubmissionView } from '../../web/src/server';
import { decodeEventId } from '../../web/src/sse';
import type { SubmissionInput } from '../../web/src/validation';

const RESULT: GradingResult = {
  requestId: 'req_done',
  status: 'completed',
  result: { verdict: 'AC', score: 100, executionTime: 12, memoryUsage: 3, testResults: [1, 2, 3].map((n) => ({ case: n, status: 'AC' as const, time: 4 * n, memory: 3 })) },
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

const problems: ProblemSource = {
  list: async () => [{ id: 'sum', title: 'Sum' }],
  get: async (id) => (id === 'sum' ? { id, title: 'Sum', description: '# Sum', timeLimit: 1000, memoryLimit: 64, testCaseCount: 3 } : undefined),
  exists: async (id) => id === 'sum',
};

describe('web gateway HTTP layer', () => {
  let gateway: Gateway;
  let base: string;
  let submissions: FakeSubmissions;
  let health: HealthReport;

  async function start(opts: GatewayOptions = {}) {
    submissions = new FakeSubmissions();
    health = { ok: true, checks: { broker: 'connected', database: 'ok' } };
    gateway = new Gateway({ submissions, problems, health: async () => health }, { maxSourceBytes: 1000, ...opts });
    await gateway.listen(0);
    base = gateway.url;
  }

  afterEach(async () => {
    await gateway?.close();
  });

  const good = { userId: 'u1', problemId: 'sum', language: 'python', sourceCode: 'print(1)' };
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/api/submissions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  it('accepts a submission with 202, a req_ id and a Location', async () => {
    await start();
    const res = await post(good);
    assert.equal(res.status, 202);
    const body = await res.json();
    assert.match(body.requestId, /^req_[0-9a-f]{32}$/);
    assert.equal(body.status, 'submitted');
    assert.equal(res.headers.get('location'), `/api/submissions/${body.requestId}`);
    assert.deepEqual(submissions.submitted, [{ ...good, requestId: body.requestId }]);
    const view = await (await fetch(`${base}/api/submissions/${body.requestId}`)).json();
    assert.equal(view.status, 'pending');
  });

  it('answers bad input with 4xx JSON naming the field', async () => {
    await start();
    const cases: Array<[Response, number, string, string[]?]> = [
      [await post({ ...good, language: 'cobol' }), 400, 'invalid_submission', ['language']],
      [await post({ ...good, problemId: 'nope' }), 400, 'invalid_submission', ['problemId']],
      [await post({ userId: 'u1' }), 400, 'invalid_submission', ['problemId', 'language', 'sourceCode']],
      [await post({ ...good, sourceCode: 'x'.repeat(1001) }), 400, 'invalid_submission', ['sourceCode']],
      [await post({ ...good, sourceCode: 'x'.repeat(7000) }), 413, 'payload_too_large', ['sourceCode']],
      [await post('{"userId":'), 400, 'invalid_json'],
      [await post(good, { 'content-type': 'text/plain' }), 415, 'unsupported_media_type'],
    ];
    for (const [res, status, code, fields] of cases) {
      assert.equal(res.status, status, code);
      const body = await res.json();
      assert.equal(body.error, code);
      assert.equal(typeof body.message, 'string');
      if (fields) assert.deepEqual(body.errors.map((e: { field: string }) => e.field), fields);
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
    assert.equal((await limited.json()).error, 'rate_limited');
    assert.equal((await post({ ...good, userId: 'u2', sourceCode: 'c' })).status, 202);
    // A refused submission is not remembered as a duplicate.
    assert.equal((await post({ ...good, sourceCode: 'c' })).status, 429);
  });

  it('rate-limits per client address, using the proxy-appended address when trusted', async () => {
    await start({ ipRateLimit: { capacity: 1, refillPerSecond: 0.01 }, trustProxy: true });
    assert.equal((await post(good, { 'x-forwarded-for': 'forged, 10.0.0.1' })).status, 202);
    assert.equal((await post({ ...good, userId: 'u9' }, { 'x-forwarded-for': 'other, 10.0.0.1' })).status, 429);
    assert.equal((await post({ ...good, userId: 'u9' }, { 'x-forwarded-for': '10.0.0.2' })).status, 202);
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
      const req = http.request(`${base}/api/submissions`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '100' } });
      req.on('error', (error) => resolve(error.message));
      req.on('response', (res) => resolve(`answered ${res.statusCode}`));
      req.write('{"userId":'); // and nothing more
    });
    assert.match(closed, /socket hang up|ECONNRESET/);
    assert.equal(submissions.submitted.length, 0);
  });

  it('returns 404 for unknown submissions and 400 for malformed ids', async () => {
    await start();
    assert.equal((await fetch(`${base}/api/submissions/req_unknown`)).status, 404);
    assert.equal((await fetch(`${base}/api/submissions/req_unknown/events`)).status, 404);
    assert.equal((await fetch(`${base}/api/submissions/../../etc`)).status, 404);
    const bad = await fetch(`${base}/api/submissions/not-an-id`);
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error, 'invalid_request_id');
  });

  it('streams SSE: case events with resumable ids, then final; a final Last-Event-ID gets 204', async () => {
    await start();
    const { status, headers, text } = await rawGet(`${base}/api/submissions/req_done/events`);
    assert.equal(status, 200);
    assert.match(String(headers['content-type']), /^text\/event-stream/);
    const events = parseSse(text);
    assert.deepEqual(events.map((e) => e.event), ['case', 'case', 'case', 'final']);
    assert.deepEqual(JSON.parse(events[1].data), { requestId: 'req_done', case: 2, status: 'AC', time: 8, memory: 3, totalCases: 3 });
    assert.deepEqual(JSON.parse(events[3].data), RESULT);
    assert.equal(events[3].id, 'final');

    const resumed = parseSse((await rawGet(`${base}/api/submissions/req_done/events`, { 'last-event-id': events[1].id! })).text);
    assert.deepEqual(resumed.map((e) => e.event + (e.event === 'case' ? JSON.parse(e.data).case : '')), ['case3', 'final']);

    const done = await rawGet(`${base}/api/submissions/req_done/events`, { 'last-event-id': 'final' });
    assert.equal(done.status, 204);
  });

  it('serves problems, languages and the page with a strict CSP', async () => {
    await start();
    assert.deepEqual(await (await fetch(`${base}/api/problems`)).json(), { problems: [{ id: 'sum', title: 'Sum' }] });
    assert.equal((await (await fetch(`${base}/api/problems/sum`)).json()).testCaseCount, 3);
    assert.equal((await fetch(`${base}/api/problems/none`)).status, 404);
    const languages = await (await fetch(`${base}/api/languages`)).json();
    assert.ok(languages.languages.some((l: { id: string }) => l.id === 'python'));
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy')!, /default-src 'self'/);
    assert.match(await page.text(), /<textarea id="source-code"/);
    assert.equal((await fetch(`${base}/js/app.js`)).status, 200);
    assert.equal((await fetch(`${base}/nothing.html`)).status, 404);
    assert.equal((await fetch(`${base}/api/nothing`)).status, 404);
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
    const preflight = await fetch(`${base}/api/submissions`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example');
    const other = await fetch(`${base}/api/problems`, { headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });
});

function rawGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
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
