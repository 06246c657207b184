/**
 * The worker's run handler (worker/src/runs/runHandler.ts) with a recording session and a scripted
 * executor: the branches the integration test cannot reach on demand (expired in the queue, an
 * executor that stays unavailable, a message without a readable runId, a failed publish).
 */
import assert from 'node:assert/strict';
import { RunRequest, validateProgressEvent } from '../../core/src/contracts';
import type { InboundMessage } from '../../core/src/queue/stomp';
import { ExecutionReport, Executor, ExecutorUnavailableError } from '../../worker/src/executors/port';
import { handleRun, RunHandlerDeps, RunMessage } from '../../worker/src/runs/runHandler';

const request: RunRequest = {
  mode: 'run',
  runId: 'run_unit',
  userId: 'u',
  problemId: 'sum',
  language: 'python',
  source: 'print(1)',
  stdin: '',
  testCases: 's3://bucket/problems/sum/testcases/',
  timeLimit: 1000,
  memoryLimit: 64,
  timestamp: '2026-01-01T00:00:00Z',
};
const okReport: ExecutionReport = {
  compile: { ok: true, output: '', timeMs: 0 },
  runs: [
    { index: 1, outcome: { status: 'exited', exitCode: 0, signal: null, stdout: '1\n', stderr: '', timeMs: 3, wallMs: 4, memoryMb: 2.2 } },
  ],
};

function harness(execute: () => Promise<ExecutionReport>, opts: { failSend?: boolean } = {}) {
  const sent: Array<{ destination: string; body: string }> = [];
  const acked: RunMessage[] = [];
  const nacked: RunMessage[] = [];
  const deadLettered: Array<{ reason: string; detail: string }> = [];
  const metrics: string[] = [];
  let executions = 0;
  const executor: Executor = {
    name: 'scripted',
    execute: async () => {
      executions++;
      return execute();
    },
    close: async () => undefined,
  };
  const deps: RunHandlerDeps = {
    session: {
      send: async (destination, body) => {
        if (opts.failSend) throw new Error('broker gone');
        sent.push({ destination, body });
      },
      ack: async (m) => void acked.push(m),
      nack: async (m) => void nacked.push(m),
    },
    readProblem: async () => ({}),
    executor,
    log: () => undefined,
    progress: '/topic/grading-progress',
    deadLetter: async (reason, detail) => void deadLettered.push({ reason, detail }),
    executorRetryMs: 1,
    metrics: (line) => void metrics.push(line),
    environment: 'test',
  };
  const message = (body: string, headers: Record<string, string> = {}): InboundMessage => ({ body, headers, connectionId: 1 });
  return { deps, sent, acked, nacked, deadLettered, metrics, message, executions: () => executions };
}

describe('worker run handler', () => {
  it('runs a valid request once and publishes one run event', async () => {
    const h = harness(async () => okReport);
    const message = h.message(JSON.stringify(request), { expires: String(Date.now() + 60_000) });
    await handleRun(message, h.deps);
    assert.equal(h.sent.length, 1);
    const event = JSON.parse(h.sent[0].body);
    assert.ok(validateProgressEvent(event).ok);
    assert.deepEqual([event.type, event.result.status, event.result.stdout, event.result.memory], ['run', 'OK', '1\n', 3]);
    assert.deepEqual(h.acked, [message]);
    const metric = JSON.parse(h.metrics[0]);
    assert.deepEqual(
      [metric.Runs, metric.RunStatus, metric.Environment, metric._aws.CloudWatchMetrics[0].Namespace],
      [1, 'OK', 'test', 'GradingStack/Worker'],
    );
  });

  it('drops a run whose expiry passed while it waited in the queue', async () => {
    const h = harness(async () => okReport);
    await handleRun(h.message(JSON.stringify(request), { expires: String(Date.now() - 1) }), h.deps);
    assert.equal(h.executions(), 0);
    assert.equal(h.sent.length, 0);
    assert.equal(h.acked.length, 1);
  });

  it('answers IE after three tries while the executor is unavailable', async () => {
    const h = harness(async () => {
      throw new ExecutorUnavailableError('judge0 queue is full', 1);
    });
    await handleRun(h.message(JSON.stringify(request)), h.deps);
    assert.equal(h.executions(), 3);
    const event = JSON.parse(h.sent[0].body);
    assert.equal(event.result.status, 'IE');
    assert.match(event.result.message, /no executor is available/);
  });

  it('dead-letters an invalid run; without a readable runId nothing is published', async () => {
    const h = harness(async () => okReport);
    await handleRun(h.message('{"mode": "run", "runId": 42'), h.deps);
    assert.deepEqual(
      h.deadLettered.map((d) => d.reason),
      ['invalid-json'],
    );
    assert.equal(h.sent.length, 0);
    assert.equal(h.acked.length, 1);
  });

  it('hands the message back when the result cannot be published', async () => {
    const h = harness(async () => okReport, { failSend: true });
    await handleRun(h.message(JSON.stringify(request)), h.deps);
    assert.equal(h.nacked.length, 1);
    assert.equal(h.acked.length, 0);
  });
});
