/**
 * GradingClient's own logic with in-memory stand-ins for S3, the broker and the database: what it
 * uploads and sends, and how events() merges the topic, its buffer and the stored result.
 * (The same client against the real services: tests/e2e/gateway.test.ts.)
 */
import assert from 'node:assert/strict';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GradingClient, MessageBroker } from '../../web/src/client';
import type { GatewayEvent } from '../../web/src/eventCursor';
import { parseProgressMessage } from '../../web/src/progressItems';
import type { ProblemSource } from '../../web/src/ports';
import { GradingResult, validateGradingRequest } from '../../core/src/contracts';

class MemoryS3 {
  readonly objects = new Map<string, string>();
  async send(command: unknown) {
    if (command instanceof PutObjectCommand) {
      this.objects.set(command.input.Key!, String(command.input.Body));
      return {};
    }
    if (command instanceof GetObjectCommand) {
      const body = this.objects.get(command.input.Key!);
      if (body === undefined) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
      return { Body: { transformToString: async () => body } };
    }
    throw new Error('unexpected command');
  }
  destroy() {}
}

class MemoryBroker implements MessageBroker {
  readonly sent: Array<{ destination: string; body: string; headers: Record<string, string> }> = [];
  readonly handlers = new Map<string, (body: string, headers: Record<string, string>) => void>();
  connected = true;
  async send(destination: string, body: string, headers: Record<string, string>) {
    this.sent.push({ destination, body, headers });
  }
  subscribe(destination: string, onMessage: (body: string, headers: Record<string, string>) => void) {
    this.handlers.set(destination, onMessage);
    return { unsubscribe: () => this.handlers.delete(destination) };
  }
  publish(event: unknown) {
    this.handlers.get('/topic/grading-progress')!(JSON.stringify(event), {});
  }
  async close() {}
}

const problems: ProblemSource = {
  list: async () => [],
  get: async (id) =>
    id === 'sum' ? { id, title: 'A + B', description: '', timeLimit: 1500, memoryLimit: 128, testCaseCount: 3 } : undefined,
  exists: async (id) => id === 'sum',
};

const DESTINATIONS = { requests: '/queue/grading-requests', priority: '/queue/grading-priority', progress: '/topic/grading-progress' };

function resultFor(requestId: string): GradingResult {
  return {
    requestId,
    status: 'completed',
    result: {
      verdict: 'WA',
      score: 67,
      executionTime: 9,
      memoryUsage: 3,
      testResults: [1, 2, 3].map((n) => ({ case: n, status: n === 2 ? 'WA' : 'AC', time: n, memory: 3 })),
    },
    timestamp: '2026-01-01T00:00:00.000Z',
  };
}

describe('web GradingClient', () => {
  let s3: MemoryS3;
  let broker: MemoryBroker;
  let stored: Map<string, GradingResult>;
  let client: GradingClient;

  function build(catalog: ProblemSource = problems): GradingClient {
    return new GradingClient({
      s3: s3 as unknown as S3Client,
      bucket: 'local-grading-files',
      broker,
      results: { get: async (id) => stored.get(id) },
      problems: catalog,
      validateRequest: (r) => {
        const checked = validateGradingRequest(r);
        return checked.ok ? [] : checked.errors;
      },
      parseProgress: (body) => parseProgressMessage(body),
      destinations: DESTINATIONS,
      resultPollMs: 20,
      now: () => new Date('2026-01-01T12:00:00.000Z'),
    });
  }

  beforeEach(() => {
    s3 = new MemoryS3();
    broker = new MemoryBroker();
    stored = new Map();
    client = build();
  });

  const input = { userId: 'user_001', problemId: 'sum', language: 'python' as const, sourceCode: 'print(1)\n' };

  it('uploads the source and metadata, then sends the exact request persistently', async () => {
    const { requestId, status } = await client.submit(input);
    assert.equal(status, 'submitted');
    assert.match(requestId, /^req_[0-9a-f]{32}$/);
    assert.equal(s3.objects.get(`submissions/${requestId}/solution.py`), 'print(1)\n');
    const metadata = JSON.parse(s3.objects.get(`submissions/${requestId}/metadata.json`)!);
    assert.deepEqual(metadata, {
      requestId,
      userId: 'user_001',
      problemId: 'sum',
      language: 'python',
      priority: false,
      sourceBytes: 9,
      submittedAt: '2026-01-01T12:00:00.000Z',
    });
    assert.equal(broker.sent.length, 1);
    const [message] = broker.sent;
    assert.equal(message.destination, '/queue/grading-requests');
    assert.equal(message.headers.persistent, 'true');
    assert.equal(message.headers['correlation-id'], requestId);
    assert.deepEqual(JSON.parse(message.body), {
      requestId,
      userId: 'user_001',
      problemId: 'sum',
      language: 'python',
      sourceFile: `s3://local-grading-files/submissions/${requestId}/solution.py`,
      testCases: 's3://local-grading-files/problems/sum/testcases/',
      timeLimit: 1500,
      memoryLimit: 128,
      timestamp: '2026-01-01T12:00:00.000Z',
    });
  });

  it('queues priority submissions on grading-priority, under a given request id', async () => {
    await client.submit({ ...input, priority: true, requestId: 'req_mine' });
    assert.equal(broker.sent[0].destination, '/queue/grading-priority');
    assert.equal(JSON.parse(broker.sent[0].body).requestId, 'req_mine');
  });

  it('refuses bad input and unknown problems before storing or sending anything', async () => {
    await assert.rejects(client.submit({ ...input, problemId: 'nope' }), /unknown problem "nope"/);
    await assert.rejects(client.submit({ ...input, language: 'cobol' as 'python' }), /language must be one of/);
    await assert.rejects(client.submit({ ...input, requestId: 'not/an/id' }), /invalid requestId/);
    assert.equal(s3.objects.size, 0);
    assert.equal(broker.sent.length, 0);
  });

  it('refuses a request the worker would reject (contract check before sending)', async () => {
    // A problem whose limits are outside what the request schema allows.
    const strict = build({
      ...problems,
      get: async () => ({ id: 'sum', title: '', description: '', timeLimit: 50, memoryLimit: 128, testCaseCount: 3 }),
    });
    await assert.rejects(strict.submit(input), /does not match the contract: timeLimit/);
    assert.equal(broker.sent.length, 0);
  });

  it('status: unknown, pending (metadata only), then the stored result', async () => {
    assert.equal(await client.status('req_unknown'), undefined);
    const { requestId } = await client.submit(input);
    assert.deepEqual(await client.status(requestId), {
      requestId,
      status: 'pending',
      userId: 'user_001',
      problemId: 'sum',
      language: 'python',
      submittedAt: '2026-01-01T12:00:00.000Z',
    });
    stored.set(requestId, resultFor(requestId));
    assert.deepEqual(await client.status(requestId), resultFor(requestId));
  });

  const summary = (events: GatewayEvent[]) =>
    events.map((e) => (e.type === 'case' ? `${e.testResult.case}:${e.testResult.status}` : `final:${e.result.result?.verdict}`));

  it('events: live cases from the topic, then the final event ends the iterator', async () => {
    const R = 'req_live';
    const seen: GatewayEvent[] = [];
    const done = (async () => {
      for await (const event of client.events(R)) seen.push(event);
    })();
    await new Promise((r) => setImmediate(r));
    broker.publish({ type: 'case', requestId: R, case: 2, total: 3, status: 'WA', time: 2, memory: 3 });
    broker.publish({ type: 'case', requestId: 'req_other', case: 1, total: 3, status: 'AC', time: 1, memory: 3 });
    broker.publish({ type: 'case', requestId: R, case: 1, total: 3, status: 'AC', time: 1, memory: 3 });
    broker.publish({ type: 'final', requestId: R, result: resultFor(R) });
    await done;
    assert.deepEqual(summary(seen), ['2:WA', '1:AC', '3:AC', 'final:WA']);
    assert.equal(client.hub.listenerCount, 0, 'the listener is gone');
  });

  it('events: when the topic never brings the final event, the stored result completes the stream', async () => {
    const R = 'req_quiet';
    const seen: GatewayEvent[] = [];
    const done = (async () => {
      for await (const event of client.events(R)) seen.push(event);
    })();
    await new Promise((r) => setImmediate(r));
    broker.publish({ type: 'case', requestId: R, case: 1, total: 3, status: 'AC', time: 1, memory: 3 });
    stored.set(R, resultFor(R)); // the worker stored it; its topic messages were lost
    await done;
    assert.deepEqual(summary(seen), ['1:AC', '2:WA', '3:AC', 'final:WA']);
  });

  it('events: a late or resumed stream replays from the buffer without repeats', async () => {
    const R = 'req_late';
    client.followProgress();
    broker.publish({ type: 'case', requestId: R, case: 3, total: 3, status: 'AC', time: 3, memory: 3 });
    broker.publish({ type: 'case', requestId: R, case: 1, total: 3, status: 'AC', time: 1, memory: 3 });
    const first: GatewayEvent[] = [];
    for await (const event of client.events(R)) {
      first.push(event);
      if (first.length === 2) break;
    }
    assert.deepEqual(summary(first), ['3:AC', '1:AC']);
    broker.publish({ type: 'final', requestId: R, result: resultFor(R) });
    const rest: GatewayEvent[] = [];
    for await (const event of client.events(R, { lastEventId: first[1].id })) rest.push(event);
    assert.deepEqual(summary(rest), ['2:WA', 'final:WA']);
  });

  it('events: stops when the caller aborts', async () => {
    const abort = new AbortController();
    const seen: GatewayEvent[] = [];
    const done = (async () => {
      for await (const event of client.events('req_never', { signal: abort.signal })) seen.push(event);
    })();
    await new Promise((r) => setTimeout(r, 50));
    abort.abort();
    await done;
    assert.deepEqual(seen, []);
    assert.equal(client.hub.listenerCount, 0);
  });
});
