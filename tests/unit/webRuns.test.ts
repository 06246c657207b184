/**
 * The gateway's run service (web/src/runs/service.ts) with an in-memory store and broker: what it
 * sends, the budgets, expiry, and the topic's run events (the real broker, worker and database are
 * in tests/e2e/runs.test.ts).
 */
import assert from 'node:assert/strict';
import { RunResult, validateRunRequest } from '../../core/src/contracts';
import { HttpError } from '../../web/src/http';
import { DEFAULT_RUN_SETTINGS, RunService, runSettingsFromEnv } from '../../web/src/runs/service';
import type { RunRecord, RunStore } from '../../web/src/runs/store';

class MemoryRunStore implements RunStore {
  readonly rows = new Map<string, RunRecord>();
  async record(run: Omit<RunRecord, 'result'>) {
    this.rows.set(run.runId, { ...run });
  }
  async forget(runId: string) {
    this.rows.delete(runId);
  }
  async get(runId: string) {
    return this.rows.get(runId);
  }
  async saveResult(result: RunResult) {
    const row = this.rows.get(result.runId);
    if (!row || row.result) return false;
    row.result = result;
    return true;
  }
  async countSince(userId: string, since: Date) {
    return [...this.rows.values()].filter((r) => r.userId === userId && Date.parse(r.createdAt) >= since.getTime()).length;
  }
}

const problems = {
  list: async () => [],
  get: async (id: string) =>
    id === 'sum' ? { id, title: 'Sum', description: '', timeLimit: 1500, memoryLimit: 128, testCaseCount: 2 } : undefined,
  exists: async (id: string) => id === 'sum',
};
const body = { problemId: 'sum', language: 'python', sourceCode: 'print(input())', stdin: 'hi\n' };

function setup(opts: { failSend?: boolean; settings?: Partial<typeof DEFAULT_RUN_SETTINGS> } = {}) {
  const store = new MemoryRunStore();
  const sent: Array<{ destination: string; body: string; headers: Record<string, string> }> = [];
  let topic: ((body: string) => void) | undefined;
  let clock = Date.parse('2026-03-01T10:00:00Z');
  const service = new RunService({
    store,
    broker: {
      send: async (destination, text, headers) => {
        if (opts.failSend) throw new Error('broker down');
        sent.push({ destination, body: text, headers });
      },
      subscribe: (_destination, onMessage) => {
        topic = onMessage as (body: string) => void;
        return { unsubscribe: () => undefined };
      },
    },
    problems,
    bucket: 'grading-bucket',
    destinations: { requests: '/queue/grading-requests', progress: '/topic/grading-progress' },
    maxSourceBytes: 65536,
    settings: { ...DEFAULT_RUN_SETTINGS, ...opts.settings },
    now: () => new Date(clock),
  });
  service.follow();
  return { store, sent, service, publish: (text: string) => topic!(text), advance: (ms: number) => (clock += ms) };
}

const resultFor = (runId: string): RunResult => ({
  runId,
  status: 'OK',
  stdout: 'hi\n',
  stdoutBytes: 3,
  stdoutTruncated: false,
  stderr: '',
  exitCode: 0,
  time: 5,
  memory: 3,
  timestamp: '2026-03-01T10:00:01Z',
});

describe('gateway runs service', () => {
  it("queues a valid run request, non-persistent with an expiry, with the problem's limits", async () => {
    const { sent, service } = setup();
    const view = await service.start('alice', body, '10.0.0.1');
    assert.equal(view.state, 'pending');
    assert.equal(sent.length, 1);
    const request = JSON.parse(sent[0].body);
    assert.ok(validateRunRequest(request).ok);
    assert.deepEqual(
      {
        mode: request.mode,
        userId: request.userId,
        stdin: request.stdin,
        testCases: request.testCases,
        timeLimit: request.timeLimit,
        memoryLimit: request.memoryLimit,
      },
      {
        mode: 'run',
        userId: 'alice',
        stdin: 'hi\n',
        testCases: 's3://grading-bucket/problems/sum/testcases/',
        timeLimit: 1500,
        memoryLimit: 128,
      },
    );
    assert.equal(sent[0].destination, '/queue/grading-requests');
    assert.equal(sent[0].headers.persistent, 'false');
    assert.equal(Number(sent[0].headers.expires), Date.parse('2026-03-01T10:00:00Z') + DEFAULT_RUN_SETTINGS.queueTtlMs);
    assert.equal(sent[0].headers['correlation-id'], view.runId);
  });

  it('stores the run event from the topic and shows it to the owner only; ignores other events and unknown runs', async () => {
    const { service, publish, store } = setup();
    const { runId } = await service.start('alice', body, '10.0.0.1');
    publish(JSON.stringify({ type: 'case', requestId: 'req_1', case: 1, total: 1, status: 'AC', time: 1, memory: 1 }));
    publish(JSON.stringify({ type: 'run', runId: 'run_someone_else', result: resultFor('run_someone_else') }));
    publish(JSON.stringify({ type: 'run', runId, result: { ...resultFor(runId), status: 'XX' } }));
    assert.equal((await service.view(runId, 'alice')).state, 'pending');
    const waiting = service.view(runId, 'alice', 10);
    publish(JSON.stringify({ type: 'run', runId, result: resultFor(runId) }));
    const view = await waiting;
    assert.equal(view.state, 'finished');
    assert.equal(view.result?.stdout, 'hi\n');
    assert.equal(store.rows.size, 1);
    await assert.rejects(service.view(runId, 'mallory'), (e: HttpError) => e.status === 404);
    await assert.rejects(service.view('req_1', 'alice'), (e: HttpError) => e.status === 400);
  });

  it('reads as expired when no result came in time', async () => {
    const { service, advance } = setup();
    const { runId } = await service.start('alice', body, '10.0.0.1');
    advance(DEFAULT_RUN_SETTINGS.expireAfterMs + 1);
    const view = await service.view(runId, 'alice');
    assert.equal(view.state, 'expired');
    assert.match(view.message ?? '', /run it again/);
  });

  it('spends its own budgets: per address, per account, per account per UTC day', async () => {
    const perAddress = setup({ settings: { addressRateLimit: { capacity: 1, refillPerSecond: 0.001 } } });
    await perAddress.service.start('a', body, '10.0.0.9');
    await assert.rejects(
      perAddress.service.start('b', body, '10.0.0.9'),
      (e: HttpError) => e.status === 429 && /this address/.test(e.message),
    );
    const perUser = setup({ settings: { userRateLimit: { capacity: 1, refillPerSecond: 0.001 } } });
    await perUser.service.start('a', body, '10.0.0.1');
    await assert.rejects(
      perUser.service.start('a', body, '10.0.0.2'),
      (e: HttpError) => e.status === 429 && /your account/.test(e.message),
    );
    const daily = setup({ settings: { dailyRunsPerUser: 1 } });
    await daily.service.start('a', body, '10.0.0.1');
    await assert.rejects(
      daily.service.start('a', body, '10.0.0.1'),
      (e: HttpError) => e.status === 429 && e.headers['retry-after'] === String(14 * 3600),
    );
    daily.advance(14 * 3600 * 1000);
    assert.equal((await daily.service.start('a', body, '10.0.0.1')).state, 'pending', 'a new UTC day');
  });

  it('forgets a run whose request never reached the broker', async () => {
    const { service, store } = setup({ failSend: true });
    await assert.rejects(service.start('alice', body, '10.0.0.1'), /broker down/);
    assert.equal(store.rows.size, 0);
  });

  it('reports every bad RUN_* setting at once', () => {
    const errors: string[] = [];
    runSettingsFromEnv({ RUN_DAILY_BUDGET: '-1', RUN_QUEUE_TTL_MS: 'soon' }, errors);
    assert.deepEqual(errors, [
      'RUN_DAILY_BUDGET must be an integer 0..1000000 (got "-1")',
      'RUN_QUEUE_TTL_MS must be an integer 5000..3600000 (got "soon")',
    ]);
  });
});
